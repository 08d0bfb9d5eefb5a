/**
 * Driver-adapter factories for the schema engine, one per engine session, on either engine.
 * Both stock adapters need mending for migrations: `pglite-prisma-adapter` 0.7.2 does not
 * await `executeScript` (a failing migration would be recorded as applied) and gives its
 * shadow database no pgvector; `@prisma/adapter-pg` splits scripts on every `;` (breaking
 * `$$` function bodies, and running each statement in its own transaction, so a failing
 * migration would leave half its changes behind). Here a script is sent whole: Postgres runs
 * a multi-statement simple query in one implicit transaction, so it applies entirely or not at all.
 */
import { randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  DriverAdapterError,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { openPGlite, type PGlite } from './pglite.js';

/** An adapter factory for one schema-engine session; `release()` closes whatever it opened. */
export interface MigrationSession extends SqlMigrationAwareDriverAdapterFactory {
  release(): Promise<void>;
}

interface Opened {
  adapter: SqlDriverAdapter;
  close(): Promise<void>;
}

/** Postgres errors (from pg or PGlite) in the shape Prisma's engines understand. */
function toDriverError(error: unknown): unknown {
  if (!(error instanceof Error) || !('code' in error) || !('severity' in error)) return error;
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

function withWholeScripts(adapter: SqlDriverAdapter, run: (script: string) => Promise<unknown>): SqlDriverAdapter {
  adapter.executeScript = async (script: string) => {
    try {
      await run(script);
    } catch (error) {
      throw toDriverError(error);
    }
  };
  return adapter;
}

class TrackedFactory implements MigrationSession {
  readonly provider = 'postgres';
  readonly adapterName: string;
  readonly #connectMain: () => Promise<Opened>;
  readonly #connectShadow: () => Promise<Opened>;
  #open: Array<() => Promise<void>> = [];

  constructor(adapterName: string, connectMain: () => Promise<Opened>, connectShadow: () => Promise<Opened>) {
    this.adapterName = adapterName;
    this.#connectMain = connectMain;
    this.#connectShadow = connectShadow;
  }

  async connect(): Promise<SqlDriverAdapter> {
    return this.#track(await this.#connectMain());
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    return this.#track(await this.#connectShadow());
  }

  async release(): Promise<void> {
    const closers = this.#open.reverse();
    this.#open = [];
    for (const close of closers) await close().catch(() => {});
  }

  // The engine does not reliably dispose what it connects, so every connection is closed at release.
  #track({ adapter, close }: Opened): SqlDriverAdapter {
    let closed: Promise<void> | undefined;
    const closeOnce = () => {
      closed ??= close();
      return closed;
    };
    this.#open.push(closeOnce);
    adapter.dispose = closeOnce;
    return adapter;
  }
}

async function pgliteAdapter(pglite: PGlite): Promise<SqlDriverAdapter> {
  return withWholeScripts(await new PrismaPGlite(pglite).connect(), (script) => pglite.exec(script));
}

/** Migrations through the process's own PGlite; the shadow database is a throwaway in-memory PGlite. */
export function pgliteMigrationSession(pglite: PGlite): MigrationSession {
  return new TrackedFactory(
    '@prisma/adapter-pglite',
    async () => ({ adapter: await pgliteAdapter(pglite), close: async () => {} }),
    async () => {
      const shadow = await openPGlite();
      return { adapter: await pgliteAdapter(shadow), close: () => shadow.close() };
    },
  );
}

async function postgresAdapter(config: pg.PoolConfig): Promise<Opened> {
  const pool = new pg.Pool(config);
  const adapter = await new PrismaPg(pool).connect();
  return { adapter: withWholeScripts(adapter, (script) => pool.query(script)), close: () => pool.end() };
}

/** Migrations through a Postgres server; the shadow database is created, then dropped, on that server. */
export function postgresMigrationSession(url: string, connectTimeoutMs: number): MigrationSession {
  const config = { connectionString: url, connectionTimeoutMillis: connectTimeoutMs, max: 2 };
  return new TrackedFactory(
    '@prisma/adapter-pg',
    () => postgresAdapter(config),
    async () => {
      const name = `hearth_shadow_${randomUUID().replaceAll('-', '')}`;
      const admin = new pg.Client(config);
      await admin.connect();
      await admin.query(`CREATE DATABASE "${name}"`);
      const shadowUrl = new URL(url);
      shadowUrl.pathname = `/${name}`;
      const shadow = await postgresAdapter({ ...config, connectionString: shadowUrl.toString() });
      return {
        adapter: shadow.adapter,
        async close() {
          await shadow.close();
          await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
          await admin.end();
        },
      };
    },
  );
}
