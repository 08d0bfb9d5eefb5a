import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/index.js';
import { applyMigrations, MIGRATIONS_DIR, migrationsDrift, pendingMigrations } from '../../src/db/migrate.js';
import { MigrationError } from '../../src/errors.js';
import { createMemoryEngine } from '../../src/memory/index.js';
import { hashEmbedder } from '../memory/helpers.js';
import { openEmptyDatabase, openMigratedDatabase, TEST_ENGINES } from '../support/database.js';

let db: Database | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

async function migrationsCopy(extra: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-migrations-'));
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  for (const [name, sql] of Object.entries(extra)) {
    await mkdir(path.join(dir, name));
    await writeFile(path.join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

describe.each(TEST_ENGINES)('migrations on %s', (engine) => {
  it('apply once, and applying again is a no-op', async () => {
    db = await openEmptyDatabase(engine);
    const all = await pendingMigrations(db);
    expect(all.length).toBeGreaterThan(0);
    expect(await applyMigrations(db)).toEqual(all);
    expect(await applyMigrations(db)).toEqual([]);
    expect(await pendingMigrations(db)).toEqual([]);
    const recorded = await db.prisma.$queryRaw<{ migration_name: string; finished: boolean }[]>`
      SELECT migration_name, finished_at IS NOT NULL AS finished FROM _prisma_migrations`;
    expect(recorded).toEqual(all.map((name) => ({ migration_name: name, finished: true })));
    // Types the migrations created are usable at once by the connection that created them: a
    // search filtered by role (an enum) on a first start, before any restart.
    const organization = await db.prisma.organization.create({ data: { name: 'Org' } });
    const household = await db.prisma.household.create({ data: { name: 'H', organizationId: organization.id } });
    const memory = createMemoryEngine({ prisma: db.prisma, embedder: hashEmbedder() });
    const scope = { organizationId: organization.id, householdId: household.id, memberId: null, callId: null };
    await memory.appendMessage({
      scope: { ...scope, callerVerified: false },
      role: 'user',
      content: 'Nana prefers tea',
    });
    const found = await memory.searchRecall({ householdId: household.id, query: 'tea', roles: ['user', 'assistant'] });
    expect(found.items.map((hit) => hit.content)).toEqual(['Nana prefers tea']);
    await memory.close();
  });

  it('create the pgvector HNSW indexes and the full-text trigger schema.prisma cannot express', async () => {
    db = await openMigratedDatabase(engine);
    const indexes = await db.prisma.$queryRaw<{ indexname: string; indexdef: string }[]>`
      SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE '%hnsw%' ORDER BY indexname`;
    expect(indexes.map((index) => index.indexname)).toEqual([
      'messages_embedding_hnsw_idx',
      'passages_embedding_hnsw_idx',
    ]);
    expect(indexes[0]?.indexdef).toContain('vector_cosine_ops');

    const organization = await db.prisma.organization.create({ data: { name: 'Org' } });
    const household = await db.prisma.household.create({ data: { name: 'H', organizationId: organization.id } });
    const message = await db.prisma.message.create({
      data: { organizationId: organization.id, householdId: household.id, role: 'user', content: 'Nana prefers tea' },
    });
    const [row] = await db.prisma.$queryRaw<{ matches: boolean }[]>`
      SELECT search_vector @@ plainto_tsquery('english', 'preferred teas') AS matches FROM messages WHERE id = ${message.id}::uuid`;
    expect(row?.matches).toBe(true);
  });

  it('roll back a failing migration, name it, and leave the database as it was', async () => {
    db = await openMigratedDatabase(engine);
    const migrationsDir = await migrationsCopy({
      '29990101000000_broken': 'CREATE TABLE "half_done" (id int);\nALTER TABLE "no_such_table" ADD COLUMN x int;',
    });
    const failure = await applyMigrations(db, { migrationsDir }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MigrationError);
    expect((failure as Error).message).toContain('29990101000000_broken');
    expect((failure as Error).message).toContain('no_such_table');
    const [table] = await db.prisma.$queryRaw<
      { exists: boolean }[]
    >`SELECT to_regclass('half_done') IS NOT NULL AS exists`;
    expect(table?.exists).toBe(false);
    expect(await pendingMigrations(db, { migrationsDir })).toEqual(['29990101000000_broken']);

    // Once fixed, the same migration applies.
    await writeFile(
      path.join(migrationsDir, '29990101000000_broken', 'migration.sql'),
      'CREATE TABLE "half_done" (id int);',
    );
    expect(await applyMigrations(db, { migrationsDir })).toEqual(['29990101000000_broken']);
  });
});

describe('the migrations and schema.prisma', () => {
  it('produce exactly the schema the Prisma client expects (drift check)', async () => {
    expect(await migrationsDrift()).toBe('');
  });

  it('report drift when schema.prisma and the migrations disagree', async () => {
    const migrationsDir = await migrationsCopy({
      '29990101000000_extra': 'ALTER TABLE "households" ADD COLUMN "nickname" TEXT;',
    });
    expect(await migrationsDrift({ migrationsDir })).toContain('DROP COLUMN "nickname"');
  });
});
