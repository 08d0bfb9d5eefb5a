import { defineConfig } from 'vitest/config';

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
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
