import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/index.js';
import { ConflictError, NotFoundError, PreconditionFailedError, ValidationError } from '../../src/errors.js';
import { unifiedDiff } from '../../src/memory/diff.js';
import { type BlockChange, createMemoryEngine, type MemoryEngine } from '../../src/memory/index.js';
import { createTestDatabase } from '../support/database.js';
import { expectRejection, hashEmbedder, type SeededHousehold, scopeOf, seedHousehold, testClock } from './helpers.js';

let db: Database;
let memory: MemoryEngine;
let seeded: SeededHousehold;
let changes: BlockChange[];
const clock = testClock();
const admin = { source: 'admin' as const, detail: 'block.update', actor: 'key-1' };

beforeAll(async () => {
  db = await createTestDatabase();
  memory = createMemoryEngine({ prisma: db.prisma, embedder: hashEmbedder(), now: clock.now });
  memory.onBlockChange((change) => changes.push(change));
});
afterAll(async () => {
  await memory.close();
  await db.close();
});
beforeEach(async () => {
  seeded = await seedHousehold(db.prisma, memory);
  changes = [];
});

const shared = (label: string) => ({ householdId: seeded.householdId, memberId: null, label });

describe('default blocks', () => {
  it('are created with the household and each member, with a first revision from the system', async () => {
    const all = await memory.listBlocks({ householdId: seeded.householdId });
    expect(all.map((block) => [block.label, block.memberId, block.readOnly, block.charLimit, block.version])).toEqual([
      ['persona', null, true, 2000, 1],
      ['household', null, false, 4000, 1],
      ['caller', expect.any(String), false, 2000, 1],
      ['caller', expect.any(String), false, 2000, 1],
    ]);
    expect((await memory.listBlocks({ householdId: seeded.householdId, memberId: null })).map((b) => b.label)).toEqual([
      'persona',
      'household',
    ]);
    const own = await memory.listBlocks({ householdId: seeded.householdId, memberId: seeded.chidi });
    expect(own.map((block) => [block.label, block.memberId])).toEqual([['caller', seeded.chidi]]);
    const history = await memory.blockHistory(shared('persona'));
    expect(history.items).toMatchObject([{ version: 1, source: 'system', detail: 'default block' }]);
  });
});

describe('createBlock', () => {
  it('creates a block at version 1 with a revision and an event; the label is then taken', async () => {
    const block = await memory.createBlock({
      organizationId: seeded.organizationId,
      householdId: seeded.householdId,
      memberId: null,
      label: 'routines',
      value: 'Walk at 10.',
      description: 'Daily routines',
      charLimit: 500,
      source: { ...admin, detail: 'block.create' },
    });
    expect(block).toMatchObject({
      label: 'routines',
      value: 'Walk at 10.',
      version: 1,
      charLimit: 500,
      private: false,
    });
    expect(changes).toEqual([
      {
        householdId: seeded.householdId,
        blockId: block.id,
        label: 'routines',
        memberId: null,
        version: 1,
        deleted: false,
      },
    ]);
    const again = memory.createBlock({ ...block, organizationId: seeded.organizationId, source: admin });
    await expectRejection(
      again,
      ConflictError,
      'Block "routines" already exists in this household; choose another label.',
    );
  });

  it('refuses a member label that would shadow a shared one, bad labels, over-long values and strangers', async () => {
    const base = { organizationId: seeded.organizationId, householdId: seeded.householdId, source: admin };
    await memory.createBlock({ ...base, memberId: null, label: 'routines' });
    await expect(memory.createBlock({ ...base, memberId: seeded.nana, label: 'routines' })).rejects.toThrow(
      'Block "routines" is a shared block in this household; choose another label.',
    );
    await memory.createBlock({ ...base, memberId: seeded.nana, label: 'garden' });
    await expect(memory.createBlock({ ...base, memberId: null, label: 'garden' })).rejects.toThrow(
      'Block "garden" is a member block in this household; choose another label.',
    );
    await expect(memory.createBlock({ ...base, memberId: null, label: 'Bad Label' })).rejects.toThrow(ValidationError);
    await expect(
      memory.createBlock({ ...base, memberId: null, label: 'tiny', value: 'abcdef', charLimit: 5 }),
    ).rejects.toThrow("The value has 6 characters; the block's limit is 5.");
    const other = await seedHousehold(db.prisma, memory, 'Another household');
    await expect(memory.createBlock({ ...base, memberId: other.nana, label: 'notes' })).rejects.toThrow(NotFoundError);
    await expect(
      memory.createBlock({ ...base, organizationId: other.organizationId, memberId: null, label: 'notes' }),
    ).rejects.toThrow(NotFoundError);
  });
});

describe('a NUL character', () => {
  it('is refused in a new or changed value or description, naming the field; nothing is written', async () => {
    const base = { organizationId: seeded.organizationId, householdId: seeded.householdId, memberId: null };
    await expectRejection(
      memory.createBlock({ ...base, label: 'routines', value: 'Walk at 10.\u0000', source: admin }),
      ValidationError,
      'value: must not contain the NUL character (\\u0000); remove it and send the text again',
    );
    await expectRejection(
      memory.updateBlock({
        ...shared('household'),
        expectedVersion: 1,
        changes: { description: 'Shared\u0000 notes' },
        source: admin,
      }),
      ValidationError,
      'description: must not contain the NUL character (\\u0000); remove it and send the text again',
    );
    expect(await memory.listBlocks({ householdId: seeded.householdId, memberId: null })).toHaveLength(2);
    expect((await memory.getBlock(shared('household'))).version).toBe(1);
    expect(changes).toEqual([]);
  });
});

describe('default labels', () => {
  const base = () => ({ organizationId: seeded.organizationId, source: admin });

  it('are reserved for their kind of owner, even before anyone holds the other kind', async () => {
    const empty = await db.prisma.household.create({
      data: { organizationId: seeded.organizationId, name: 'No members yet' },
    });
    await expectRejection(
      memory.createBlock({ ...base(), householdId: empty.id, memberId: null, label: 'caller' }),
      ValidationError,
      'Block label "caller" is reserved for each member\'s own block; choose another label.',
    );
    for (const label of ['persona', 'household']) {
      await expectRejection(
        memory.createBlock({ ...base(), householdId: seeded.householdId, memberId: seeded.nana, label }),
        ValidationError,
        `Block label "${label}" is reserved for a block shared by the household; choose another label.`,
      );
    }
  });

  describe('with a shared "caller" block left from before they were reserved', () => {
    let legacy: { id: string };
    beforeEach(async () => {
      const { organizationId, householdId } = seeded;
      legacy = await db.prisma.memoryBlock.create({
        data: { organizationId, householdId, memberId: null, ownerKey: '', label: 'caller', charLimit: 2000 },
      });
    });

    it('refuses to give a new member a caller block beside it, naming it', async () => {
      const { organizationId, householdId } = seeded;
      const adding = db.prisma.$transaction(async (tx) => {
        const member = await tx.member.create({ data: { organizationId, householdId, name: 'Ife' } });
        await memory.createMemberBlock({ tx, organizationId, householdId, memberId: member.id });
      });
      await expectRejection(
        adding,
        ConflictError,
        `Household ${householdId} has a shared block "caller" (${legacy.id}), which would sit beside each ` +
          'member\'s own "caller" block and show what one member says to every caller. Move its text to ' +
          'another block and delete it, then add the member again.',
      );
      expect(await db.prisma.member.count({ where: { householdId, name: 'Ife' } })).toBe(0);
    });

    it('keeps a member’s facts in their own caller block, and can be deleted', async () => {
      const nana = scopeOf(seeded, { memberId: seeded.nana, verified: true });
      const appended = await memory.runTool({
        name: 'core_memory_append',
        arguments: { label: 'caller', content: 'Nana’s PIN hint: her first cat.' },
        scope: nana,
      });
      expect(appended.ok).toBe(true);
      const own = await memory.getBlock({ householdId: seeded.householdId, memberId: seeded.nana, label: 'caller' });
      expect(own.value).toBe('Nana’s PIN hint: her first cat.');
      expect((await memory.getBlock(shared('caller'))).value).toBe('');
      await memory.deleteBlock(shared('caller'));
      await expect(memory.getBlock(shared('caller'))).rejects.toThrow(NotFoundError);
    });
  });
});

describe('updateBlock', () => {
  it('compare-and-swaps on the version: a stale version is a 412 naming the current one', async () => {
    const updated = await memory.updateBlock({
      ...shared('household'),
      expectedVersion: 1,
      changes: { value: 'Cat: Miso.' },
      source: admin,
    });
    expect(updated).toMatchObject({ value: 'Cat: Miso.', version: 2 });
    expect(changes.map((change) => change.version)).toEqual([2]);
    const stale = memory.updateBlock({
      ...shared('household'),
      expectedVersion: 1,
      changes: { value: 'x' },
      source: admin,
    });
    await expectRejection(
      stale,
      PreconditionFailedError,
      'Block "household" is at version 2, not 1; reload it and retry.',
    );
    expect((await memory.getBlock(shared('household'))).value).toBe('Cat: Miso.');
  });

  it('lets operators edit read-only blocks, but never past the limit (new or old)', async () => {
    const persona = await memory.updateBlock({
      ...shared('persona'),
      expectedVersion: 1,
      changes: { value: 'I am Hearth, brief and kind.' },
      source: admin,
    });
    expect(persona).toMatchObject({ readOnly: true, version: 2 });
    await expectRejection(
      memory.updateBlock({
        ...shared('persona'),
        expectedVersion: 2,
        changes: { value: 'x'.repeat(2001) },
        source: admin,
      }),
      ValidationError,
      'Block "persona" would hold 2001 characters; its limit is 2000. Shorten the value or raise the limit.',
    );
    await expect(
      memory.updateBlock({ ...shared('persona'), expectedVersion: 2, changes: { charLimit: 10 }, source: admin }),
    ).rejects.toThrow('Block "persona" would hold 28 characters; its limit is 10.');
    const raised = await memory.updateBlock({
      ...shared('persona'),
      expectedVersion: 2,
      changes: { value: 'y'.repeat(2500), charLimit: 3000, readOnly: false, description: 'Persona' },
      source: admin,
    });
    expect(raised).toMatchObject({ charLimit: 3000, readOnly: false, description: 'Persona', version: 3 });
  });

  it('writes a revision with its source for every change, metadata included; a no-op writes nothing', async () => {
    await memory.updateBlock({ ...shared('household'), expectedVersion: 1, changes: { value: 'A' }, source: admin });
    await memory.updateBlock({ ...shared('household'), expectedVersion: 2, changes: { private: true }, source: admin });
    const same = await memory.updateBlock({
      ...shared('household'),
      expectedVersion: 3,
      changes: { private: true, value: 'A' },
      source: admin,
    });
    expect(same.version).toBe(3);
    const history = await memory.blockHistory(shared('household'));
    expect(history.items.map((item) => [item.version, item.value, item.source, item.detail, item.actor])).toEqual([
      [3, 'A', 'admin', 'block.update', 'key-1'],
      [2, 'A', 'admin', 'block.update', 'key-1'],
      [1, '', 'system', 'default block', null],
    ]);
  });

  it('is a 404 for a block that does not exist', async () => {
    await expect(
      memory.updateBlock({ ...shared('nothing'), expectedVersion: 1, changes: { value: 'x' }, source: admin }),
    ).rejects.toThrow(NotFoundError);
  });
});

describe('deleteBlock', () => {
  it('refuses the default blocks and deletes others, with an event', async () => {
    await expectRejection(
      memory.deleteBlock(shared('household')),
      ConflictError,
      'Block "household" is a default block and cannot be deleted; clear its value instead.',
    );
    await expect(
      memory.deleteBlock({ householdId: seeded.householdId, memberId: seeded.nana, label: 'caller' }),
    ).rejects.toThrow(ConflictError);
    const block = await memory.createBlock({
      organizationId: seeded.organizationId,
      ...shared('garden'),
      source: admin,
    });
    changes = [];
    await memory.deleteBlock(shared('garden'));
    expect(changes).toEqual([
      {
        householdId: seeded.householdId,
        blockId: block.id,
        label: 'garden',
        memberId: null,
        version: 1,
        deleted: true,
      },
    ]);
    await expect(memory.getBlock(shared('garden'))).rejects.toThrow(NotFoundError);
  });
});

describe('history and rollback', () => {
  beforeEach(async () => {
    for (const [version, value] of [
      [1, 'Cat: Miso.'],
      [2, 'Cat: Miso.\nDog: Rex.'],
      [3, 'Cat: Miso.\nDog: Biscuit.'],
    ] as const) {
      await memory.updateBlock({ ...shared('household'), expectedVersion: version, changes: { value }, source: admin });
    }
  });

  it('lists revisions newest first with unified diffs, paged by version', async () => {
    const first = await memory.blockHistory({ ...shared('household'), limit: 2 });
    expect(first.hasMore).toBe(true);
    expect(first.items.map((item) => item.version)).toEqual([4, 3]);
    expect(first.items[0]?.diff).toBe(
      ['--- version 3', '+++ version 4', '@@ -1,2 +1,2 @@', ' Cat: Miso.', '-Dog: Rex.', '+Dog: Biscuit.'].join('\n'),
    );
    expect(first.items[1]?.diff).toBe(
      ['--- version 2', '+++ version 3', '@@ -1 +1,2 @@', ' Cat: Miso.', '+Dog: Rex.'].join('\n'),
    );
    const rest = await memory.blockHistory({ ...shared('household'), limit: 2, before: 3 });
    expect(rest.hasMore).toBe(false);
    expect(rest.items.map((item) => [item.version, item.diff])).toEqual([
      [2, '--- version 1\n+++ version 2\n@@ -0,0 +1 @@\n+Cat: Miso.'],
      [1, ''],
    ]);
  });

  it('rolls back by writing the old value as a new version with source rollback', async () => {
    const rolled = await memory.rollbackBlock({
      ...shared('household'),
      toVersion: 2,
      expectedVersion: 4,
      source: { source: 'admin', actor: 'key-1' },
    });
    expect(rolled).toMatchObject({ value: 'Cat: Miso.', version: 5 });
    const [latest] = (await memory.blockHistory({ ...shared('household'), limit: 1 })).items;
    expect(latest).toMatchObject({ version: 5, source: 'rollback', detail: 'to version 2', actor: 'key-1' });
    await expect(
      memory.rollbackBlock({ ...shared('household'), toVersion: 3, expectedVersion: 4, source: admin }),
    ).rejects.toThrow(PreconditionFailedError);
    await expectRejection(
      memory.rollbackBlock({ ...shared('household'), toVersion: 9, source: admin }),
      NotFoundError,
      'Block "household" has no version 9; see its history.',
    );
    const unconditional = await memory.rollbackBlock({ ...shared('household'), toVersion: 4, source: admin });
    expect(unconditional).toMatchObject({ value: 'Cat: Miso.\nDog: Biscuit.', version: 6 });
  });
});

describe('unifiedDiff', () => {
  it('keeps three lines of context and splits distant changes into hunks', () => {
    const before = Array.from({ length: 12 }, (_, index) => `line ${index + 1}`).join('\n');
    const after = before.replace('line 2', 'line two').replace('line 11', 'line eleven');
    expect(unifiedDiff({ before, after, from: 'a', to: 'b' })).toBe(
      [
        '--- a',
        '+++ b',
        '@@ -1,5 +1,5 @@',
        ' line 1',
        '-line 2',
        '+line two',
        ' line 3',
        ' line 4',
        ' line 5',
        '@@ -8,5 +8,5 @@',
        ' line 8',
        ' line 9',
        ' line 10',
        '-line 11',
        '+line eleven',
        ' line 12',
      ].join('\n'),
    );
    expect(unifiedDiff({ before: 'a\nb', after: '', from: 'x', to: 'y' })).toBe(
      '--- x\n+++ y\n@@ -1,2 +0,0 @@\n-a\n-b',
    );
  });
});
