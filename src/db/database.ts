/**
 * One code path over two engines: a Postgres server when `DATABASE_URL` is set (through
 * `@prisma/adapter-pg`), else the embedded PGlite in `HEARTH_DATA_DIR`. Callers get a
 * `Database` and never ask which engine it is, except for the few places that must
 * (the queue's backend, the data-directory lock).
 */

import { UnavailableError } from '../errors.js';
import { PrismaClient } from './generated/client.js';
import { type DataDirLock, lockDataDir } from './lock.js';
import type { MigrationSession } from './migration-session.js';
import type { PGlite } from './pglite.js';

export type DatabaseTarget =
  | { kind: 'postgres'; url: string; connectTimeoutMs?: number }
  /** `dataDir` undefined: in memory (tests). `template`: a migrated dump to start from. */
  | { kind: 'pglite'; dataDir?: string; template?: Blob };

export interface Database {
  readonly kind: DatabaseTarget['kind'];
  readonly prisma: PrismaClient;
  /** Adapters for one schema-engine session (migrations, drift check); release it when done. */
  migrationSession(): Promise<MigrationSession>;
  /** The embedded engine itself (for pg-boss's PGlite backend); undefined on Postgres. */
  readonly pglite: PGlite | undefined;
  /** The Postgres connection string; undefined when embedded. */
  readonly url: string | undefined;
  /** Resolves when the database answers a query, else throws `UnavailableError`. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** Host and port of a connection string, without credentials, for error messages. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'the DATABASE_URL host';
  }
}

/** Opens the database and checks it answers; fails fast, naming the host, when it does not. */
export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  return target.kind === 'postgres' ? openPostgres(target) : openEmbedded(target);
}

// Each engine's driver is imported when that engine is opened: a command pays only for its own.
async function openPostgres(target: Extract<DatabaseTarget, { kind: 'postgres' }>): Promise<Database> {
  const { PrismaPg } = await import('@prisma/adapter-pg');
  const timeoutMs = target.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const adapter = new PrismaPg({ connectionString: target.url, connectionTimeoutMillis: timeoutMs });
  const prisma = new PrismaClient({ adapter });
  const where = describeUrl(target.url);
  const database: Database = {
    kind: 'postgres',
    prisma,
    migrationSession: async () =>
      (await import('./migration-session.js')).postgresMigrationSession(target.url, timeoutMs),
    pglite: undefined,
    url: target.url,
    async ping() {
      try {
        await prisma.$queryRaw`SELECT 1`;
      } catch (error) {
        throw new UnavailableError(`Postgres at ${where} does not answer: ${rootMessage(error)}`, { cause: error });
      }
    },
    close: () => prisma.$disconnect(),
  };
  try {
    await database.ping();
  } catch (error) {
    await prisma.$disconnect().catch(() => {});
    throw error;
  }
  return database;
}

async function openEmbedded(target: Extract<DatabaseTarget, { kind: 'pglite' }>): Promise<Database> {
  const [{ PrismaPGlite }, { openPGlite }] = await Promise.all([
    import('pglite-prisma-adapter'),
    import('./pglite.js'),
  ]);
  let lock: DataDirLock | undefined;
  if (target.dataDir) lock = lockDataDir(target.dataDir);
  let pglite: PGlite;
  try {
    pglite = await openPGlite({ dataDir: target.dataDir, template: target.template });
  } catch (error) {
    lock?.release();
    throw new UnavailableError(
      `Could not open the embedded database in ${target.dataDir ?? 'memory'}: ${rootMessage(error)}`,
      { cause: error },
    );
  }
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  let closed = false;
  return {
    kind: 'pglite',
    prisma,
    migrationSession: async () => (await import('./migration-session.js')).pgliteMigrationSession(pglite),
    pglite,
    url: undefined,
    async ping() {
      if (closed) throw new UnavailableError('The embedded database is closed.');
      await pglite.query('SELECT 1');
    },
    async close() {
      if (closed) return;
      closed = true;
      await prisma.$disconnect();
      await pglite.close();
      lock?.release();
    },
  };
}

/** The innermost cause's message: pg wraps ECONNREFUSED and friends in AggregateErrors. */
function rootMessage(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error) {
    if (current instanceof AggregateError && current.errors.length > 0) current = current.errors[0];
    else if (current.cause instanceof Error) current = current.cause;
    else break;
  }
  if (current instanceof Error) {
    const code = (current as NodeJS.ErrnoException).code;
    return code && !current.message.includes(code) ? `${code} ${current.message}` : current.message;
  }
  return String(current);
}
