import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest (they start `hearth` processes, pace real-time audio or wait on
 * job retries), longest first. On a fresh clone vitest has no timings yet and orders files by
 * size, which put these last and left one worker running alone for half a minute at the end.
 */
const SLOWEST_FIRST = [
  'test/e2e/cli.test.ts',
  'test/e2e/voice.test.ts',
  'test/e2e/chat.test.ts',
  'test/e2e/escalation.test.ts',
  'test/db/migrations.test.ts',
  'test/eval/eval.test.ts',
  'test/jobs/queue.test.ts',
];

class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const index = SLOWEST_FIRST.findIndex((name) => file.moduleId.endsWith(name));
      return index === -1 ? SLOWEST_FIRST.length : index;
    };
    // Stable: the rest keep the order vitest chose (longest first once it has timings).
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // PGlite is CPU-bound WebAssembly: one worker per core is as fast as it gets.
    pool: 'forks',
    maxWorkers: 2,
    // Each worker process runs file after file: a new process per file cost seconds of start-up
    // and module loading each, more than most files take to run. Files share no state but modules.
    isolate: false,
    sequence: { sequencer: SlowestFirst },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
