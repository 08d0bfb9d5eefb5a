/**
 * The embedded database: PGlite (Postgres compiled to WebAssembly) with pgvector. PGlite is
 * single-session, so everything — Prisma, migrations, the job queue — goes through one instance.
 */
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';

export { PGlite };

export interface OpenPGliteOptions {
  /** Directory to persist to; in memory when undefined. */
  dataDir?: string;
  /** A `dumpDataDir()` tarball to start from (the migrated test template). */
  template?: Blob;
}

/** Opens a PGlite instance with the `vector` extension loaded. */
export async function openPGlite(options: OpenPGliteOptions = {}): Promise<PGlite> {
  const pglite = new PGlite({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.template ? { loadDataDir: options.template } : {}),
    extensions: { vector },
  });
  await pglite.waitReady;
  return pglite;
}
