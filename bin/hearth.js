#!/usr/bin/env node
// Runs the compiled JavaScript in dist/, which `npm install` builds (`npm run build` after a change).
// Compiled, not through tsx: a command starts in a fraction of the time.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('hearth: dist/ is missing. Build it with `npm run build` (npm install does this too).');
  process.exit(2);
}
await import(cli.href);
