/**
 * The embedded database: PGlite (Postgres compiled to WebAssembly) with pgvector, driven by
 * Prisma through `pglite-prisma-adapter`. PGlite is single-session, so everything goes
 * through this one instance.
 */
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import {
  DriverAdapterError,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import { PrismaPGlite } from 'pglite-prisma-adapter';

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

function toDriverError(error: unknown): unknown {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string' && 'severity' in error) {
    const pgError = error as Error & { code: string; severity: string; detail?: string; hint?: string };
    return new DriverAdapterError({
      kind: 'postgres',
      code: pgError.code,
      severity: pgError.severity,
      message: pgError.message,
      detail: pgError.detail,
      column: undefined,
      hint: pgError.hint,
    });
  }
  return error;
}

/**
 * `pglite-prisma-adapter` 0.7.2, mended for the schema engine: its `executeScript` does not
 * await the script (a failing migration would be recorded as applied), and its shadow
 * database lacks pgvector (so no migration using `vector` could be diffed).
 */
export class MigrationAwarePGliteFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres';
  readonly adapterName = '@prisma/adapter-pglite';
  readonly #pglite: PGlite;

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }

  async connect(): Promise<SqlDriverAdapter> {
    return withAwaitedScripts(await new PrismaPGlite(this.#pglite).connect(), this.#pglite);
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    const shadow = await openPGlite();
    const adapter = withAwaitedScripts(await new PrismaPGlite(shadow).connect(), shadow);
    adapter.dispose = () => shadow.close();
    return adapter;
  }
}

function withAwaitedScripts(adapter: SqlDriverAdapter, pglite: PGlite): SqlDriverAdapter {
  adapter.executeScript = async (script: string) => {
    try {
      await pglite.exec(script);
    } catch (error) {
      throw toDriverError(error);
    }
  };
  return adapter;
}
