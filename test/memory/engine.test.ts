import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Database } from '../../src/db/index.js';
import { ValidationError } from '../../src/errors.js';
import {
  type BlockChange,
  createMemoryEngine,
  createMemoryEvents,
  DEFAULT_PRESSURE,
  MEMORY_LIMITS,
  type MemoryEngine,
} from '../../src/memory/index.js';
import { createTestDatabase } from '../support/database.js';
import { hashEmbedder, newCall, type SeededHousehold, scopeOf, seedHousehold } from './helpers.js';

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
  afterEach(() => {
    vi.restoreAllMocks();
  });

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

  it.runIf(process.env.TEST_DATABASE_URL)('end a LISTEN connection that reconnects while close() runs', async () => {
    const events = await createMemoryEvents({ db });
    const connect = pg.Client.prototype.connect as (this: pg.Client) => Promise<pg.Client>;
    const end = pg.Client.prototype.end as (this: pg.Client) => Promise<void>;
    let reconnected: pg.Client | undefined;
    let closing: Promise<void> | undefined;
    let reconnectEnded!: () => void;
    const ended = new Promise<void>((resolve) => {
      reconnectEnded = resolve;
    });
    // The engine closes while its reconnect is connecting; left open, that client would keep the
    // process alive. (Only the change channel's clients listen for notifications; the pool's do not.)
    vi.spyOn(pg.Client.prototype, 'connect').mockImplementation(function (this: pg.Client) {
      if (this.listenerCount('notification') === 0) return connect.call(this);
      reconnected = this;
      closing = events.close();
      return connect.call(this);
    } as unknown as typeof connect);
    vi.spyOn(pg.Client.prototype, 'end').mockImplementation(function (this: pg.Client) {
      if (this === reconnected) reconnectEnded();
      return end.call(this);
    } as unknown as typeof end);
    const killed = await db.prisma.$queryRaw<Array<{ killed: boolean }>>`
      SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
      WHERE datname = current_database() AND query = 'LISTEN hearth_memory_changes'`;
    expect(killed).toEqual([{ killed: true }]);
    await ended;
    await closing;
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

describe('idempotency keys', () => {
  it('apply an edit or an archival insert once: a re-run with the same key writes nothing and says so', async () => {
    const callId = await newCall(db.prisma, seeded, seeded.nana);
    const scope = scopeOf(seeded, { memberId: seeded.nana, callId });
    const edit = {
      name: 'core_memory_append',
      arguments: { label: 'caller', content: 'Prefers tea at four.' },
      scope,
      source: 'consolidation' as const,
      idempotencyKey: `test:${callId}:0`,
    };
    const fact = {
      name: 'archival_memory_insert',
      arguments: { content: 'The boiler was serviced in May.' },
      scope,
      source: 'consolidation' as const,
      idempotencyKey: `test:${callId}:1`,
    };
    expect(await memory.runTool(edit)).toMatchObject({ ok: true, output: expect.stringContaining('Appended') });
    expect(await memory.runTool(fact)).toMatchObject({ ok: true });
    expect(await memory.runTool(edit)).toEqual({
      ok: true,
      output: 'This edit of block "caller" was already applied; nothing changed.',
    });
    expect(await memory.runTool(fact)).toMatchObject({ ok: true });

    const block = await memory.getBlock({ householdId: seeded.householdId, memberId: seeded.nana, label: 'caller' });
    expect(block.value.match(/Prefers tea at four\./g)).toHaveLength(1);
    const revisions = await db.prisma.blockRevision.findMany({ where: { callId } });
    expect(revisions.map((revision) => [revision.idempotencyKey, revision.actor])).toEqual([
      [edit.idempotencyKey, null],
    ]);
    const passages = await db.prisma.passage.findMany({ where: { sourceCallId: callId } });
    expect(passages.map((passage) => passage.idempotencyKey)).toEqual([fact.idempotencyKey]);
  });
});

describe('context pressure', () => {
  const levelAt = (engine: MemoryEngine, tokens: number) =>
    engine.contextPressure({ messages: [], instructions: 'x'.repeat(tokens * 4) }).level;
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('uses DEFAULT_PRESSURE (20,000 / 26,000 tokens) without thresholds, never the environment', async () => {
    // Configuration enters at the composition root, which passes thresholds; the engine reads no variables.
    vi.stubEnv('HEARTH_MEMORY_WARN_TOKENS', '100');
    vi.stubEnv('HEARTH_MEMORY_EVICT_TOKENS', '200');
    const engine = createMemoryEngine({ prisma: db.prisma, embedder: hashEmbedder() });
    expect([19_999, 20_000, 25_999, 26_000].map((tokens) => levelAt(engine, tokens))).toEqual([
      'ok',
      'warn',
      'warn',
      'evict',
    ]);
    expect(DEFAULT_PRESSURE).toEqual({ warnTokens: 20_000, evictTokens: 26_000 });
    await engine.close();
  });

  it('uses the thresholds it is given, and refuses ones that are not 0 < warn < evict', async () => {
    const engine = createMemoryEngine({
      prisma: db.prisma,
      embedder: hashEmbedder(),
      pressure: { warnTokens: 100, evictTokens: 200 },
    });
    expect([99, 100, 200].map((tokens) => levelAt(engine, tokens))).toEqual(['ok', 'warn', 'evict']);
    await engine.close();
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

describe('MEMORY_LIMITS', () => {
  const L = MEMORY_LIMITS;
  const accepts = (promise: Promise<unknown>) => expect(promise).resolves.toBeDefined();
  const refuses = (promise: Promise<unknown>) => expect(promise).rejects.toThrow(ValidationError);

  it('are the search and history page sizes the engine enforces', async () => {
    const { householdId } = seeded;
    await accepts(memory.searchRecall({ householdId, query: 'tea', limit: L.searchLimitMax }));
    await refuses(memory.searchRecall({ householdId, query: 'tea', limit: L.searchLimitMax + 1 }));
    await refuses(memory.searchPassages({ householdId, query: 'tea', limit: L.searchLimitMax + 1 }));
    const history = (limit: number) => memory.blockHistory({ householdId, memberId: null, label: 'household', limit });
    await accepts(history(L.historyLimitMax));
    await refuses(history(L.historyLimitMax + 1));
  });

  it('are the passage and tag sizes the engine enforces', async () => {
    const { organizationId, householdId } = seeded;
    const insert = (text: string, tags: string[] = []) =>
      memory.insertPassage({ organizationId, householdId, text, tags });
    const tags = (count: number, length: number) =>
      Array.from({ length: count }, (_, index) => `${index}`.padStart(length, 't'));
    await accepts(insert('x'.repeat(L.passageTextMaxLength), tags(L.tagsMax, L.tagMaxLength)));
    await refuses(insert('x'.repeat(L.passageTextMaxLength + 1)));
    await refuses(insert('fact', tags(L.tagsMax + 1, 5)));
    await refuses(insert('fact', tags(1, L.tagMaxLength + 1)));
  });

  it('are the block label, description and character limits the engine enforces', async () => {
    const { organizationId, householdId } = seeded;
    const create = (fields: { label: string; description?: string; charLimit?: number }) =>
      memory.createBlock({ organizationId, householdId, memberId: null, source: { source: 'admin' }, ...fields });
    const longest = `l${'a'.repeat(L.blockLabelMaxLength - 1)}`;
    expect(L.blockLabelPattern.test(longest)).toBe(true);
    expect(await create({ label: longest, description: 'd'.repeat(L.blockDescriptionMaxLength) })).toMatchObject({
      charLimit: L.charLimitDefault,
    });
    await refuses(create({ label: `${longest}a` }));
    expect(L.blockLabelPattern.test('Notes')).toBe(false);
    await refuses(create({ label: 'Notes' }));
    await refuses(create({ label: 'long_description', description: 'd'.repeat(L.blockDescriptionMaxLength + 1) }));
    await accepts(create({ label: 'largest', charLimit: L.charLimitMax }));
    await refuses(create({ label: 'too_large', charLimit: L.charLimitMax + 1 }));
    await refuses(create({ label: 'too_small', charLimit: L.charLimitMin - 1 }));
  });
});
