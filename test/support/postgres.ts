/**
 * The same suite against a real Postgres server (`TEST_DATABASE_URL`): a migrated template
 * database, copied per test file with `CREATE DATABASE … TEMPLATE`.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { applyMigrations, openDatabase } from '../../src/db/index.js';

const TEMPLATE_NAME = 'hearth_test_template';

function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function admin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createPostgresTemplate(url: string): Promise<string> {
  await admin(url, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${TEMPLATE_NAME}`);
    await client.query(`CREATE DATABASE ${TEMPLATE_NAME}`);
  });
  const db = await openDatabase({ kind: 'postgres', url: withDatabaseName(url, TEMPLATE_NAME) });
  await applyMigrations(db);
  await db.close();
  return TEMPLATE_NAME;
}

export async function dropPostgresTemplate(url: string): Promise<void> {
  await admin(url, (client) => client.query(`DROP DATABASE IF EXISTS ${TEMPLATE_NAME}`));
}

/** A fresh database copied from the template; `drop` removes it. */
export async function createPostgresCopy(url: string, template: string) {
  const name = `hearth_test_${randomUUID().replaceAll('-', '')}`;
  await admin(url, (client) => client.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  return {
    url: withDatabaseName(url, name),
    drop: () => admin(url, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}
