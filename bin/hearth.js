#!/usr/bin/env node
// Runs the compiled JavaScript in dist/, which `npm install` builds (`npm run build` after a change).
// Compiled, not through tsx: a command starts in a fraction of the time.
import { existsSync } from 'node:fs';
import v8 from 'node:v8';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('hearth: dist/ is missing. Build it with `npm run build` (npm install does this too).');
  process.exit(2);
}
// A command other than `serve` lives a second or two. Recompiling embedded Postgres's hot
// WebAssembly with V8's optimizing tier costs it more than the faster code gains (measured:
// `org create` 2.3 s → 1.7 s). The long-running server keeps the default, optimized tiering.
if (process.argv[2] !== 'serve') v8.setFlagsFromString('--liftoff-only');
await import(cli.href);
