/** Benchmark 4: core_memory_append on one block from parallel tasks, with the compare-and-swap retries counted. */
import type { MemoryEngine } from '../src/memory/index.js';
import { ADMIN, type BenchResult, openHousehold, opsPerSecond, progress, sentence, type Timing } from './harness.js';

const TASKS = 8;
const APPENDS_PER_TASK = 25;
const APPENDS = TASKS * APPENDS_PER_TASK;

/** 8 tasks × 25 appends on one engine (its mutex queues them) and on 8 engines (only CAS), vs one after another. */
export async function contentionBench(): Promise<BenchResult> {
  const { db, memory, scope, newEngine, close } = await openHousehold();
  // As 8 app instances: each has its own per-block mutex, so only the version check orders them.
  const instances = Array.from({ length: TASKS }, newEngine);
  try {
    const ref = { householdId: scope.householdId, memberId: null, label: 'notes' };
    await memory.createBlock({ organizationId: scope.organizationId, ...ref, charLimit: 20_000, source: ADMIN });
    // Counts CAS attempts: a statement trigger fires even when `WHERE version = $v` matches no row.
    await db.pglite!.exec(`
      CREATE SEQUENCE bench_updates;
      CREATE FUNCTION bench_count() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN PERFORM nextval('bench_updates'); RETURN NULL; END $$;
      CREATE TRIGGER bench_count AFTER UPDATE ON memory_blocks FOR EACH STATEMENT EXECUTE FUNCTION bench_count();`);
    const updates = async () =>
      Number((await db.prisma.$queryRaw<Array<{ n: bigint }>>`SELECT nextval('bench_updates') AS n`)[0]!.n);

    /** Empties the block, then runs the appends; task t uses engine t mod engines.length. */
    async function round(engines: MemoryEngine[], parallel: boolean) {
      const { version } = await memory.getBlock(ref);
      await memory.updateBlock({ ...ref, expectedVersion: version, changes: { value: '' }, source: ADMIN });
      const samples: number[] = [];
      let refused = 0;
      const task = async (taskIndex: number) => {
        for (let index = 0; index < APPENDS_PER_TASK; index++) {
          const content = `task ${taskIndex}: ${sentence(index)}`;
          const start = performance.now();
          const engine = engines[taskIndex % engines.length]!;
          const result = await engine.runTool({
            name: 'core_memory_append',
            arguments: { label: 'notes', content },
            scope,
          });
          samples.push(performance.now() - start);
          if (!result.ok) refused++;
        }
      };
      const before = await updates();
      const start = performance.now();
      const tasks = Array.from({ length: TASKS }, (_, taskIndex) => taskIndex);
      if (parallel) await Promise.all(tasks.map(task));
      else for (const taskIndex of tasks) await task(taskIndex);
      const timing: Timing = { samples, wallMs: performance.now() - start };
      // Every UPDATE statement but the successful ones (and our own nextval probe) lost a race.
      return { timing, refused, retries: (await updates()) - before - 1 - (APPENDS - refused) };
    }

    const runs: Array<[string, MemoryEngine[], boolean]> = [
      ['sequential', [memory], false],
      [`${TASKS} tasks, 1 engine`, [memory], true],
      [`${TASKS} tasks, ${TASKS} engines`, instances, true],
    ];
    const results = [];
    for (const [label, engines, parallel] of runs) {
      progress(`contention: ${APPENDS} core_memory_append, ${label} (after a warm-up round)`);
      await round(engines, parallel);
      results.push({ label, ...(await round(engines, parallel)) });
    }
    const [sequential, ...parallelRuns] = results;
    return {
      rows: parallelRuns.map(({ label, timing }) => ({
        name: `core_memory_append ${label} (sequential)`,
        subject: timing,
        baseline: sequential!.timing,
      })),
      notes: results.map(
        ({ label, timing, retries, refused }) =>
          `contention, ${label}: ${opsPerSecond(timing).toFixed(0)} appends/s, ` +
          `slowest ${Math.max(...timing.samples).toFixed(0)} ms, ${retries} CAS retries, ${refused} refused`,
      ),
    };
  } finally {
    await Promise.all(instances.map((engine) => engine.close()));
    await close();
  }
}
