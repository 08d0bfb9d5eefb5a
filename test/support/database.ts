/**
 * A fresh, migrated database for a test file: a copy of the PGlite template, or of the
 * Postgres template when `TEST_DATABASE_URL` is set. Never a mock.
 */
import { readFile } from 'node:fs/promises';
import { inject } from 'vitest';
import { type Database, openDatabase } from '../../src/db/index.js';
import { createPostgresCopy } from './postgres.js';

const tarballs = new Map<string, Promise<Blob>>();

/** A PGlite database started from a tarball the global setup wrote (read once per test file). */
async function openPGliteFrom(tarballPath: string): Promise<Database> {
  let template = tarballs.get(tarballPath);
  if (!template) {
    template = readFile(tarballPath).then((bytes) => new Blob([bytes]));
    tarballs.set(tarballPath, template);
  }
  return openDatabase({ kind: 'pglite', template: await template });
}

export async function createTestDatabase(): Promise<Database> {
  return openMigratedDatabase(process.env.TEST_DATABASE_URL && inject('postgresTemplate') ? 'postgres' : 'pglite');
}

/** A fresh migrated database on `engine`. */
export async function openMigratedDatabase(engine: 'pglite' | 'postgres'): Promise<Database> {
  const postgresTemplate = inject('postgresTemplate');
  const url = process.env.TEST_DATABASE_URL;
  if (engine === 'pglite') return openPGliteFrom(inject('pgliteTemplatePath'));
  if (!url || !postgresTemplate) throw new Error('TEST_DATABASE_URL is not set');
  return openPostgresCopy(url, postgresTemplate);
}

/** The engines a test of the data layer itself runs on: PGlite always, Postgres when configured. */
export const TEST_ENGINES: Array<'pglite' | 'postgres'> = process.env.TEST_DATABASE_URL
  ? ['pglite', 'postgres']
  : ['pglite'];

/** An empty, unmigrated database on `engine`, for tests of migrations. */
export async function openEmptyDatabase(engine: 'pglite' | 'postgres'): Promise<Database> {
  const url = process.env.TEST_DATABASE_URL;
  if (engine === 'pglite') return openDatabase({ kind: 'pglite' });
  if (!url) throw new Error('TEST_DATABASE_URL is not set');
  return openPostgresCopy(url, 'template0');
}

async function openPostgresCopy(url: string, template: string): Promise<Database> {
  const copy = await createPostgresCopy(url, template);
  const db = await openDatabase({ kind: 'postgres', url: copy.url });
  const close = db.close;
  return Object.assign(db, {
    close: async () => {
      await close();
      await copy.drop();
    },
  });
}
