/**
 * Concurrent calls through one Hearth process (`hearth serve`, compiled, its own process), against
 * a bare relay doing the same forwarding in the same run. N simulated calls each send 50 frames/s
 * and receive 50 frames/s from a realtime stand-in that echoes audio back, with a transcript line
 * each way every 3 s and a memory tool call (`conversation_search`) every 30 s. Callers and the
 * stand-in share this process and its clock: each frame carries its send time.
 *
 * Per N and per bridge: frames dropped, added latency per frame (caller → model and model →
 * caller, p50 and p99), CPU per call (the bridge process's user + system time over the window,
 * from /proc) and memory per call (its resident set during the calls, minus before them).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyMigrations, openDatabase } from '../src/db/index.js';
import { createMemoryEngine } from '../src/memory/index.js';
import { startOpenAIStub } from '../test/support/openai-stub.js';
import { dialCallers } from './calls/callers.js';
import { startEchoModel } from './calls/echo-model.js';
import { type BenchResult, hashEmbedder, progress, silent } from './harness.js';
import { cpuProfileArgs, startHearthServe, startProcess, stopProcess } from './processes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PUBLIC_URL = 'https://hearth.bench';
const AUTH_TOKEN = 'bench-auth-token';
/** Calls per household: within the largest `maxConcurrentCalls` a household may set. */
const CALLS_PER_HOUSEHOLD = 100;
const CLOCK_TICKS_PER_SECOND = 100;

const line = (household: number) => `+1555600${String(household).padStart(4, '0')}`;
const callerNumber = (index: number) => `+1555700${String(index).padStart(4, '0')}`;

/** Households of up to 100 members, each with its own line; member `i` calls `line(i / 100)`. */
async function seedHouseholds(dataDir: string, calls: number): Promise<void> {
  const db = await openDatabase({ kind: 'pglite', dataDir });
  try {
    await applyMigrations(db);
    const memory = createMemoryEngine({ prisma: db.prisma, embedder: hashEmbedder, logger: silent });
    const { id: organizationId } = await db.prisma.organization.create({ data: { name: 'Bench care' } });
    for (let household = 0; household * CALLS_PER_HOUSEHOLD < calls; household++) {
      await db.prisma.$transaction(async (tx) => {
        const { id: householdId } = await tx.household.create({
          data: { organizationId, name: `Household ${household}`, agentSettings: { maxConcurrentCalls: 100 } },
        });
        await memory.createHouseholdBlocks({ tx, organizationId, householdId });
        await tx.phoneLine.create({ data: { organizationId, householdId, number: line(household) } });
        const first = household * CALLS_PER_HOUSEHOLD;
        for (let index = first; index < Math.min(calls, first + CALLS_PER_HOUSEHOLD); index++) {
          const { id: memberId } = await tx.member.create({
            data: { organizationId, householdId, name: `Caller ${index}`, phone: callerNumber(index) },
          });
          await memory.createMemberBlock({ tx, organizationId, householdId, memberId });
        }
      });
    }
    await memory.close();
  } finally {
    await db.close();
  }
}

/** CPU seconds (user + system) the process has used. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Resident memory in MB. */
function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

function percentile(values: number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
}

export interface CallsFigures {
  bridge: 'hearth' | 'relay';
  calls: number;
  /** Calls that could not be connected at all. */
  callsFailed: number;
  framesDropped: number;
  framesPerCallPerSecond: number;
  inP50Ms: number;
  inP99Ms: number;
  outP50Ms: number;
  outP99Ms: number;
  cpuMsPerCallPerSecond: number;
  memoryMbPerCall: number;
  toolCallsAnswered: number;
}

/** N calls through one bridge for `seconds` of steady state. */
async function runCalls(input: {
  bridge: CallsFigures['bridge'];
  pid: number;
  url: string;
  echo: Awaited<ReturnType<typeof startEchoModel>>;
  calls: number;
  seconds: number;
}): Promise<CallsFigures> {
  const { echo, pid } = input;
  const idleMb = rssMb(pid);
  const callers = await dialCallers({
    serverUrl: input.url,
    publicUrl: PUBLIC_URL,
    authToken: AUTH_TOKEN,
    to: (index) => line(Math.floor(index / CALLS_PER_HOUSEHOLD)),
    from: callerNumber,
    count: input.calls,
  });
  const connected = input.calls - callers.failed.count;
  if (callers.failed.count > 0) {
    progress(`calls: ${callers.failed.count} of ${input.calls} calls did not connect: ${callers.failed.firstReason}`);
  }
  callers.start();
  await new Promise((resolve) => setTimeout(resolve, 2_000)); // warm-up: sessions configured, audio flowing
  echo.reset();
  callers.reset();
  const cpuBefore = cpuSeconds(pid);
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, input.seconds * 1000));
  const cpu = cpuSeconds(pid) - cpuBefore;
  const elapsed = (performance.now() - started) / 1000;
  const memoryMb = rssMb(pid) - idleMb;
  callers.stop();
  await new Promise((resolve) => setTimeout(resolve, 500)); // frames in flight arrive
  const sent = callers.stats.framesSent;
  const dropped = Math.max(0, sent - echo.framesIn()) + Math.max(0, echo.framesOut() - callers.stats.framesReceived);
  const figures: CallsFigures = {
    bridge: input.bridge,
    calls: input.calls,
    callsFailed: callers.failed.count,
    framesDropped: dropped,
    framesPerCallPerSecond: sent / Math.max(1, connected) / elapsed,
    inP50Ms: percentile(echo.inLatencies, 0.5),
    inP99Ms: percentile(echo.inLatencies, 0.99),
    outP50Ms: percentile(callers.stats.outLatencies, 0.5),
    outP99Ms: percentile(callers.stats.outLatencies, 0.99),
    cpuMsPerCallPerSecond: (cpu * 1000) / Math.max(1, connected) / elapsed,
    memoryMbPerCall: memoryMb / Math.max(1, connected),
    toolCallsAnswered: echo.toolOutputs(),
  };
  await callers.hangUp();
  // Let the bridge end its calls (Hearth saves them and queues consolidation) before the next run.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  return figures;
}

const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : '—');

/** The table: each Hearth figure next to the relay's at the same N, with their ratio or difference. */
export function callsTable(figures: CallsFigures[]): string[] {
  const header = [
    'calls',
    'bridge',
    'not connected',
    'dropped',
    'in p50 ms',
    'in p99 ms',
    'out p50 ms',
    'out p99 ms',
    'CPU ms/call/s',
    'MB/call',
    'tool calls',
  ];
  const rows = figures.map((row) => [
    String(row.calls),
    row.bridge,
    String(row.callsFailed),
    String(row.framesDropped),
    fixed(row.inP50Ms),
    fixed(row.inP99Ms),
    fixed(row.outP50Ms),
    fixed(row.outP99Ms),
    fixed(row.cpuMsPerCallPerSecond, 3),
    fixed(row.memoryMbPerCall, 3),
    String(row.toolCallsAnswered),
  ]);
  const ratios = [...new Set(figures.map((row) => row.calls))].flatMap((calls) => {
    const hearth = figures.find((row) => row.calls === calls && row.bridge === 'hearth');
    const relay = figures.find((row) => row.calls === calls && row.bridge === 'relay');
    if (!hearth || !relay) return [];
    return [
      `N=${calls}: CPU per call ${fixed(hearth.cpuMsPerCallPerSecond / relay.cpuMsPerCallPerSecond)}x the relay's; ` +
        `p99 in ${fixed(hearth.inP99Ms - relay.inP99Ms)} ms and out ${fixed(hearth.outP99Ms - relay.outP99Ms)} ms ` +
        `over the relay's; ${hearth.framesDropped} frames dropped`,
    ];
  });
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column]!.length)));
  const format = (cells: string[]) =>
    cells
      .map((cell, column) => (column <= 1 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ');
  return [format(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(format), '', ...ratios];
}

/** The concurrent-calls section: `counts` of calls, each through the relay and through Hearth. */
export async function concurrentCallsBench(
  options: { counts?: number[]; seconds?: number } = {},
): Promise<BenchResult & { calls: CallsFigures[] }> {
  const counts = options.counts ?? [50, 200, 500];
  const seconds = options.seconds ?? 10;
  progress('calls: building dist/ if src/ changed');
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hearth-bench-calls-'));
  const [echo, openai] = await Promise.all([
    startEchoModel(),
    startOpenAIStub({ fallbackChat: () => ({ text: 'A bench call about the weather.' }) }),
  ]);
  const figures: CallsFigures[] = [];
  try {
    progress(`calls: seeding ${Math.max(...counts)} callers in ${Math.ceil(Math.max(...counts) / 100)} households`);
    await seedHouseholds(dataDir, Math.max(...counts));
    const { DATABASE_URL: _url, ...env } = process.env;
    const hearth = await startHearthServe(
      {
        HEARTH_DATA_DIR: dataDir,
        PUBLIC_URL,
        TWILIO_AUTH_TOKEN: AUTH_TOKEN,
        OPENAI_API_KEY: 'bench-not-a-key',
        OPENAI_BASE_URL: openai.url,
        OPENAI_REALTIME_URL: echo.url,
        HEARTH_MAX_CONCURRENT_CALLS: '100',
      },
      cpuProfileArgs(),
    );
    const relay = await startProcess(
      ['--import', 'tsx', path.join(ROOT, 'bench', 'calls', 'relay.ts')],
      { ...env, RELAY_MODEL_URL: echo.url, RELAY_PUBLIC_URL: PUBLIC_URL },
      (output) => {
        const port = /\{"port":(\d+)\}/.exec(output)?.[1];
        return port ? `http://127.0.0.1:${port}` : undefined;
      },
    );
    try {
      for (const calls of counts) {
        for (const [bridge, target] of [
          ['relay', relay],
          ['hearth', hearth],
        ] as const) {
          progress(`calls: ${calls} calls through the ${bridge} for ${seconds} s`);
          const pid = target.child.pid;
          if (pid === undefined) throw new Error(`the ${bridge} has no pid`);
          figures.push(await runCalls({ bridge, pid, url: target.url, echo, calls, seconds }));
        }
      }
    } finally {
      await Promise.all([stopProcess(hearth.child), stopProcess(relay.child)]);
    }
  } finally {
    await Promise.all([echo.close(), openai.close()]);
    rmSync(dataDir, { recursive: true, force: true });
  }
  return {
    rows: [],
    notes: ['Concurrent calls (one Hearth process vs a bare relay):', ...callsTable(figures)],
    calls: figures,
  };
}
