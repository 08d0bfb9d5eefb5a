/**
 * Migrations: SQL in Prisma's layout (`prisma/migrations/<timestamp>_<name>/migration.sql`),
 * applied through the schema engine and recorded in `_prisma_migrations` as Prisma does.
 * Applying twice is a no-op; a failed migration is rolled back and named.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MigrationError } from '../errors.js';
import { type Database, openDatabase } from './database.js';
import { type MigrationList, NO_FILTER, withSchemaEngine } from './schema-engine.js';

const PRISMA_DIR = fileURLToPath(new URL('../../prisma/', import.meta.url));
export const SCHEMA_PATH = path.join(PRISMA_DIR, 'schema.prisma');
export const MIGRATIONS_DIR = path.join(PRISMA_DIR, 'migrations');

export interface SchemaFiles {
  schemaPath?: string;
  migrationsDir?: string;
}

async function readSchema(schemaPath = SCHEMA_PATH) {
  return { path: schemaPath, content: await readFile(schemaPath, 'utf8') };
}

/** Reads `prisma/migrations` the way Prisma's CLI hands it to the engine. */
export async function readMigrations(migrationsDir = MIGRATIONS_DIR): Promise<MigrationList> {
  const entries = await readdir(migrationsDir, { withFileTypes: true }).catch(() => []);
  const directories = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const lockPath = path.join(migrationsDir, 'migration_lock.toml');
  return {
    baseDir: migrationsDir,
    lockfile: { path: 'migration_lock.toml', content: await readFile(lockPath, 'utf8').catch(() => null) },
    shadowDbInitScript: '',
    migrationDirectories: await Promise.all(
      directories.map(async (name) => ({
        path: name,
        migrationFile: {
          path: 'migration.sql',
          content: await readFile(path.join(migrationsDir, name, 'migration.sql'), 'utf8').then(
            (value) => ({ tag: 'ok' as const, value }),
            (error: Error) => ({ tag: 'error' as const, value: error.message }),
          ),
        },
      })),
    ),
  };
}

/**
 * Applies every pending migration; returns the names it applied (empty when up to date). The
 * schema engine (seconds to load) starts only when `_prisma_migrations` lacks one of the
 * directories: an up-to-date database costs one query.
 */
export async function applyMigrations(db: Database, files: SchemaFiles = {}): Promise<string[]> {
  const migrationsList = await readMigrations(files.migrationsDir);
  if ((await pendingIn(db, migrationsList)).length === 0) return [];
  return withSchemaEngine(await db.migrationSession(), await readSchema(files.schemaPath), async (engine) => {
    try {
      const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters: NO_FILTER });
      return appliedMigrationNames;
    } catch (error) {
      const failed = await unfinishedMigration(db);
      // Postgres ran the script in one implicit transaction, so its changes are gone; mark the
      // record rolled back too, so that a fixed migration can be applied by the next run.
      if (failed) await engine.markMigrationRolledBack({ migrationName: failed }).catch(() => {});
      const reason = error instanceof Error ? error.message : String(error);
      throw new MigrationError(
        `Migration ${failed ?? '(unknown)'} failed and was rolled back; the database is as it was before it. ${reason}`,
        { cause: error },
      );
    }
  });
}

async function unfinishedMigration(db: Database): Promise<string | undefined> {
  const rows = await db.prisma.$queryRaw<{ migration_name: string }[]>`
    SELECT migration_name FROM _prisma_migrations
    WHERE finished_at IS NULL AND rolled_back_at IS NULL
    ORDER BY started_at DESC LIMIT 1`.catch(() => []);
  return rows[0]?.migration_name;
}

/** Names of migrations in `prisma/migrations` that the database has not applied yet. */
export async function pendingMigrations(db: Database, files: SchemaFiles = {}): Promise<string[]> {
  return pendingIn(db, await readMigrations(files.migrationsDir));
}

async function pendingIn(db: Database, { migrationDirectories }: MigrationList): Promise<string[]> {
  // Before the first migration there is no _prisma_migrations table: everything is pending.
  const applied = await db.prisma.$queryRaw<{ migration_name: string }[]>`
      SELECT migration_name FROM _prisma_migrations
      WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`.catch(() => []);
  const done = new Set(applied.map((row) => row.migration_name));
  return migrationDirectories.map((dir) => dir.path).filter((name) => !done.has(name));
}

/**
 * The SQL that would bring a database built by the migrations to what `schema.prisma`
 * describes: empty when they agree. The migrations run on a throwaway in-memory PGlite, whatever
 * engine the server uses: this compares two files, not a live database (and the engine cannot
 * read Postgres's catalogs through `@prisma/adapter-pg`, which lacks the `"char"` type).
 */
export async function migrationsDrift(files: SchemaFiles = {}): Promise<string> {
  const schema = await readSchema(files.schemaPath);
  const migrations = await readMigrations(files.migrationsDir);
  const scratch = await openDatabase({ kind: 'pglite' });
  try {
    return await withSchemaEngine(await scratch.migrationSession(), schema, async (engine) => {
      const result = await engine.diff({
        from: { tag: 'migrations', ...migrations },
        to: { tag: 'schemaDatamodel', files: [schema] },
        script: true,
        exitCode: true,
        filters: NO_FILTER,
      });
      return result.exitCode === 2 ? withoutHandWritten(result.stdout ?? '') : '';
    });
  } finally {
    await scratch.close();
  }
}

/**
 * What the migrations add by hand because schema.prisma cannot say it (HNSW indexes); the
 * engine proposes dropping them, and re-creating the extension it already has. Neither is drift.
 */
const HAND_WRITTEN = [
  /^DROP INDEX "(passages|messages)_embedding_hnsw_idx"$/,
  /^CREATE EXTENSION IF NOT EXISTS "vector"$/,
];

function withoutHandWritten(script: string): string {
  return script
    .split(/;\s*(?:\n|$)/)
    .map((statement) =>
      statement
        .split('\n')
        .filter((line) => !line.startsWith('--'))
        .join('\n')
        .trim(),
    )
    .filter((statement) => statement && !HAND_WRITTEN.some((pattern) => pattern.test(statement)))
    .map((statement) => `${statement};`)
    .join('\n\n');
}
