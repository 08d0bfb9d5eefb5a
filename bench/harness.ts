/** The bench harness: a fresh engine on a fresh database, seed text, a timer, statistics and the results table. */
import { createHash } from 'node:crypto';
import { applyMigrations, openDatabase } from '../src/db/index.js';
import { createLogger } from '../src/logger.js';
import { createMemoryEngine, type Embedder, type SessionScope } from '../src/memory/index.js';
import type { CallsFigures } from './calls.js';

/** Logs would swamp the figures; the bench prints its own progress. */
export const silent = createLogger({ LOG_LEVEL: 'silent', LOG_FORMAT: 'json' });

/** Unit vectors from a hash of the text (as test/memory/helpers.ts): deterministic, free, not semantic. */
export const hashEmbedder: Embedder = {
  model: 'bench-hash-embedder',
  dimensions: 512,
  async embed(texts) {
    return texts.map((text) => {
      const bytes = createHash('sha512').update(text).digest();
      const values = Array.from({ length: 512 }, (_, index) => (bytes[index % 64]! - 127.5) * ((index % 7) + 1));
      const norm = Math.hypot(...values);
      return values.map((value) => value / norm);
    });
  },
};

/**
 * A fresh migrated PGlite, an engine over it, and one household seeded through the engine (two
 * members, a call); `newEngine` builds another engine on the same database, as another app instance would.
 */
export async function openHousehold() {
  const db = await openDatabase({ kind: 'pglite' });
  await applyMigrations(db);
  const newEngine = () => createMemoryEngine({ prisma: db.prisma, embedder: hashEmbedder, logger: silent });
  const memory = newEngine();
  const { scope, chidi } = await db.prisma.$transaction(async (tx) => {
    const { id: organizationId } = await tx.organization.create({ data: { name: 'Bench org' } });
    const { id: householdId } = await tx.household.create({
      data: { organizationId, name: 'The Okafor household', timezone: 'Europe/London' },
    });
    await memory.createHouseholdBlocks({ tx, organizationId, householdId });
    const [nana, chidi] = await Promise.all(
      ['Adaeze Okafor', 'Chidi Okafor'].map(async (name) => {
        const { id: memberId } = await tx.member.create({ data: { organizationId, householdId, name } });
        await memory.createMemberBlock({ tx, organizationId, householdId, memberId });
        return memberId;
      }),
    );
    const { id: callId } = await tx.call.create({ data: { organizationId, householdId, memberId: nana! } });
    const scope: SessionScope = { organizationId, householdId, memberId: nana!, callId, callerVerified: true };
    return { scope, chidi: chidi! };
  });
  const close = async () => {
    await memory.close();
    await db.close();
  };
  return { db, memory, scope, chidi, newEngine, close };
}

const WHO = ['Nana', 'Chidi', 'The doctor', 'Auntie Ngozi', 'The carer', 'Biscuit the dog'];
const DID = [
  'took the blood pressure tablet',
  'went to the pharmacy for a prescription',
  'walked in the park',
  'booked a doctor appointment',
  'came for Sunday lunch',
  'called about the boiler repair',
  'lost her glasses',
];
const WHEN = ['this morning', 'on Tuesday', 'after lunch', 'at 9am', 'last weekend', 'before bed', 'yesterday'];

/** A deterministic household sentence; 294 distinct ones before they repeat. */
export const sentence = (index: number) => `${WHO[index % 6]} ${DID[index % 7]} ${WHEN[Math.floor(index / 42) % 7]}.`;
/** Who operator edits made in the bench are recorded as. */
export const ADMIN = { source: 'admin' as const, detail: 'bench' };

/** Per-operation times (ms) and the wall time of the measured loop. */
export type Timing = { samples: number[]; wallMs: number };

/** Runs `op` `warmup` times untimed, then `iterations` times timed, one after another. */
export async function measure(input: {
  warmup: number;
  iterations: number;
  op: (index: number) => Promise<unknown>;
}): Promise<Timing> {
  for (let index = 0; index < input.warmup; index++) await input.op(index);
  const samples: number[] = [];
  const start = performance.now();
  for (let index = 0; index < input.iterations; index++) {
    const before = performance.now();
    await input.op(input.warmup + index);
    samples.push(performance.now() - before);
  }
  return { samples, wallMs: performance.now() - start };
}

/** One line of the results table: the measured path and its baseline from the same run. */
export type Row = { name: string; subject: Timing; baseline: Timing };

/** What a benchmark hands back: its table rows and any figures that do not fit the table. */
export type BenchResult = { rows: Row[]; notes: string[]; calls?: CallsFigures[] };

/** The `fraction` quantile of the samples (nearest rank). */
export function quantile({ samples }: Timing, fraction: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
}

/** ops/s over the measured wall time (for parallel runs, not 1000 / median). */
export const opsPerSecond = (timing: Timing) => (timing.samples.length / timing.wallMs) * 1000;

/** One row's figures, as the table shows them and the JSON report keeps them. */
export function rowFigures({ name, subject, baseline }: Row) {
  return {
    name,
    iterations: subject.samples.length,
    medianMs: quantile(subject, 0.5),
    p95Ms: quantile(subject, 0.95),
    opsPerSecond: opsPerSecond(subject),
    baselineMedianMs: quantile(baseline, 0.5),
    ratio: quantile(subject, 0.5) / quantile(baseline, 0.5),
  };
}

/** The table's lines: median and p95 per operation, throughput, and the ratio of medians to the baseline's. */
export function tableLines(rows: Row[]): string[] {
  const header = ['benchmark (baseline)', 'iter', 'median ms', 'p95 ms', 'ops/s', 'base median ms', 'ratio'];
  const lines = rows
    .map(rowFigures)
    .map((row) => [
      row.name,
      String(row.iterations),
      row.medianMs.toFixed(2),
      row.p95Ms.toFixed(2),
      row.opsPerSecond.toFixed(0),
      row.baselineMedianMs.toFixed(2),
      `${row.ratio.toFixed(2)}x`,
    ]);
  const widths = header.map((cell, column) => Math.max(cell.length, ...lines.map((line) => line[column]!.length)));
  const format = (cells: string[]) =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)));
  return [header, widths.map((width) => '-'.repeat(width)), ...lines].map((line) => format(line).join('  '));
}

/** A progress line on stderr, so the table on stdout stays clean. */
export function progress(message: string): void {
  process.stderr.write(`· ${message}\n`);
}
