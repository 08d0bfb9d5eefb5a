import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/index.js';
import { ConflictError, NotFoundError, PreconditionFailedError } from '../../src/errors.js';
import { BlockWriter } from '../../src/memory/block-writer.js';
import { BlockStore } from '../../src/memory/blocks.js';
import {
  type BlockChange,
  type BlockTarget,
  type BlockView,
  createInProcessEvents,
  createMemoryEngine,
  type MemoryEngine,
  type SessionScope,
} from '../../src/memory/index.js';
import { createTestDatabase } from '../support/database.js';
import { expectRejection, hashEmbedder, type SeededHousehold, scopeOf, seedHousehold, testClock } from './helpers.js';

let db: Database;
let memory: MemoryEngine;
/** The Okafor household and, in the same organization, the Mensah household. */
let okafor: SeededHousehold;
let mensah: { householdId: string; memberId: string };
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
  okafor = await seedHousehold(db.prisma, memory);
  mensah = await addHousehold(okafor.organizationId, 'The Mensah household');
  changes = [];
});

/** A second household of the organization, with its default blocks and one member. */
async function addHousehold(organizationId: string, name: string) {
  return db.prisma.$transaction(async (tx) => {
    const household = await tx.household.create({ data: { organizationId, name, timezone: 'Europe/London' } });
    await memory.createHouseholdBlocks({ tx, organizationId, householdId: household.id });
    const member = await tx.member.create({
      data: { organizationId, householdId: household.id, name: 'Kofi Mensah', relationship: 'father' },
    });
    await memory.createMemberBlock({ tx, organizationId, householdId: household.id, memberId: member.id });
    return { householdId: household.id, memberId: member.id };
  });
}

const okaforScope = (): SessionScope => scopeOf(okafor, { memberId: okafor.nana, verified: true });
const mensahScope = (): SessionScope => ({
  organizationId: okafor.organizationId,
  householdId: mensah.householdId,
  memberId: mensah.memberId,
  callId: null,
  callerVerified: true,
});

/** A standalone block of the organization ("family"), attached to both households. */
async function sharedFamilyBlock(fields: { value?: string; charLimit?: number } = {}): Promise<BlockView> {
  const block = await memory.createBlock({
    organizationId: okafor.organizationId,
    householdId: null,
    memberId: null,
    label: 'family',
    description: 'Facts both branches of the family share',
    value: fields.value ?? 'Sunday lunch is at Nana’s.',
    ...(fields.charLimit === undefined ? {} : { charLimit: fields.charLimit }),
    source: { ...admin, detail: 'block.create' },
  });
  for (const householdId of [okafor.householdId, mensah.householdId]) {
    tick();
    await memory.attachBlock({ organizationId: okafor.organizationId, householdId, blockId: block.id });
  }
  changes = [];
  return block;
}

/** Moves the clock on a second, so that attachments have an order. */
function tick(): void {
  clock.set(new Date(clock.now().getTime() + 1000).toISOString());
}

const byId = (block: { id: string }) => ({ organizationId: okafor.organizationId, blockId: block.id });

describe('standalone blocks', () => {
  it('belong to the organization, not a household: no household sees them until attached', async () => {
    const block = await memory.createBlock({
      organizationId: okafor.organizationId,
      householdId: null,
      memberId: null,
      label: 'family',
      value: 'Sunday lunch is at Nana’s.',
      source: { ...admin, detail: 'block.create' },
    });
    expect(block).toMatchObject({ householdId: null, memberId: null, label: 'family', version: 1 });
    expect(changes).toEqual([]);
    expect(await memory.getBlock(byId(block))).toEqual(block);
    const history = await memory.blockHistory(byId(block));
    expect(history.items).toMatchObject([{ version: 1, value: 'Sunday lunch is at Nana’s.', source: 'admin' }]);
    const revision = await db.prisma.blockRevision.findFirstOrThrow({ where: { blockId: block.id } });
    expect(revision.householdId).toBeNull();
    expect((await memory.listBlocks({ householdId: okafor.householdId })).map((b) => b.label)).not.toContain('family');

    // Letta allows repeated labels among standalone blocks.
    const again = await memory.createBlock({
      organizationId: okafor.organizationId,
      householdId: null,
      memberId: null,
      label: 'family',
      source: admin,
    });
    expect(again.id).not.toBe(block.id);
  });

  it('are listed with the households’ shared blocks, never members’, a page at a time', async () => {
    const family = await memory.createBlock({
      organizationId: okafor.organizationId,
      householdId: null,
      memberId: null,
      label: 'family',
      source: admin,
    });
    const all = await memory.listOrganizationBlocks({
      organizationId: okafor.organizationId,
      limit: 100,
      order: 'asc',
    });
    expect(all.map((block) => [block.label, block.householdId])).toEqual(
      expect.arrayContaining([
        ['persona', okafor.householdId],
        ['household', okafor.householdId],
        ['persona', mensah.householdId],
        ['household', mensah.householdId],
        ['family', null],
      ]),
    );
    expect(all).toHaveLength(5);
    expect(all.every((block) => block.memberId === null)).toBe(true);

    const first = await memory.listOrganizationBlocks({
      organizationId: okafor.organizationId,
      limit: 2,
      order: 'asc',
    });
    const last = first.at(-1) as BlockView;
    const rest = await memory.listOrganizationBlocks({
      organizationId: okafor.organizationId,
      limit: 100,
      order: 'asc',
      after: { createdAt: last.createdAt, id: last.id },
    });
    expect([...first, ...rest].map((block) => block.id)).toEqual(all.map((block) => block.id));
    const newestFirst = await memory.listOrganizationBlocks({
      organizationId: okafor.organizationId,
      limit: 100,
      order: 'desc',
    });
    expect(newestFirst.map((block) => block.id)).toEqual(all.map((block) => block.id).reverse());
    expect(
      await memory.listOrganizationBlocks({
        organizationId: okafor.organizationId,
        label: 'family',
        limit: 10,
        order: 'asc',
      }),
    ).toEqual([family]);
  });

  it('are found by id only in their own organization', async () => {
    const block = await sharedFamilyBlock();
    const stranger = await seedHousehold(db.prisma, memory, 'The Stranger household');
    await expectRejection(
      memory.getBlock({ organizationId: stranger.organizationId, blockId: block.id }),
      NotFoundError,
      `No block ${block.id} in this organization.`,
    );
    await expectRejection(
      memory.updateBlock({
        organizationId: stranger.organizationId,
        blockId: block.id,
        changes: { value: 'x' },
        source: admin,
      }),
      NotFoundError,
      `No block ${block.id} in this organization.`,
    );
    await expectRejection(
      memory.getBlock({ organizationId: okafor.organizationId, blockId: 'block-not-a-uuid' }),
      NotFoundError,
      'No block block-not-a-uuid in this organization.',
    );
  });
});

describe('attachBlock', () => {
  it('shows the block in each household it is attached to, in every caller’s prompt', async () => {
    const block = await memory.createBlock({
      organizationId: okafor.organizationId,
      householdId: null,
      memberId: null,
      label: 'family',
      value: 'Sunday lunch is at Nana’s.',
      source: admin,
    });
    for (const householdId of [okafor.householdId, mensah.householdId]) {
      tick();
      expect(
        await memory.attachBlock({ organizationId: okafor.organizationId, householdId, blockId: block.id }),
      ).toEqual(block);
    }
    expect(changes.map((change) => [change.householdId, change.blockId, change.deleted])).toEqual([
      [okafor.householdId, block.id, false],
      [mensah.householdId, block.id, false],
    ]);
    // A second attach changes nothing and tells no one.
    await memory.attachBlock({
      organizationId: okafor.organizationId,
      householdId: mensah.householdId,
      blockId: block.id,
    });
    expect(changes).toHaveLength(2);

    const shared = await memory.listBlocks({ householdId: okafor.householdId, memberId: null });
    expect(shared.map((b) => b.label)).toEqual(['persona', 'household', 'family']);
    expect(await memory.getBlock({ householdId: mensah.householdId, memberId: null, label: 'family' })).toEqual(block);
    for (const scope of [okaforScope(), mensahScope(), scopeOf(okafor, { memberId: null })]) {
      const text = await memory.compileContext({ scope });
      expect(text).toContain('<family>\n<description>\n\n</description>');
      expect(text).toContain('<value>\nSunday lunch is at Nana’s.\n</value>\n</family>');
    }
    const households = await memory.blockHouseholds({ organizationId: okafor.organizationId, blockIds: [block.id] });
    expect(households).toEqual(new Map([[block.id, [okafor.householdId, mensah.householdId]]]));
  });

  it('shares a household’s own shared block with another household, owner first', async () => {
    const routines = await memory.createBlock({
      organizationId: okafor.organizationId,
      householdId: okafor.householdId,
      memberId: null,
      label: 'routines',
      value: 'Walk at 10.',
      source: admin,
    });
    await memory.attachBlock({
      organizationId: okafor.organizationId,
      householdId: mensah.householdId,
      blockId: routines.id,
    });
    changes = [];
    await memory.updateBlock({
      householdId: okafor.householdId,
      memberId: null,
      label: 'routines',
      expectedVersion: 1,
      changes: { value: 'Walk at 11.' },
      source: admin,
    });
    expect(changes.map((change) => [change.householdId, change.version])).toEqual([
      [okafor.householdId, 2],
      [mensah.householdId, 2],
    ]);
    expect(await memory.compileContext({ scope: mensahScope() })).toContain('<value>\nWalk at 11.\n</value>');
    expect(await memory.blockHouseholds({ organizationId: okafor.organizationId, blockIds: [routines.id] })).toEqual(
      new Map([[routines.id, [okafor.householdId, mensah.householdId]]]),
    );
  });

  it('refuses a label the household already uses, and new blocks of an attached block’s label', async () => {
    const block = await sharedFamilyBlock();
    const own = await memory.createBlock({
      organizationId: okafor.organizationId,
      householdId: null,
      memberId: null,
      label: 'household',
      source: admin,
    });
    const householdBlock = await memory.getBlock({
      householdId: okafor.householdId,
      memberId: null,
      label: 'household',
    });
    await expectRejection(
      memory.attachBlock({ organizationId: okafor.organizationId, householdId: okafor.householdId, blockId: own.id }),
      ConflictError,
      `Household ${okafor.householdId} already has a block "household" (${householdBlock.id}, its own shared block); ` +
        'the blocks a household sees need distinct labels. Detach or delete that block first, or attach another.',
    );
    const otherFamily = await memory.createBlock({
      organizationId: okafor.organizationId,
      householdId: null,
      memberId: null,
      label: 'family',
      source: admin,
    });
    await expectRejection(
      memory.attachBlock({
        organizationId: okafor.organizationId,
        householdId: okafor.householdId,
        blockId: otherFamily.id,
      }),
      ConflictError,
      `Household ${okafor.householdId} already has a block "family" (${block.id}, attached to it); ` +
        'the blocks a household sees need distinct labels. Detach or delete that block first, or attach another.',
    );
    const create = (memberId: string | null) =>
      memory.createBlock({
        organizationId: okafor.organizationId,
        householdId: okafor.householdId,
        memberId,
        label: 'family',
        source: admin,
      });
    await expectRejection(
      create(null),
      ConflictError,
      'Block "family" is an attached block in this household; choose another label.',
    );
    await expectRejection(
      create(okafor.chidi),
      ConflictError,
      'Block "family" is an attached block in this household; choose another label.',
    );
    expect(changes).toEqual([]);
  });

  it('refuses a member’s block and the household’s own block', async () => {
    const caller = await memory.getBlock({ householdId: okafor.householdId, memberId: okafor.nana, label: 'caller' });
    await expectRejection(
      memory.attachBlock({
        organizationId: okafor.organizationId,
        householdId: mensah.householdId,
        blockId: caller.id,
      }),
      ConflictError,
      `Block "caller" (${caller.id}) is member ${okafor.nana}'s own block, shown only on their calls; only a ` +
        "household's shared blocks and standalone blocks can be attached.",
    );
    const household = await memory.getBlock({ householdId: okafor.householdId, memberId: null, label: 'household' });
    await expectRejection(
      memory.attachBlock({
        organizationId: okafor.organizationId,
        householdId: okafor.householdId,
        blockId: household.id,
      }),
      ConflictError,
      `Block "household" (${household.id}) is already this household's block; it needs no attachment.`,
    );
  });

  it('does not cross organizations', async () => {
    const block = await sharedFamilyBlock();
    const stranger = await seedHousehold(db.prisma, memory, 'The Stranger household');
    // The stranger's organization cannot name our block; ours cannot name their household.
    await expectRejection(
      memory.attachBlock({
        organizationId: stranger.organizationId,
        householdId: stranger.householdId,
        blockId: block.id,
      }),
      NotFoundError,
      `No block ${block.id} in this organization.`,
    );
    await expectRejection(
      memory.attachBlock({
        organizationId: okafor.organizationId,
        householdId: stranger.householdId,
        blockId: block.id,
      }),
      NotFoundError,
      `No household ${stranger.householdId}.`,
    );
    await expectRejection(
      memory.detachBlock({
        organizationId: stranger.organizationId,
        householdId: okafor.householdId,
        blockId: block.id,
      }),
      NotFoundError,
      `No block ${block.id} in this organization.`,
    );
    expect(await memory.blockHouseholds({ organizationId: stranger.organizationId, blockIds: [block.id] })).toEqual(
      new Map(),
    );
  });
});

describe('an attached block', () => {
  it('takes a memory tool edit from one household’s call, seen by the other, with one revision and an event each', async () => {
    const block = await sharedFamilyBlock();
    const result = await memory.runTool({
      name: 'core_memory_append',
      arguments: { label: 'family', content: 'Ama’s birthday is 3 March.' },
      scope: okaforScope(),
    });
    expect(result).toEqual({ ok: true, output: expect.stringContaining('Appended to block "family"') });
    expect(await memory.compileContext({ scope: mensahScope() })).toContain(
      '<value>\nSunday lunch is at Nana’s.\nAma’s birthday is 3 March.\n</value>',
    );
    const history = await memory.blockHistory(byId(block));
    expect(history.items).toMatchObject([
      { version: 2, source: 'agent_tool', detail: 'core_memory_append', callId: okafor.callId, memberId: okafor.nana },
      { version: 1 },
    ]);
    expect(await db.prisma.blockRevision.count({ where: { blockId: block.id } })).toBe(2);
    expect(changes).toEqual([
      {
        householdId: okafor.householdId,
        blockId: block.id,
        label: 'family',
        memberId: null,
        version: 2,
        deleted: false,
      },
      {
        householdId: mensah.householdId,
        blockId: block.id,
        label: 'family',
        memberId: null,
        version: 2,
        deleted: false,
      },
    ]);
  });

  it('keeps a re-run edit (same idempotency key) from being applied twice', async () => {
    const block = await sharedFamilyBlock();
    const append = () =>
      memory.runTool({
        name: 'core_memory_append',
        arguments: { label: 'family', content: 'Ama’s birthday is 3 March.' },
        scope: mensahScope(),
        source: 'consolidation',
        idempotencyKey: 'consolidation:call-1:0',
      });
    expect((await append()).ok).toBe(true);
    expect(await append()).toEqual({
      ok: true,
      output: 'This edit of block "family" was already applied; nothing changed.',
    });
    expect((await memory.getBlock(byId(block))).version).toBe(2);
  });

  it('enforces its read-only flag and character limit on the agent', async () => {
    const block = await sharedFamilyBlock({ value: '1234567890', charLimit: 15 });
    const append = (scope: SessionScope) =>
      memory.runTool({ name: 'core_memory_append', arguments: { label: 'family', content: 'abcdefgh' }, scope });
    expect(await append(mensahScope())).toEqual({
      ok: false,
      output: 'Edit refused: would be 19 characters, the limit is 15; shorten or move details to archival memory',
    });
    await memory.updateBlock({ ...byId(block), changes: { readOnly: true }, source: admin });
    expect(await append(okaforScope())).toEqual({ ok: false, output: 'Block "family" is read-only' });
    expect(
      await memory.runTool({
        name: 'memory_rethink',
        arguments: { label: 'family', new_memory: 'x' },
        scope: mensahScope(),
      }),
    ).toEqual({ ok: false, output: 'Block "family" is read-only' });
    expect((await memory.getBlock(byId(block))).value).toBe('1234567890');
  });

  it('is edited by label from either household and by id, with or without an expected version', async () => {
    const block = await sharedFamilyBlock();
    const fromMensah = await memory.updateBlock({
      householdId: mensah.householdId,
      memberId: null,
      label: 'family',
      expectedVersion: 1,
      changes: { value: 'Lunch moved to Saturday.' },
      source: admin,
    });
    expect(fromMensah).toMatchObject({ version: 2, householdId: null });
    // Without an expected version, the last writer wins over whatever is current.
    const lastWriter = await memory.updateBlock({
      ...byId(block),
      changes: { value: 'Lunch is on Sunday again.', description: 'Family lunch' },
      source: admin,
    });
    expect(lastWriter).toMatchObject({ version: 3, value: 'Lunch is on Sunday again.', description: 'Family lunch' });
    await expectRejection(
      memory.updateBlock({ ...byId(block), expectedVersion: 2, changes: { value: 'stale' }, source: admin }),
      PreconditionFailedError,
      'Block "family" is at version 3, not 2; reload it and retry.',
    );
    // Concurrent last-writer-wins updates through different addresses both land, one after the other.
    const [viaId, viaLabel] = await Promise.all([
      memory.updateBlock({ ...byId(block), changes: { value: 'A' }, source: admin }),
      memory.updateBlock({
        householdId: okafor.householdId,
        memberId: null,
        label: 'family',
        changes: { value: 'B' },
        source: admin,
      }),
    ]);
    expect([viaId.version, viaLabel.version].sort()).toEqual([4, 5]);
    const rolledBack = await memory.rollbackBlock({
      ...byId(block),
      toVersion: 1,
      source: { source: 'admin', actor: 'key-1' },
    });
    expect(rolledBack).toMatchObject({ version: 6, value: 'Sunday lunch is at Nana’s.' });
    expect((await memory.blockHistory({ ...byId(block), limit: 1 })).items).toMatchObject([
      { version: 6, source: 'rollback', detail: 'to version 1' },
    ]);
  });
});

describe('an update without an expected version', () => {
  it('that loses a race to another instance re-reads and lands on top: the last writer wins, nothing is lost', async () => {
    const block = await sharedFamilyBlock();
    const events = createInProcessEvents();
    const other = new BlockWriter({
      prisma: db.prisma,
      store: new BlockStore({ prisma: db.prisma, events, now: clock.now }),
      events,
      now: clock.now,
    });
    let raced = false;
    /** A store whose first read is followed, before the swap, by another instance's write. */
    class RacedStore extends BlockStore {
      override async get(target: BlockTarget): Promise<BlockView> {
        const current = await super.get(target);
        if (!raced) {
          raced = true;
          await other.update({ ref: target, changes: { value: 'Theirs.' }, source: admin });
        }
        return current;
      }
    }
    const store = new RacedStore({ prisma: db.prisma, events, now: clock.now });
    const writer = new BlockWriter({ prisma: db.prisma, store, events, now: clock.now });
    const written = await writer.update({ ref: byId(block), changes: { value: 'Ours.' }, source: admin });
    expect(written).toMatchObject({ version: 3, value: 'Ours.' });
    const history = await memory.blockHistory(byId(block));
    expect(history.items.map((revision) => [revision.version, revision.value])).toEqual([
      [3, 'Ours.'],
      [2, 'Theirs.'],
      [1, 'Sunday lunch is at Nana’s.'],
    ]);
  });
});

describe('detachBlock', () => {
  it('takes the block out of the household’s prompts only', async () => {
    const block = await sharedFamilyBlock();
    await memory.detachBlock({
      organizationId: okafor.organizationId,
      householdId: okafor.householdId,
      blockId: block.id,
    });
    expect(changes).toEqual([
      {
        householdId: okafor.householdId,
        blockId: block.id,
        label: 'family',
        memberId: null,
        version: 1,
        deleted: true,
      },
    ]);
    expect(await memory.compileContext({ scope: okaforScope() })).not.toContain('<family>');
    expect(await memory.compileContext({ scope: mensahScope() })).toContain('<family>');
    expect(
      await memory.runTool({
        name: 'core_memory_append',
        arguments: { label: 'family', content: 'x' },
        scope: okaforScope(),
      }),
    ).toMatchObject({ ok: false, output: expect.stringMatching(/^No block "family"\./) });
    await expectRejection(
      memory.detachBlock({ organizationId: okafor.organizationId, householdId: okafor.householdId, blockId: block.id }),
      NotFoundError,
      `Block "family" (${block.id}) is not attached to household ${okafor.householdId}.`,
    );
    // The label is free again in that household.
    await memory.createBlock({
      organizationId: okafor.organizationId,
      householdId: okafor.householdId,
      memberId: null,
      label: 'family',
      source: admin,
    });
  });

  it('refuses the household’s own block: that is deleted, not detached', async () => {
    const household = await memory.getBlock({ householdId: okafor.householdId, memberId: null, label: 'household' });
    await expectRejection(
      memory.detachBlock({
        organizationId: okafor.organizationId,
        householdId: okafor.householdId,
        blockId: household.id,
      }),
      ConflictError,
      `Block "household" (${household.id}) is household ${okafor.householdId}'s own block, not attached to it; ` +
        'delete it instead.',
    );
  });
});

describe('deleting', () => {
  it('a standalone block by id takes it out of every household it was attached to', async () => {
    const block = await sharedFamilyBlock();
    // By label, a household only has it attached: deleting it there would delete it for the others too.
    await expectRejection(
      memory.deleteBlock({ householdId: okafor.householdId, memberId: null, label: 'family' }),
      ConflictError,
      `Block "family" (${block.id}) is attached to household ${okafor.householdId}, not its own: detach it from ` +
        'this household, or delete it by id to delete it for every household that sees it.',
    );
    await memory.deleteBlock(byId(block));
    expect(changes.map((change) => [change.householdId, change.deleted])).toEqual([
      [okafor.householdId, true],
      [mensah.householdId, true],
    ]);
    for (const scope of [okaforScope(), mensahScope()]) {
      expect(await memory.compileContext({ scope })).not.toContain('<family>');
    }
    await expectRejection(memory.getBlock(byId(block)), NotFoundError, `No block ${block.id} in this organization.`);
    expect(await db.prisma.blockAttachment.count({ where: { blockId: block.id } })).toBe(0);
  });

  it('a default block by id is refused as by label', async () => {
    const persona = await memory.getBlock({ householdId: okafor.householdId, memberId: null, label: 'persona' });
    await expectRejection(
      memory.deleteBlock(byId(persona)),
      ConflictError,
      'Block "persona" is a default block and cannot be deleted; clear its value instead.',
    );
  });

  it('a household keeps the standalone blocks it had attached', async () => {
    const block = await sharedFamilyBlock();
    await db.prisma.household.delete({ where: { id: okafor.householdId } });
    expect(await memory.getBlock(byId(block))).toMatchObject({ id: block.id, householdId: null });
    expect(await memory.blockHouseholds({ organizationId: okafor.organizationId, blockIds: [block.id] })).toEqual(
      new Map([[block.id, [mensah.householdId]]]),
    );
    expect(await memory.compileContext({ scope: mensahScope() })).toContain('<family>');
  });
});
