// Builds dist/: `tsc` (skipped when dist/ is newer than every source file), and the embedded
// database's empty cluster (made once: Postgres's initdb, run here so that no new database pays
// for it). The tests and `npm install` ask for it freely; `--force` always compiles.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = path.join(root, 'dist', '.tsbuildinfo');
const emptyCluster = path.join(root, 'dist', 'empty-cluster.tar.gz');
const force = process.argv.includes('--force');

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

function compile() {
  const sources = ['src', 'tsconfig.json', 'tsconfig.build.json'].map((name) => path.join(root, name));
  if (!force && builtAt() >= Math.max(...sources.map(newestMtime))) return;
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) {
    // A production install (`npm ci --omit=dev`) has no compiler: it runs the dist/ it was given.
    console.error('hearth build: typescript is not installed; keeping dist/ as it is.');
    return;
  }
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
  // tsc leaves its build info untouched when nothing changed; mark the check done all the same.
  utimesSync(stamp, new Date(), new Date());
}

async function makeEmptyCluster() {
  if (!force && existsSync(emptyCluster)) return;
  // Run once, briefly: the optimizing compiler would cost more than it saves.
  v8.setFlagsFromString('--liftoff-only');
  const [{ PGlite }, { vector }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-pgvector'),
  ]);
  console.error('hearth build: running initdb once for the embedded database (a few seconds)');
  const pglite = new PGlite({ extensions: { vector } });
  await pglite.waitReady;
  const dump = await pglite.dumpDataDir('gzip');
  await pglite.close();
  mkdirSync(path.dirname(emptyCluster), { recursive: true });
  writeFileSync(emptyCluster, Buffer.from(await dump.arrayBuffer()));
}

compile();
await makeEmptyCluster();
