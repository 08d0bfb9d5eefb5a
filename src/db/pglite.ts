/**
 * The embedded database: PGlite (Postgres compiled to WebAssembly) with pgvector. PGlite is
 * single-session, so everything — Prisma, migrations, the job queue — goes through one instance.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';

export { PGlite };

export interface OpenPGliteOptions {
  /** Directory to persist to; in memory when undefined. */
  dataDir?: string;
  /** A `dumpDataDir()` tarball to start from (the migrated test template). */
  template?: Blob;
}

/**
 * An empty cluster, as Postgres's initdb leaves it, which the build writes once (scripts/build.mjs):
 * initdb costs seconds in WebAssembly, unpacking its result a fraction of that. Without the file,
 * PGlite runs initdb itself.
 */
const EMPTY_CLUSTER_PATH = fileURLToPath(new URL('../../dist/empty-cluster.tar.gz', import.meta.url));
let emptyCluster: Promise<Blob | undefined> | undefined;

function readEmptyCluster(): Promise<Blob | undefined> {
  emptyCluster ??= readFile(EMPTY_CLUSTER_PATH).then(
    (bytes) => new Blob([bytes], { type: 'application/x-gzip' }),
    () => undefined,
  );
  return emptyCluster;
}

/**
 * Postgres's default of 128MB of shared buffers is zeroed on every start, and in WebAssembly that
 * memset alone took 0.45 s of each start (measured: `npm run bench -- startup`). A household's
 * working set fits in far less; reads past it come from the operating system's page cache.
 */
const SHARED_BUFFERS = '16MB';

/** Opens a PGlite instance with the `vector` extension loaded; a new database starts from the empty cluster. */
export async function openPGlite(options: OpenPGliteOptions = {}): Promise<PGlite> {
  const created = !options.dataDir || !existsSync(path.join(options.dataDir, 'PG_VERSION'));
  const template = options.template ?? (created ? await readEmptyCluster() : undefined);
  const pglite = new PGlite({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(template ? { loadDataDir: template } : {}),
    extensions: { vector },
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${SHARED_BUFFERS}`],
  });
  await pglite.waitReady;
  return pglite;
}
