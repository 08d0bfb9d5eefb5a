import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/index.js';
import { type BlockChange, createMemoryEngine, createMemoryEvents, type MemoryEngine } from '../../src/memory/index.js';
import { createTestDatabase } from '../support/database.js';
import { hashEmbedder, type SeededHousehold, scopeOf, seedHousehold } from './helpers.js';

let db: Database;
let memory: MemoryEngine;
let seeded: SeededHousehold;

beforeAll(async () => {
  db = await createTestDatabase();
  memory = createMemoryEngine({ prisma: db.prisma, embedder: hashEmbedder() });
  seeded = await seedHousehold(db.prisma, memory);
});
afterAll(async () => {
  await memory.close();
  await db.close();
});

const append = (engine: MemoryEngine, content: string) =>
  engine.runTool({
    name: 'core_memory_append',
    arguments: { label: 'household', content },
    scope: scopeOf(seeded, { memberId: seeded.nana, verified: true }),
  });

describe('block change events', () => {
  it('reach every listener after each write, survive a throwing listener, and stop on unsubscribe', async () => {
    const heard: BlockChange[] = [];
    const stopThrowing = memory.onBlockChange(() => {
      throw new Error('listener bug');
    });
    const stop = memory.onBlockChange((change) => heard.push(change));
    expect((await append(memory, 'First.')).ok).toBe(true);
    const block = await memory.getBlock({ householdId: seeded.householdId, memberId: null, label: 'household' });
    expect(heard).toEqual([
      {
        householdId: seeded.householdId,
        blockId: block.id,
        label: 'household',
        memberId: null,
        version: 2,
        deleted: false,
      },
    ]);
    stop();
    stopThrowing();
    await append(memory, 'Second.');
    expect(heard).toHaveLength(1);
  });

  it('stay in process on PGlite', async () => {
    const events = await createMemoryEvents({ db });
    const heard: number[] = [];
    events.subscribe((change) => heard.push(change.version));
    await events.publish({ householdId: 'h', blockId: 'b', label: 'x', memberId: null, version: 7, deleted: false });
    expect(heard).toEqual([7]);
    await events.close();
  });

  // Two engines with their own LISTEN connections stand for two app instances.
  it.runIf(process.env.TEST_DATABASE_URL)('cross instances through LISTEN/NOTIFY on Postgres, once each', async () => {
    const [eventsA, eventsB] = [await createMemoryEvents({ db }), await createMemoryEvents({ db })];
    const instanceA = createMemoryEngine({ prisma: db.prisma, embedder: hashEmbedder(), events: eventsA });
    const instanceB = createMemoryEngine({ prisma: db.prisma, embedder: hashEmbedder(), events: eventsB });
    const heardA: number[] = [];
    const heardB = new Promise<BlockChange>((resolve) => instanceB.onBlockChange(resolve));
    instanceA.onBlockChange((change) => heardA.push(change.version));
    await append(instanceA, 'From instance A.');
    const change = await heardB;
    expect(change).toMatchObject({ householdId: seeded.householdId, label: 'household', deleted: false });
    // Notifications arrive in commit order: had A been notified of its own write, that would come before B's.
    const heardFromB = new Promise<void>((resolve) => instanceA.onBlockChange(() => resolve()));
    await append(instanceB, 'From instance B.');
    await heardFromB;
    expect(heardA).toEqual([change.version, change.version + 1]);
    await instanceA.close();
    await instanceB.close();
  });
});

describe('context pressure', () => {
  it('uses HEARTH_MEMORY_WARN_TOKENS and HEARTH_MEMORY_EVICT_TOKENS unless given thresholds', () => {
    const atChars = (tokens: number) => 'x'.repeat(tokens * 4);
    expect(memory.contextPressure({ messages: [], instructions: atChars(19_999) }).level).toBe('ok');
    expect(memory.contextPressure({ messages: [], instructions: atChars(20_000) }).level).toBe('warn');
    expect(memory.contextPressure({ messages: [], instructions: atChars(26_000) }).level).toBe('evict');
    expect(() =>
      createMemoryEngine({ prisma: db.prisma, embedder: hashEmbedder(), pressure: { warnTokens: 10, evictTokens: 5 } }),
    ).toThrow(RangeError);
  });

  it('summarizes for eviction what contextPressure said to drop', async () => {
    const engine = createMemoryEngine({
      prisma: db.prisma,
      embedder: hashEmbedder(),
      pressure: { warnTokens: 100, evictTokens: 200 },
    });
    const messages = Array.from({ length: 6 }, (_, index) => ({ role: 'user', content: `${index}`.repeat(200) }));
    const pressure = engine.contextPressure({ messages, instructions: '' });
    expect(pressure).toMatchObject({ level: 'evict', evictCount: 4 });
    const result = await engine.summarizeForEviction({
      messages,
      instructions: '',
      summarizer: { summarize: async (dropped) => dropped.map((message) => message.content[0]).join('') },
    });
    expect(result).toEqual({ summary: '0123', dropCount: 4 });
    await engine.close();
  });
});
