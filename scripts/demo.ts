/**
 * `npm run demo`: two phone calls to the demo household, on this machine, with no keys. Hearth
 * runs for real (embedded Postgres, memory engine, job queue, HTTP and media-stream edges); a
 * simulated Twilio caller dials it with recorded speech; the realtime model is a SCRIPTED
 * STAND-IN (test/support/realtime-server.ts) that speaks tones, says what its script says, and
 * reads its answer to the second caller from the instructions Hearth gave it — that is, from
 * the household's memory, which the first call wrote.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { seedDemo } from '../src/admin/index.js';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/logger.js';
import { createServer } from '../src/server.js';
import { openServices, type Services } from '../src/services.js';
import { dial, type SimulatedCall } from '../src/voice/simulated-caller.js';
import { startOpenAIStub } from '../test/support/openai-stub.js';
import { startRealtimeServer } from '../test/support/realtime-server.js';

const FIXTURES = fileURLToPath(new URL('../test/fixtures/audio/', import.meta.url));
const PUBLIC_URL = 'https://hearth.demo';
const TWILIO_AUTH_TOKEN = 'demo-auth-token';
const LINE = '+15555550100';
const ADAEZE = '+15555550101';
const CHIDI = '+15555550102';

const say = (text = '') => process.stdout.write(`${text}\n`);

async function printMemory(services: Services, householdId: string, title: string) {
  say(`\n── ${title} ──`);
  const members = await services.db.prisma.member.findMany({
    where: { householdId },
    select: { id: true, name: true },
  });
  const owner = new Map(members.map((member) => [member.id, ` (${member.name}’s)`]));
  for (const block of await services.memory.listBlocks({ householdId })) {
    const whose = block.memberId ? (owner.get(block.memberId) ?? '') : ' (shared)';
    say(`  [${block.label}${whose}] ${block.value.replaceAll('\n', ' ') || '(empty)'}`);
  }
}

/** Places a call, speaks the recording, prints the transcript as Hearth writes it, and hangs up. */
async function placeCall(input: {
  services: Services;
  serverUrl: string;
  from: string;
  who: string;
  recording: string;
}) {
  const { services } = input;
  say(`\n☎  ${input.who} calls ${LINE} (a simulated Twilio call: signed webhook, 20 ms μ-law frames)`);
  const answer = await dial({
    serverUrl: input.serverUrl,
    publicUrl: PUBLIC_URL,
    authToken: TWILIO_AUTH_TOKEN,
    to: LINE,
    from: input.from,
  });
  if (answer.kind !== 'connected') throw new Error(`The call was not connected: ${JSON.stringify(answer)}`);
  const call: SimulatedCall = answer.call;
  const row = await services.db.prisma.call.findUniqueOrThrow({ where: { twilioCallSid: call.callSid } });
  let printed = 0;
  const printNew = async () => {
    const lines = await services.memory.transcript({ householdId: row.householdId, callId: row.id });
    for (const line of lines.slice(printed)) {
      const speaker = { user: input.who, assistant: 'Hearth', tool: '  tool', system: '  note' }[line.role];
      say(`   ${speaker}: ${line.role === 'tool' ? `${line.toolName} → ${line.content}` : line.content}`);
    }
    printed = lines.length;
  };
  const ticker = setInterval(() => void printNew(), 200);
  try {
    await call.waitForReply(); // the greeting
    await call.sendWavFile(input.recording);
    await call.waitForReply();
    await call.hangUp();
    await new Promise((resolve) => setTimeout(resolve, 500));
  } finally {
    clearInterval(ticker);
    await printNew();
  }
  say(`   (${input.who} hangs up; the call is saved and queued for consolidation)`);
}

async function main() {
  say('Hearth demo: two calls to one household. The realtime model is a SCRIPTED STAND-IN, not a real model;');
  say('everything else — webhooks, media streams, memory, recall, the job queue — is Hearth itself.\n');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hearth-demo-'));
  const [realtime, openai] = await Promise.all([startRealtimeServer({ silenceMs: 800 }), startOpenAIStub()]);
  const config = loadConfig({
    ...process.env,
    HEARTH_DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
    PUBLIC_URL,
    TWILIO_AUTH_TOKEN,
    // The stand-ins: nothing leaves this machine.
    OPENAI_API_KEY: 'demo-not-a-real-key',
    OPENAI_BASE_URL: openai.url,
    OPENAI_REALTIME_URL: realtime.url,
  });
  say('Starting Hearth on an embedded database…');
  const services = await openServices({ config, logger: createLogger(config) });
  try {
    await services.start();
    const seed = await seedDemo({ prisma: services.db.prisma, memory: services.memory });
    const server = createServer(services);
    const serverUrl = await server.listen();
    server.setReady(true);
    await printMemory(services, seed.householdId, 'The household’s memory before the calls');

    // What each call's "model" does. It cannot hear; the script says what each caller said.
    realtime.scriptResponses([{ say: 'Hello Adaeze, it’s Hearth. How can I help?' }]);
    realtime.scriptUtterances({
      heard: 'Hello, it’s Adaeze. Please remember that my physiotherapy is on Tuesdays at ten.',
      reply: [
        {
          call: 'core_memory_append',
          arguments: { label: 'household', content: 'Adaeze has physiotherapy on Tuesdays at 10am.' },
        },
        { say: 'I’ve made a note: physiotherapy on Tuesdays at ten.' },
      ],
    });
    openai.queueChat({ text: 'Adaeze asked Hearth to remember her physiotherapy is on Tuesdays at 10am.' });
    await placeCall({
      services,
      serverUrl,
      from: ADAEZE,
      who: 'Adaeze',
      recording: path.join(FIXTURES, 'adaeze-physio-reminder.wav'),
    });

    realtime.scriptResponses([{ say: 'Hello Chidi, it’s Hearth.' }]);
    realtime.scriptUtterances({
      heard: 'Hi, this is Chidi. When is mum’s physio?',
      reply: [{ sayFromInstructions: 'physiotherapy', otherwise: 'I’m afraid I don’t know that yet.' }],
    });
    openai.queueChat({ text: 'Chidi asked when his mother’s physiotherapy is; Hearth told him.' });
    await placeCall({
      services,
      serverUrl,
      from: CHIDI,
      who: 'Chidi',
      recording: path.join(FIXTURES, 'chidi-asks-physio.wav'),
    });
    say('\nThe stand-in answered Chidi from its instructions: Hearth put what Adaeze said there.');
    await printMemory(services, seed.householdId, 'The household’s memory after the calls');
    await server.close();
  } finally {
    await services.close();
    await Promise.all([realtime.close(), openai.close()]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
