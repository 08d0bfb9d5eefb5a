// `tsc` to dist/, skipped when dist/ is newer than every source file, so the tests and
// `npm install` can ask for it freely. `--force` always compiles.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = path.join(root, 'dist', '.tsbuildinfo');

function newestMtime(entry) {
  const stats = statSync(entry);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const name of readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, name)));
  return newest;
}

function builtAt() {
  try {
    return statSync(stamp).mtimeMs;
  } catch {
    return -1;
  }
}

const sources = ['src', 'tsconfig.json', 'tsconfig.build.json'].map((name) => path.join(root, name));
if (!process.argv.includes('--force') && builtAt() >= Math.max(...sources.map(newestMtime))) process.exit(0);

const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!existsSync(tsc)) {
  // A production install (`npm ci --omit=dev`) has no compiler: it runs the dist/ it was given.
  console.error('hearth build: typescript is not installed; keeping dist/ as it is.');
  process.exit(0);
}
const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
// tsc leaves its build info untouched when nothing changed; mark the check done all the same.
if (result.status === 0) utimesSync(stamp, new Date(), new Date());
process.exit(result.status ?? 1);
