/**
 * No lost writes. Two engines over one database stand for two app instances: each has its
 * own in-process queue, so only the version compare-and-swap keeps them from losing edits.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/index.js';
import { NotFoundError } from '../../src/errors.js';
import { BlockWriter } from '../../src/memory/block-writer.js';
import { BlockStore } from '../../src/memory/blocks.js';
import { createInProcessEvents, createMemoryEngine, type MemoryEngine } from '../../src/memory/index.js';
import { createTestDatabase } from '../support/database.js';
import {
  expectRejection,
  hashEmbedder,
  newCall,
  type SeededHousehold,
  scopeOf,
  seedHousehold,
  testClock,
} from './helpers.js';

let db: Database;
let engines: MemoryEngine[];
let seeded: SeededHousehold;
const clock = testClock();

beforeAll(async () => {
  db = await createTestDatabase();
  engines = Array.from({ length: 5 }, () =>
    createMemoryEngine({ prisma: db.prisma, embedder: hashEmbedder(), now: clock.now }),
  );
});
afterAll(async () => {
  await Promise.all(engines.map((engine) => engine.close()));
  await db.close();
});
beforeEach(async () => {
  seeded = await seedHousehold(db.prisma, engines[0]!);
});

const householdRef = () => ({ householdId: seeded.householdId, memberId: null, label: 'household' });

/** A block writer with its own store and events, as another instance would have. */
function newWriter(): BlockWriter {
  const events = createInProcessEvents();
  const store = new BlockStore({ prisma: db.prisma, events, now: clock.now });
  return new BlockWriter({ prisma: db.prisma, store, events, now: clock.now });
}

/** Resolves when `count` parties have arrived; each waits for all. */
function barrier(count: number) {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return () => {
    arrived += 1;
    if (arrived === count) open();
    return opened;
  };
}

describe('two writers that both read version v, then both write', () => {
  it('compose: the loser re-reads version v+1, re-applies its append, and both edits are kept', async () => {
    const writers = [newWriter(), newWriter()];
    const bothRead = barrier(2);
    const seenVersions: Record<string, number[]> = { A: [], B: [] };
    const append = (writer: BlockWriter, name: 'A' | 'B', line: string) =>
      writer.edit({
        ref: householdRef(),
        source: { source: 'agent_tool', detail: 'core_memory_append' },
        decide: async (current, attempt) => {
          seenVersions[name]!.push(current.version);
          // Only the first attempt waits, so both hold version 1 before either writes.
          if (attempt === 1) await bothRead();
          return { value: current.value ? `${current.value}\n${line}` : line };
        },
      });
    const [a, b] = await Promise.all([append(writers[0]!, 'A', 'A: milk'), append(writers[1]!, 'B', 'B: bread')]);

    const outcomes = [a, b].map((outcome) => (outcome.kind === 'written' ? outcome.attempts : outcome.kind));
    expect(outcomes.sort()).toEqual([1, 2]);
    const loser = a.kind === 'written' && a.attempts === 2 ? 'A' : 'B';
    expect(seenVersions[loser]).toEqual([1, 2]);
    const block = await engines[0]!.getBlock(householdRef());
    expect(block.version).toBe(3);
    expect(block.value.split('\n').sort()).toEqual(['A: milk', 'B: bread']);
    const revisions = await db.prisma.blockRevision.findMany({
      where: { blockId: block.id },
      orderBy: { version: 'asc' },
    });
    expect(revisions.map((revision) => revision.version)).toEqual([1, 2, 3]);
  });

  it('tells a memory_rethink that lost the race what the block says now, and saves nothing over it', async () => {
    const [first, second] = engines;
    const callA = await newCall(db.prisma, seeded, seeded.nana);
    const callB = await newCall(db.prisma, seeded, seeded.chidi);
    const nana = scopeOf(seeded, { memberId: seeded.nana, callId: callA, verified: true });
    const chidi = scopeOf(seeded, { memberId: seeded.chidi, callId: callB, verified: true });
    // Both models are shown version 1 of the household block.
    await first!.compileContext({ scope: nana });
    await second!.compileContext({ scope: chidi });

    const appended = await first!.runTool({
      name: 'core_memory_append',
      arguments: { label: 'household', content: 'Nana has a dentist appointment on Friday.' },
      scope: nana,
    });
    expect(appended.ok).toBe(true);
    const rethink = await second!.runTool({
      name: 'memory_rethink',
      arguments: { label: 'household', new_memory: 'Chidi visits on Sundays.' },
      scope: chidi,
    });
    expect(rethink).toEqual({
      ok: false,
      output:
        'Block "household" changed since you last saw it (another session saved version 2), so your rewrite was ' +
        'not saved. Its current value is:\nNana has a dentist appointment on Friday.\n' +
        'If your change is still needed, call memory_rethink again starting from this value',
    });
    // Having been shown the new value, a rewrite that keeps it goes through.
    const retried = await second!.runTool({
      name: 'memory_rethink',
      arguments: {
        label: 'household',
        new_memory: 'Nana has a dentist appointment on Friday.\nChidi visits on Sundays.',
      },
      scope: chidi,
    });
    expect(retried.ok).toBe(true);
    expect((await first!.getBlock(householdRef())).value).toBe(
      'Nana has a dentist appointment on Friday.\nChidi visits on Sundays.',
    );
  });

  it('refuses a rethink from a session without a call that was never shown the block, then lets it retry', async () => {
    const chidi = scopeOf(seeded, { memberId: seeded.chidi, callId: await newCall(db.prisma, seeded, seeded.chidi) });
    const noCall = scopeOf(seeded, { memberId: seeded.nana, callId: null, verified: true });
    const rethink = (newMemory: string) =>
      engines[0]!.runTool({
        name: 'memory_rethink',
        arguments: { label: 'household', new_memory: newMemory },
        scope: noCall,
      });
    await engines[1]!.runTool({
      name: 'core_memory_append',
      arguments: { label: 'household', content: 'Chidi visits on Sundays.' },
      scope: chidi,
    });
    expect(await rethink('Nana has a dentist appointment on Friday.')).toEqual({
      ok: false,
      output:
        'You have not seen block "household" in this session, so your rewrite was not saved. Its current value ' +
        'is:\nChidi visits on Sundays.\nIf your change is still needed, call memory_rethink again starting from this value',
    });
    expect((await engines[0]!.getBlock(householdRef())).value).toBe('Chidi visits on Sundays.');
    const retried = await rethink('Chidi visits on Sundays.\nNana has a dentist appointment on Friday.');
    expect(retried.ok).toBe(true);
    expect((await engines[0]!.getBlock(householdRef())).value).toBe(
      'Chidi visits on Sundays.\nNana has a dentist appointment on Friday.',
    );
  });

  it('refuses a rethink from a session without a call when the block changed since its context was built', async () => {
    const chidi = scopeOf(seeded, { memberId: seeded.chidi, callId: await newCall(db.prisma, seeded, seeded.chidi) });
    const noCall = scopeOf(seeded, { memberId: seeded.nana, callId: null, verified: true });
    await engines[0]!.compileContext({ scope: noCall });
    await engines[1]!.runTool({
      name: 'core_memory_append',
      arguments: { label: 'household', content: 'Milk.' },
      scope: chidi,
    });
    const rethink = await engines[0]!.runTool({
      name: 'memory_rethink',
      arguments: { label: 'household', new_memory: 'Bread.' },
      scope: noCall,
    });
    expect(rethink.output).toMatch(/^Block "household" changed since you last saw it \(another session saved version/);
    expect((await engines[0]!.getBlock(householdRef())).value).toBe('Milk.');
  });

  it('shows an appending model the other session’s edit it had not seen, and keeps both', async () => {
    const callA = await newCall(db.prisma, seeded, seeded.nana);
    const callB = await newCall(db.prisma, seeded, seeded.chidi);
    const nana = scopeOf(seeded, { memberId: seeded.nana, callId: callA, verified: true });
    const chidi = scopeOf(seeded, { memberId: seeded.chidi, callId: callB, verified: true });
    await engines[0]!.compileContext({ scope: nana });
    await engines[1]!.compileContext({ scope: chidi });
    await engines[0]!.runTool({
      name: 'core_memory_append',
      arguments: { label: 'household', content: 'Milk.' },
      scope: nana,
    });
    const result = await engines[1]!.runTool({
      name: 'core_memory_append',
      arguments: { label: 'household', content: 'Bread.' },
      scope: chidi,
    });
    expect(result).toEqual({
      ok: true,
      output:
        'Appended to block "household"; it now has 12 of 4000 characters. Another session changed this block too; ' +
        'both edits are kept. It now reads:\nMilk.\nBread.',
    });
  });
});

describe('edits that cannot land', () => {
  it('give up after repeated lost races and say so, rather than loop or overwrite', async () => {
    const writer = newWriter();
    const rival = newWriter();
    let attempts = 0;
    const outcome = await writer.edit({
      ref: householdRef(),
      source: { source: 'agent_tool' },
      decide: async (current) => {
        attempts += 1;
        // Another instance writes between every read and swap of this one.
        await rival.edit({
          ref: householdRef(),
          source: { source: 'agent_tool' },
          decide: (c) => ({ value: `${c.value}r` }),
        });
        return { value: `${current.value}x` };
      },
    });
    expect(outcome).toMatchObject({
      kind: 'refused',
      message: 'Block "household" is being edited by several sessions at once; try the edit again',
    });
    expect(attempts).toBe(50);
    expect((await engines[0]!.getBlock(householdRef())).value).toBe('r'.repeat(50));
  });

  it('refuse a block that was deleted meanwhile', async () => {
    const writer = newWriter();
    const outcome = await writer.edit({
      ref: { ...householdRef(), label: 'gone' },
      source: { source: 'agent_tool' },
      decide: () => ({ value: 'x' }),
    });
    expect(outcome).toEqual({ kind: 'refused', message: 'Block "gone" no longer exists', block: undefined });
  });
});

describe('writes to a household or member deleted meanwhile', () => {
  it('are a NotFoundError, not a foreign-key failure', async () => {
    const memory = engines[0]!;
    const scope = scopeOf(seeded, { memberId: seeded.chidi, verified: true });
    await db.prisma.member.delete({ where: { id: seeded.chidi } });
    await expectRejection(
      memory.insertPassage({ ...scope, text: 'Chidi plays chess.' }),
      NotFoundError,
      `No member ${seeded.chidi} in household ${seeded.householdId}.`,
    );
    await db.prisma.household.delete({ where: { id: seeded.householdId } });
    await expectRejection(
      memory.insertPassage({ ...scope, memberId: null, text: 'The cat is called Miso.' }),
      NotFoundError,
      `No household ${seeded.householdId}.`,
    );
    await expectRejection(
      memory.appendMessage({ scope: { ...scope, memberId: null }, role: 'user', content: 'Hello?' }),
      NotFoundError,
      `No household ${seeded.householdId}.`,
    );
  });
});

describe('fifty concurrent appends from parallel tasks', () => {
  it('all land, each exactly once, with one revision per append', async () => {
    const scope = scopeOf(seeded, { memberId: seeded.nana, verified: true });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        engines[index % engines.length]!.runTool({
          name: 'core_memory_append',
          arguments: { label: 'household', content: `fact ${index}` },
          scope,
        }),
      ),
    );
    expect(results.filter((result) => !result.ok)).toEqual([]);
    // Five engines contend, so some appends lost a compare-and-swap and were re-applied.
    expect(results.some((result) => result.output.includes('Another session changed this block too'))).toBe(true);
    const block = await engines[0]!.getBlock(householdRef());
    const lines = block.value.split('\n');
    expect(lines).toHaveLength(50);
    expect(new Set(lines)).toEqual(new Set(Array.from({ length: 50 }, (_, index) => `fact ${index}`)));
    expect(block.version).toBe(51);
    expect(await db.prisma.blockRevision.count({ where: { blockId: block.id } })).toBe(51);
  });
});
