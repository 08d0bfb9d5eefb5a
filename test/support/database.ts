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
  if (url && postgresTemplate) {
    const copy = await createPostgresCopy(url, postgresTemplate);
    const db = await openDatabase({ kind: 'postgres', url: copy.url });
    const close = db.close;
    return Object.assign(db, {
      close: async () => {
        await close();
        await copy.drop();
      },
    });
  }
  template ??= readFile(inject('pgliteTemplatePath')).then((bytes) => new Blob([bytes]));
  return openDatabase({ kind: 'pglite', template: await template });
}
