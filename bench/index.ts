/**
 * `npm run bench`: Hearth's hot paths, each timed against a baseline measured in the same run
 * on the same fresh, migrated PGlite, so the ratio shows what Hearth adds rather than how fast
 * this machine is today. Embeddings come from a hash (free), not the local model, whose cost
 * would swamp everything else.
 *
 * 1. compileContext for a caller with five filled blocks, vs one `memoryBlock.findMany` of the
 *    rows it renders: the floor for any compiler is fetching its rows, so the ratio is what the
 *    other reads (household, member, counts) and the rendering cost on top.
 * 2. appendMessage (the row, its tsvector trigger, the background embedding, with the final
 *    `flush()` in ops/s), vs `message.create` of the same rows: the cheapest possible write.
 * 3. searchRecall over 2,000 messages (full text + vectors, fused by RRF), vs its full-text half
 *    alone as one ts_rank query: what the vector half and the fusion cost. Measured again after
 *    ANALYZE, since PGlite never runs autovacuum and the planner's choice depends on it.
 * 4. core_memory_append on one block from 8 parallel tasks (one engine: its per-block mutex
 *    queues them; 8 engines, as 8 app instances: only compare-and-swap orders them, and losers
 *    retry), vs the same appends one after another: the price of contention.
 * 5. One agent turn (a tool call, then a reply) against the OpenAI stand-in, vs the same two
 *    requests replayed with the openai SDK: Hearth's own overhead per turn.
 * 6. Start-up: the real `hearth` commands (`--help`, `migrate`, `org create`, `serve` until
 *    `/readyz` answers 200), each a new process, vs `node -e 0`.
 *
 * 7. Admin API throughput: authenticated block reads, passage search and block writes from 10
 *    keep-alive clients against a `hearth serve` process, vs `/healthz` on it (bench/admin.ts).
 * 8. Concurrent calls: N simulated phone calls (50 frames/s each way, transcripts, tool calls)
 *    through one `hearth serve` process, vs a bare relay doing the same forwarding
 *    (bench/calls.ts), for N = 50, 200 and 500.
 * 9. A household at scale (20 blocks, 50k messages, 20k passages): each memory tool vs a database
 *    round trip, and call set-up from outside (webhook -> TwiML vs /healthz, stream start ->
 *    session configured vs the model's own handshake) (bench/household.ts).
 * 10. Archival search over 1,000 households at 10k and 100k passages (1M on BENCH_DATABASE_URL):
 *    the HNSW path vs an exact scan, with recall@10, and the hybrid search (bench/archival.ts).
 *
 * `npm run bench -- startup memory` runs only the sections named (context, recall, search,
 * contention, agent, household, archival, startup, admin, calls); `--quick` (a smoke run, under
 * two minutes) runs each start-up command once, the admin routes for 2 s over 100 passages,
 * calls at N = 50 only, and the household and archival sections at small sizes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminThroughputBench } from './admin.js';
import { agentTurnBench } from './agent.js';
import { archivalScaleBench } from './archival.js';
import { concurrentCallsBench } from './calls.js';
import { contentionBench } from './contention.js';
import { type BenchResult, progress, rowFigures, tableLines } from './harness.js';
import { householdScaleBench } from './household.js';
import { appendMessageBench, compileContextBench, recallSearchBench } from './memory.js';
import { startupBench } from './startup.js';

const BENCHES = {
  context: compileContextBench,
  recall: appendMessageBench,
  search: recallSearchBench,
  contention: contentionBench,
  agent: agentTurnBench,
  household: () => householdScaleBench(quick ? { messages: 1000, passages: 500, iterations: 10 } : {}),
  archival: () => archivalScaleBench(quick ? { sizes: [1000] } : {}),
  startup: () => startupBench({ quick }),
  admin: () => adminThroughputBench(quick ? { seconds: 2, passages: 100 } : {}),
  calls: () => concurrentCallsBench(quick ? { counts: [50], seconds: 4 } : {}),
};

const quick = process.argv.includes('--quick');
const asked = process.argv.slice(2).filter((arg) => arg !== '--quick');
const unknown = asked.filter((name) => !(name in BENCHES));
if (unknown.length > 0) {
  console.error(`Unknown bench ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}.`);
  process.exit(2);
}
const benches = Object.entries(BENCHES)
  .filter(([name]) => asked.length === 0 || asked.includes(name))
  .map(([, bench]) => bench);

const started = performance.now();
const results: BenchResult[] = [];
for (const bench of benches) results.push(await bench());
progress(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
const rows = results.flatMap((result) => result.rows);
const table = rows.length > 0 ? tableLines(rows) : [];
const notes = results.flatMap((result) => result.notes);
console.log();
for (const line of [...table, '', ...notes]) console.log(line);

// A full run (every section, not --quick) is kept: JSON for tools, Markdown for people.
if (asked.length === 0 && !quick) {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGb: os.totalmem() / 2 ** 30,
    node: process.version,
  };
  const report = {
    date: new Date().toISOString(),
    machine,
    rows: rows.map(rowFigures),
    calls: results.flatMap((result) => result.calls ?? []),
    notes,
  };
  writeFileSync(path.join(dir, `${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
  const markdown = [
    `# npm run bench, ${report.date}`,
    '',
    `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb.toFixed(0)} GiB, Node ${machine.node}.`,
    '',
    '```',
    ...table,
    '```',
    '',
    '```',
    ...notes,
    '```',
    '',
  ].join('\n');
  writeFileSync(path.join(dir, `${stamp}.md`), markdown);
  progress(`wrote bench/results/${stamp}.json and .md`);
}
