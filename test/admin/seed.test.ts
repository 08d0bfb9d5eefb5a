/** The demo seed: all of it or nothing, so a failed seed can simply be run again. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ORGANIZATION_NAME, seedDemo } from '../../src/admin/index.js';
import { DEMO_PHONE_LINE } from '../../src/admin/seed.js';
import type { Database } from '../../src/db/index.js';
import { ConflictError } from '../../src/errors.js';
import { createEmbedder, createMemoryEngine, type MemoryEngine } from '../../src/memory/index.js';
import { createTestDatabase } from '../support/database.js';
import { newTenant, snapshot } from './support.js';

let db: Database;
let memory: MemoryEngine;

beforeAll(async () => {
  db = await createTestDatabase();
  memory = createMemoryEngine({ prisma: db.prisma, embedder: createEmbedder({}) });
});
afterAll(async () => {
  await memory.close();
  await db.close();
});

describe('seedDemo', () => {
  it('leaves nothing behind when it fails part-way, and succeeds when run again', async () => {
    const other = await newTenant(db, 'http://unused', 'Already here');
    const line = await db.prisma.phoneLine.create({
      data: { organizationId: other.organizationId, number: DEMO_PHONE_LINE },
    });
    const before = await snapshot(db);

    // The phone line is the seed's last write: everything before it must be undone.
    await expect(seedDemo({ prisma: db.prisma, memory })).rejects.toBeInstanceOf(ConflictError);
    expect(await snapshot(db)).toEqual(before);

    await db.prisma.phoneLine.delete({ where: { id: line.id } });
    const seed = await seedDemo({ prisma: db.prisma, memory });
    expect(seed.phoneLine).toBe(DEMO_PHONE_LINE);
    expect(await db.prisma.organization.count({ where: { name: DEMO_ORGANIZATION_NAME } })).toBe(1);
    expect(await db.prisma.member.count({ where: { organizationId: seed.organizationId } })).toBe(2);
    await expect(seedDemo({ prisma: db.prisma, memory })).rejects.toThrow(/already exists/);
  });
});
