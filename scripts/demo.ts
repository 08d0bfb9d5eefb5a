/**
 * `npm run demo`: three phone calls to the demo household, on this machine, with no keys. Hearth
 * runs for real (embedded Postgres, memory engine, job queue, HTTP and media-stream edges); a
 * simulated Twilio caller dials it with recorded speech; the realtime model is a SCRIPTED
 * STAND-IN (test/support/realtime-server.ts) that speaks tones, says what its script says, and
 * reads its answer to the second caller from the instructions Hearth gave it — that is, from
 * the household's memory, which the first call wrote. In the third call the agent escalates:
 * the page goes through the official Twilio SDK to a local stand-in of Twilio's REST API, and
 * the nurse acknowledges by SMS reply.
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
import { dial, type SimulatedCall, twilioSignature } from '../src/voice/simulated-caller.js';
import { startOpenAIStub } from '../test/support/openai-stub.js';
import { startRealtimeServer } from '../test/support/realtime-server.js';
import { startTwilioRestServer, type TwilioRestServer } from '../test/support/twilio-rest-server.js';

const FIXTURES = fileURLToPath(new URL('../test/fixtures/audio/', import.meta.url));
const PUBLIC_URL = 'https://hearth.demo';
const TWILIO_AUTH_TOKEN = 'demo-auth-token';
const LINE = '+15555550100';
const ADAEZE = '+15555550101';
const CHIDI = '+15555550102';
const ACCOUNT_SID = `AC${'d'.repeat(32)}`;
const PAGING_NUMBER = '+15555550199';
const NURSE = '+15555550201';

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

/** The operator's side, with the admin API alone: who is on call, the policy, and the household's rule. */
async function setUpOnCall(input: { serverUrl: string; apiKey: string; householdId: string }) {
  const api = async (method: string, path: string, body: unknown) => {
    const response = await fetch(`${input.serverUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${input.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as { id: string };
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(json)}`);
    return json;
  };
  const nurse = await api('POST', '/v1/on-call-staff', { name: 'Nurse Kim', phone: NURSE });
  const doctor = await api('POST', '/v1/on-call-staff', { name: 'Dr Ana Patel', phone: '+15555550202' });
  await api('POST', '/v1/on-call-shifts', {
    staffId: nurse.id,
    startsAt: new Date(Date.now() - 3_600_000).toISOString(),
    endsAt: new Date(Date.now() + 12 * 3_600_000).toISOString(),
  });
  await api('POST', '/v1/escalation-policies', {
    name: 'Nights',
    householdId: input.householdId,
    levels: [
      { targets: [{ onCall: true }], channels: ['sms'], ackTimeoutSeconds: 300 },
      { targets: [{ staffId: doctor.id }], channels: ['voice', 'sms'], ackTimeoutSeconds: 600 },
    ],
  });
  await api('PATCH', `/v1/households/${input.householdId}`, {
    agentSettings: { escalateWhen: 'breathing trouble at night' },
  });
  say('\n── The operator sets up escalation with the admin API ──');
  say('  on call now: Nurse Kim (SMS); if nobody acknowledges in 5 minutes: Dr Ana Patel (call and SMS)');
  say('  the household’s rule, in every call’s instructions: escalate for "breathing trouble at night"');
}

/** Waits for the first SMS Twilio's stand-in receives, then the nurse replies to it as Twilio would deliver the reply. */
async function pageAndAcknowledge(input: { twilio: TwilioRestServer; services: Services; serverUrl: string }) {
  const deadline = Date.now() + 10_000;
  while (input.twilio.requestsTo('Messages').length === 0) {
    if (Date.now() > deadline) throw new Error('No page reached the Twilio stand-in within 10 s.');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const page = input.twilio.requestsTo('Messages')[0];
  say(`\n📟 Twilio (a local stand-in of its REST API) was asked to send an SMS to ${String(page?.params.To)}:`);
  for (const line of String(page?.params.Body).split('\n')) say(`   │ ${line}`);
  const code = /ACK (\d{6})/.exec(String(page?.params.Body))?.[1] ?? '';
  const reply = { From: NURSE, To: PAGING_NUMBER, Body: `ACK ${code} On my way. If it worsens, call 999 first.` };
  say(`\n💬 Nurse Kim replies "${reply.Body}"; Twilio posts it to /twilio/sms, signed`);
  const response = await fetch(`${input.serverUrl}/twilio/sms`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilioSignature(TWILIO_AUTH_TOKEN, `${PUBLIC_URL}/twilio/sms`, reply),
    },
    body: new URLSearchParams(reply),
  });
  const answer = /<Message>(.*)<\/Message>/s.exec(await response.text())?.[1] ?? '';
  say(`   Hearth texts back: ${answer}`);
  const episode = await input.services.db.prisma.escalation.findFirstOrThrow({ orderBy: { createdAt: 'desc' } });
  say(
    `   The escalation is ${episode.status} by ${episode.acknowledgedBy} at level ${episode.level}; ` +
      `the next caller's agent will know it, and the nurse's instructions: "${episode.instructions}"`,
  );
}

async function main() {
  say('Hearth demo: three calls to one household. The realtime model is a SCRIPTED STAND-IN, not a real model;');
  say('everything else — webhooks, media streams, memory, recall, the job queue — is Hearth itself.\n');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hearth-demo-'));
  const [realtime, openai, twilio] = await Promise.all([
    startRealtimeServer({ silenceMs: 800 }),
    startOpenAIStub(),
    startTwilioRestServer({ accountSid: ACCOUNT_SID, authToken: TWILIO_AUTH_TOKEN }),
  ]);
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
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_FROM_NUMBER: PAGING_NUMBER,
    TWILIO_API_BASE_URL: twilio.url,
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

    await setUpOnCall({ serverUrl, apiKey: seed.apiKey.key, householdId: seed.householdId });
    realtime.scriptResponses([{ say: 'Hello Chidi, it’s Hearth.' }]);
    realtime.scriptUtterances({
      heard: 'It is Chidi. Mum is struggling to breathe again tonight, like last week.',
      reply: [
        { call: 'escalate', arguments: { severity: 'high', reason: 'Adaeze is struggling to breathe tonight' } },
        { say: 'I have paged Nurse Kim, who is on call. Stay with your mum; call 999 if it gets worse.' },
      ],
    });
    openai.queueChat({ text: 'Chidi called about Adaeze’s breathing; Hearth paged the nurse on call.' });
    await placeCall({
      services,
      serverUrl,
      from: CHIDI,
      who: 'Chidi',
      recording: path.join(FIXTURES, 'chidi-breathing.wav'),
    });
    await pageAndAcknowledge({ twilio, services, serverUrl });
    await server.close();
  } finally {
    await services.close();
    await Promise.all([realtime.close(), openai.close(), twilio.close()]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
