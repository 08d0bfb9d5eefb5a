/**
 * A household years into Hearth: 20 memory blocks, 50,000 recall messages (1,000 calls) and 20,000
 * archival passages.
 *
 * 1. Each memory tool as the agent calls it (`runTool`, arguments parsed, scope checked), against
 *    one database round trip (`SELECT 1` through Prisma) in the same run.
 * 2. Call set-up from outside, against `hearth serve` on that household: the voice webhook to its
 *    TwiML, against `/healthz`; and the stream's `start` frame to the session configured at the
 *    model (the call proven, memory compiled, instructions sent), against a bare WebSocket
 *    handshake with the same model stand-in, the part that is the model's and not Hearth's.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { applyMigrations, type Database, openDatabase } from '../src/db/index.js';
import { createMemoryEngine, type MemoryEngine, type SessionScope } from '../src/memory/index.js';
import {
  type CallIdentity,
  callParams,
  joinUrl,
  postSigned,
  twilioSid,
  twilioSignature,
} from '../src/voice/simulated-webhooks.js';
import { readTwiml } from '../src/voice/twiml-reader.js';
import { startOpenAIStub } from '../test/support/openai-stub.js';
import { bulkMessages, bulkPassages } from './bulk.js';
import { startEchoModel } from './calls/echo-model.js';
import {
  ADMIN,
  type BenchResult,
  hashEmbedder,
  measure,
  progress,
  type Row,
  sentence,
  silent,
  type Timing,
} from './harness.js';
import { cpuProfileArgs, startHearthServe, stopProcess } from './processes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PUBLIC_URL = 'https://hearth.bench';
const AUTH_TOKEN = 'bench-auth-token';
const LINE = '+15556000001';
const CALLER = '+15557000001';
const BLOCKS = 20;

export async function householdScaleBench(
  options: { messages?: number; passages?: number; iterations?: number } = {},
): Promise<BenchResult> {
  const messages = options.messages ?? 50_000;
  const passages = options.passages ?? 20_000;
  const iterations = options.iterations ?? 100;
  const size = `${BLOCKS} blocks, ${messages / 1000}k msgs, ${passages / 1000}k passages`;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hearth-bench-household-'));
  try {
    const db = await openDatabase({ kind: 'pglite', dataDir });
    let tools: Row[];
    try {
      const seeded = await seedHousehold(db, { messages, passages });
      progress(`household: ${iterations} runs of each memory tool at ${size}`);
      tools = await toolLatencies(db, seeded.scope, iterations);
    } finally {
      await db.close();
    }
    const setup = await callSetUp(dataDir, Math.min(iterations, 50));
    const rows = [...tools, ...setup].map((row) => ({ ...row, name: row.name.replace('%size', size) }));
    return { rows, notes: [] };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The household, its caller and line, 20 blocks with text in them, then the bulk of its history. */
async function seedHousehold(db: Database, input: { messages: number; passages: number }) {
  await applyMigrations(db);
  const memory = createMemoryEngine({ prisma: db.prisma, embedder: hashEmbedder, logger: silent });
  const { id: organizationId } = await db.prisma.organization.create({ data: { name: 'Bench care' } });
  const { householdId, memberId } = await db.prisma.$transaction(async (tx) => {
    const { id: householdId } = await tx.household.create({
      data: { organizationId, name: 'The Okafor household', timezone: 'Europe/London' },
    });
    await memory.createHouseholdBlocks({ tx, organizationId, householdId });
    await tx.phoneLine.create({ data: { organizationId, householdId, number: LINE } });
    const { id: memberId } = await tx.member.create({
      data: { organizationId, householdId, name: 'Adaeze Okafor', phone: CALLER },
    });
    await memory.createMemberBlock({ tx, organizationId, householdId, memberId });
    return { householdId, memberId };
  });
  const existing = await memory.listBlocks({ householdId });
  for (let index = existing.length; index < BLOCKS; index++) {
    await memory.createBlock({ organizationId, householdId, memberId: null, label: `notes_${index}`, source: ADMIN });
  }
  for (const block of await memory.listBlocks({ householdId })) {
    if (block.readOnly) continue;
    let value = '';
    for (let index = 0; value.length < block.charLimit * 0.5; index++) value += `${sentence(index)} `;
    const ref = { householdId, memberId: block.memberId, label: block.label };
    await memory.updateBlock({ ...ref, expectedVersion: block.version, changes: { value }, source: ADMIN });
  }
  await memory.close();
  progress(`household: writing ${input.messages} messages and ${input.passages} passages`);
  const vectorIndexes = ['messages', 'passages'];
  for (const table of vectorIndexes) await db.prisma.$executeRawUnsafe(`DROP INDEX ${table}_embedding_hnsw_idx`);
  await bulkMessages(db, { organizationId, householdId, memberId, count: input.messages });
  await bulkPassages(db, { households: [{ organizationId, householdId }], count: input.passages });
  progress('household: building the HNSW indexes');
  for (const table of vectorIndexes) {
    await db.prisma.$transaction([
      db.prisma.$executeRawUnsafe("SET LOCAL maintenance_work_mem = '1GB'"),
      db.prisma.$executeRawUnsafe(
        `CREATE INDEX ${table}_embedding_hnsw_idx ON ${table} USING hnsw (embedding vector_cosine_ops)`,
      ),
    ]);
  }
  await db.prisma.$executeRawUnsafe('ANALYZE');
  const { id: callId } = await db.prisma.call.create({
    data: { organizationId, householdId, memberId, status: 'in_progress' },
  });
  const scope: SessionScope = { organizationId, householdId, memberId, callId, callerVerified: true };
  return { scope };
}

/** Each memory tool, `iterations` times, with arguments a call would send. */
async function toolLatencies(db: Database, scope: SessionScope, iterations: number): Promise<Row[]> {
  const memory = createMemoryEngine({ prisma: db.prisma, embedder: hashEmbedder, logger: silent });
  const run = (name: string, args: object) => checked(memory, scope, name, args);
  const append: number[] = [];
  const replace: number[] = [];
  const rethink: number[] = [];
  const wall = { append: 0, replace: 0, rethink: 0 };
  // As in a call: the session has seen its memory (compiled into the instructions) before it edits it.
  await memory.compileContext({ scope });
  const household = (await memory.getBlock({ householdId: scope.householdId, memberId: null, label: 'household' }))
    .value;
  for (let index = 0; index < iterations + 10; index++) {
    const note = `Bench note ${index}: the carer comes at ${index % 12} o'clock.`;
    const timed = async (samples: number[], key: keyof typeof wall, op: () => Promise<void>) => {
      const before = performance.now();
      await op();
      const ms = performance.now() - before;
      if (index >= 10) {
        samples.push(ms);
        wall[key] += ms;
      }
    };
    await timed(append, 'append', () => run('core_memory_append', { label: 'household', content: note }));
    await timed(replace, 'replace', () =>
      run('core_memory_replace', { label: 'household', old_content: note, new_content: '' }),
    );
    await timed(rethink, 'rethink', () =>
      run('memory_rethink', { label: 'household', new_memory: index % 2 === 0 ? `${household} ` : household }),
    );
  }
  const queries = ['blood pressure tablet', 'pharmacy prescription', 'physiotherapy on Tuesday', 'boiler repair'];
  const insert = await measure({
    warmup: 10,
    iterations,
    op: (index) => run('archival_memory_insert', { content: `Bench fact ${index}: ${sentence(index)}` }),
  });
  const archivalSearch = await measure({
    warmup: 10,
    iterations,
    op: (index) => run('archival_memory_search', { query: queries[index % queries.length] }),
  });
  const conversationSearch = await measure({
    warmup: 10,
    iterations,
    op: (index) => run('conversation_search', { query: queries[index % queries.length] }),
  });
  const roundTrip = await measure({ warmup: 10, iterations, op: () => db.prisma.$queryRaw`SELECT 1` });
  await memory.close();
  const tool = (name: string, subject: Timing): Row => ({
    name: `${name}, %size (SELECT 1)`,
    subject,
    baseline: roundTrip,
  });
  return [
    tool('core_memory_append', { samples: append, wallMs: wall.append }),
    tool('core_memory_replace', { samples: replace, wallMs: wall.replace }),
    tool('memory_rethink', { samples: rethink, wallMs: wall.rethink }),
    tool('archival_memory_insert', insert),
    tool('archival_memory_search', archivalSearch),
    tool('conversation_search', conversationSearch),
  ];
}

/** Runs a tool and fails the bench if the tool did: a failure would be timed as a fast no-op. */
async function checked(memory: MemoryEngine, scope: SessionScope, name: string, args: object): Promise<void> {
  const result = await memory.runTool({ name, arguments: JSON.stringify(args), scope });
  if (!result.ok) throw new Error(`${name} failed in the bench: ${result.output}`);
}

/** Sequential calls into `hearth serve` on the seeded household: webhook → TwiML, start → session configured. */
async function callSetUp(dataDir: string, calls: number): Promise<Row[]> {
  progress('household: building dist/ if src/ changed');
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  const [echo, openai] = await Promise.all([
    startEchoModel(),
    startOpenAIStub({ fallbackChat: () => ({ text: 'A short bench call.' }) }),
  ]);
  const hearth = await startHearthServe(
    {
      HEARTH_DATA_DIR: dataDir,
      PUBLIC_URL,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      OPENAI_API_KEY: 'bench-not-a-key',
      OPENAI_BASE_URL: openai.url,
      OPENAI_REALTIME_URL: echo.url,
    },
    cpuProfileArgs(),
  );
  try {
    progress(`household: ${calls} calls set up one after another`);
    const webhook: number[] = [];
    const configured: number[] = [];
    for (let index = 0; index < calls + 5; index++) {
      const timing = await setUpOneCall(hearth.url, echo);
      if (index >= 5) {
        webhook.push(timing.webhookMs);
        configured.push(timing.configuredMs);
      }
    }
    const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
    const healthz = await measure({
      warmup: 5,
      iterations: calls,
      op: () => fetch(`${hearth.url}/healthz`).then((response) => response.arrayBuffer()),
    });
    const handshake = await measure({ warmup: 5, iterations: calls, op: () => modelHandshake(echo.url) });
    return [
      {
        name: 'call set-up: webhook -> TwiML, %size (/healthz)',
        subject: { samples: webhook, wallMs: sum(webhook) },
        baseline: healthz,
      },
      {
        name: 'call set-up: start -> session configured, %size (model handshake)',
        subject: { samples: configured, wallMs: sum(configured) },
        baseline: handshake,
      },
    ];
  } finally {
    await stopProcess(hearth.child);
    await Promise.all([echo.close(), openai.close()]);
  }
}

/** One call as Twilio makes it, timed to its TwiML and to its session's first `session.update`; then hung up. */
async function setUpOneCall(serverUrl: string, echo: Awaited<ReturnType<typeof startEchoModel>>) {
  const identity: CallIdentity = {
    serverUrl,
    publicUrl: PUBLIC_URL,
    authToken: AUTH_TOKEN,
    to: LINE,
    from: CALLER,
    callSid: twilioSid('CA'),
    accountSid: twilioSid('AC'),
  };
  const asked = performance.now();
  const answer = await postSigned(identity, '/twilio/voice', callParams(identity, 'ringing'));
  const webhookMs = performance.now() - asked;
  const twiml = readTwiml(answer.body);
  if (answer.status !== 200 || twiml.kind !== 'stream') {
    throw new Error(`the call was not connected: HTTP ${answer.status} ${answer.body.slice(0, 200)}`);
  }
  const socket = new WebSocket(joinUrl(serverUrl.replace(/^http/, 'ws'), new URL(twiml.url).pathname), {
    headers: { 'x-twilio-signature': twilioSignature(AUTH_TOKEN, twiml.url, {}) },
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const streamSid = twilioSid('MZ');
  const updated = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no session.update within 10 s')), 10_000);
    const stop = echo.onSessionUpdate((at) => {
      clearTimeout(timer);
      stop();
      resolve(at);
    });
  });
  let sequence = 0;
  const send = (frame: object) => socket.send(JSON.stringify({ ...frame, sequenceNumber: String(++sequence) }));
  send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
  const started = performance.now();
  send({
    event: 'start',
    streamSid,
    start: {
      accountSid: identity.accountSid,
      streamSid,
      callSid: identity.callSid,
      tracks: ['inbound'],
      customParameters: twiml.parameters,
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
    },
  });
  const configuredMs = (await updated) - started;
  send({ event: 'stop', streamSid, stop: { accountSid: identity.accountSid, callSid: identity.callSid } });
  await new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.close();
  });
  return { webhookMs, configuredMs };
}

/** What the model's side of set-up costs on its own: a WebSocket opened and its `session.created` read. */
async function modelHandshake(url: string): Promise<void> {
  const socket = new WebSocket(url, { headers: { authorization: 'Bearer bench', 'x-request': randomUUID() } });
  await new Promise<void>((resolve, reject) => {
    socket.once('message', () => resolve());
    socket.once('error', reject);
  });
  socket.close();
}
