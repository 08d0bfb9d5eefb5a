/**
 * The data layer: one Prisma client over PGlite (embedded default) or Postgres
 * (`DATABASE_URL`), and the migrations that build its schema.
 *
 * @example
 * const db = await openDatabase(databaseTarget(config));
 * await applyMigrations(db);
 * await db.prisma.household.findMany({ where: { organizationId } });
 */
import type { Config } from '../config/index.js';
import type { DatabaseTarget } from './database.js';

export { type Database, type DatabaseTarget, describeUrl, openDatabase } from './database.js';
export {
  type Call,
  type Escalation,
  type Household,
  type Member,
  type MemoryProbe,
  type Message,
  Prisma,
  type PrismaClient,
  type ProbeRun,
} from './generated/client.js';
export * from './generated/enums.js';
export { dataDirOwner } from './lock.js';
export { applyMigrations, migrationsDrift, pendingMigrations } from './migrate.js';

/** Where the configuration says the data lives: `DATABASE_URL`, else `HEARTH_DATA_DIR`. */
export function databaseTarget(
  config: Pick<Config, 'DATABASE_URL' | 'DATABASE_CONNECT_TIMEOUT_MS' | 'HEARTH_DATA_DIR'>,
): DatabaseTarget {
  return config.DATABASE_URL
    ? { kind: 'postgres', url: config.DATABASE_URL, connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS }
    : { kind: 'pglite', dataDir: config.HEARTH_DATA_DIR };
}
