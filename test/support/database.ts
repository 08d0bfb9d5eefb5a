/**
 * A fresh, migrated database for a test file: a copy of the PGlite template, or of the
 * Postgres template when `TEST_DATABASE_URL` is set. Never a mock.
 */
import { readFile } from 'node:fs/promises';
import { inject } from 'vitest';
import { type Database, openDatabase } from '../../src/db/index.js';
import { createPostgresCopy } from './postgres.js';

let template: Promise<Blob> | undefined;

export async function createTestDatabase(): Promise<Database> {
  const postgresTemplate = inject('postgresTemplate');
  const url = process.env.TEST_DATABASE_URL;
  if (url && postgresTemplate) return openPostgresCopy(url, postgresTemplate);
  template ??= readFile(inject('pgliteTemplatePath')).then((bytes) => new Blob([bytes]));
  return openDatabase({ kind: 'pglite', template: await template });
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
