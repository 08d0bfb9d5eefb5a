/**
 * Recall and archival search with the real local embedding model (loaded once for this file),
 * so that "hybrid beats each half" is measured, not assumed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/index.js';
import {
  createEmbedder,
  createMemoryEngine,
  type Embedder,
  LOCAL_EMBEDDING_MODEL,
  type MemoryEngine,
  type SessionScope,
} from '../../src/memory/index.js';
import { createTestDatabase } from '../support/database.js';
import { hashEmbedder, newCall, type SeededHousehold, scopeOf, seedHousehold, testClock } from './helpers.js';

const PARAPHRASE_TARGET = 'My granddaughter is coming to stay with me next weekend.';
const NAME_TARGET =
  'Dr. Okonkwo-Bell said to take the blood pressure tablets with food, twice a day, and to write down any dizziness.';
/** Checked with the local model: names and family talk that pull a bare name query away from NAME_TARGET. */
const DISTRACTORS = [
  'The boiler made a banging noise again this morning.',
  'I watered the tomatoes and the roses in the garden.',
  'Can you remind me to call the pharmacy on Monday?',
  'The cat knocked a glass off the kitchen table.',
  'I am feeling a bit lonely today, the house is quiet.',
  'We had fish and chips for dinner on Friday.',
  'My nephew Emeka and his wife are flying in from Lagos for Christmas.',
  'My knee hurts when I climb the stairs.',
  'Mrs. Adeyemi from church brought round some apple pie.',
  'Our old friends the Nwosus might come for lunch on Sunday.',
  'Please tell Chidi that the bins go out on Tuesday.',
  'I paid the electricity bill at the post office.',
  'My sister Ngozi phoned from Abuja yesterday.',
];

let db: Database;
let embedder: Embedder;
let memory: MemoryEngine;
let seeded: SeededHousehold;
let other: SeededHousehold;
let earlierCall: string;
let chidiCall: string;
let strangerCall: string;
const clock = testClock();

const nana = (verified = true): SessionScope => scopeOf(seeded, { memberId: seeded.nana, verified });
const run = (name: string, args: object, scope: SessionScope = nana()) =>
  memory.runTool({ name, arguments: JSON.stringify(args), scope });
const contents = (items: Array<{ content: string }>) => items.map((item) => item.content);

async function say(scope: SessionScope, at: string, role: 'user' | 'assistant' | 'tool', content: string) {
  clock.set(at);
  await memory.appendMessage({
    scope,
    role,
    content,
    ...(role === 'tool' ? { toolName: 'archival_memory_search' } : {}),
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  embedder = createEmbedder({});
  memory = createMemoryEngine({ prisma: db.prisma, embedder, now: clock.now });
  seeded = await seedHousehold(db.prisma, memory);
  other = await seedHousehold(db.prisma, memory, 'The Smith household');
  earlierCall = await newCall(db.prisma, seeded, seeded.nana);
  chidiCall = await newCall(db.prisma, seeded, seeded.chidi);
  strangerCall = await newCall(db.prisma, seeded, null);
  const earlier = scopeOf(seeded, { memberId: seeded.nana, callId: earlierCall });
  const fixture = [PARAPHRASE_TARGET, NAME_TARGET, ...DISTRACTORS];
  for (const [index, content] of fixture.entries()) {
    await say(earlier, `2026-11-20T10:${String(index).padStart(2, '0')}:00Z`, 'user', content);
  }
  await say(earlier, '2026-11-20T10:30:00Z', 'assistant', 'I will remind you to water the garden on Saturday.');
  await say(earlier, '2026-11-20T10:31:00Z', 'tool', 'No archival passages matched "garden".');
  // Around midnight in London (BST, UTC+1): 23:30 UTC on 10 July is 00:30 on 11 July at home.
  await say(earlier, '2026-07-10T23:30:00Z', 'user', 'The roses are blooming beautifully this summer.');
  await say(earlier, '2026-07-09T12:00:00Z', 'user', 'I cut the first roses of the summer today.');
  await say(
    scopeOf(seeded, { memberId: seeded.chidi, callId: chidiCall }),
    '2026-11-21T09:00:00Z',
    'user',
    'The garage door code is 4512, keep it to yourself.',
  );
  await say(
    scopeOf(seeded, { memberId: null, callId: strangerCall }),
    '2026-11-22T09:00:00Z',
    'user',
    'I am selling double glazing, is the owner in?',
  );
  await say(scopeOf(other, { memberId: other.nana }), '2026-11-20T11:00:00Z', 'user', PARAPHRASE_TARGET);
  // appendMessage returns before the embedding is written; every vector is in place from here on.
  await memory.flush();
  clock.set('2026-11-26T14:05:00Z');
});
afterAll(async () => {
  await memory.close();
  await db.close();
});

/** The vector half alone: nearest messages of Nana by cosine distance. */
async function vectorOnly(query: string, limit: number): Promise<string[]> {
  const [vector] = await embedder.embed([query]);
  const rows = await db.prisma.$queryRaw<Array<{ content: string }>>`
    SELECT content FROM messages
    WHERE household_id = ${seeded.householdId}::uuid AND member_id = ${seeded.nana}::uuid AND embedding IS NOT NULL
    ORDER BY embedding <=> ${`[${vector!.join(',')}]`}::vector LIMIT ${limit}`;
  return rows.map((row) => row.content);
}

/** The full-text half alone: the engine's own fallback when the embedding service is down. */
async function fullTextOnly(query: string, limit: number): Promise<string[]> {
  const down = createMemoryEngine({
    prisma: db.prisma,
    embedder: { model: LOCAL_EMBEDDING_MODEL, dimensions: 512, embed: () => Promise.reject(new Error('down')) },
    now: clock.now,
  });
  const result = await down.searchRecall({ householdId: seeded.householdId, memberId: seeded.nana, query, limit });
  await down.close();
  return contents(result.items);
}

describe('recall search: hybrid beats each half', () => {
  it('finds a paraphrase that full-text misses, through the vector half', async () => {
    const query = 'When will the grandchild visit?';
    // Full-text finds only the assistant's later mention of "visiting", not what Nana said.
    expect(await fullTextOnly(query, 3)).toEqual([]);
    expect(await vectorOnly(query, 1)).toEqual([PARAPHRASE_TARGET]);
    const hybrid = await memory.searchRecall({
      householdId: seeded.householdId,
      memberId: seeded.nana,
      query,
      limit: 3,
    });
    expect(contents(hybrid.items)[0]).toBe(PARAPHRASE_TARGET);
  });

  it('finds an exact name that the vectors rank low, through the full-text half', async () => {
    const query = 'Okonkwo-Bell';
    expect(await vectorOnly(query, 3)).not.toContain(NAME_TARGET);
    expect(await fullTextOnly(query, 3)).toEqual([NAME_TARGET]);
    const hybrid = await memory.searchRecall({
      householdId: seeded.householdId,
      memberId: seeded.nana,
      query,
      limit: 3,
    });
    expect(contents(hybrid.items)[0]).toBe(NAME_TARGET);
    expect(hybrid.items[0]?.score).toBeGreaterThan(hybrid.items[1]?.score ?? 0);
  });
});

describe('recall search: filters and paging', () => {
  it('applies a real date range, inclusive, in the household’s timezone', async () => {
    const search = (start?: string, end?: string) =>
      run('conversation_search', { query: 'roses summer', ...(start ? { start } : {}), ...(end ? { end } : {}) });
    const onTenth = await search('2026-07-10', '2026-07-10');
    expect(onTenth).toEqual({
      ok: true,
      output: 'No messages matched "roses summer" in this caller\'s conversations.',
    });
    expect((await search('2026-07-11', '2026-07-11')).output).toBe(
      [
        'Messages in this caller\'s conversations for "roses summer":',
        '1. [2026-07-11 00:30, Adaeze Okafor] The roses are blooming beautifully this summer.',
      ].join('\n'),
    );
    expect((await search(undefined, '2026-07-10')).output).toContain('I cut the first roses of the summer today.');
    expect((await search(undefined, '2026-07-10')).output).not.toContain('blooming');
    expect((await search('2026-07-10T00:00:00Z', '2026-07-10T23:59:59Z')).output).toContain('blooming');
    const atEngine = await memory.searchRecall({
      householdId: seeded.householdId,
      memberId: seeded.nana,
      query: 'roses',
      start: new Date('2026-07-09T12:00:00Z'),
      end: new Date('2026-07-09T12:00:00Z'),
    });
    expect(contents(atEngine.items)).toEqual(['I cut the first roses of the summer today.']);
  });

  it('refuses dates it cannot read, and a start after the end', async () => {
    expect(await run('conversation_search', { query: 'roses', start: 'last summer' })).toEqual({
      ok: false,
      output: 'start "last summer" is not a date; use "YYYY-MM-DD" or an ISO date-time',
    });
    expect(await run('conversation_search', { query: 'roses', start: '2026-07-12', end: '2026-07-01' })).toEqual({
      ok: false,
      output: 'start (2026-07-12) is after end (2026-07-01); swap them',
    });
  });

  it('searches user and assistant turns by default, and the roles asked for', async () => {
    const all = await run('conversation_search', { query: 'garden', limit: 20 });
    expect(all.output).toContain('[2026-11-20 10:30, assistant] I will remind you to water the garden on Saturday.');
    expect(all.output).toContain(
      '[2026-11-20 10:03, Adaeze Okafor] I watered the tomatoes and the roses in the garden.',
    );
    expect(all.output).not.toContain('No archival passages matched');
    const tool = await run('conversation_search', { query: 'garden', roles: ['tool'] });
    expect(tool.output).toBe(
      [
        'Messages in this caller\'s conversations for "garden":',
        '1. [2026-11-20 10:31, tool] No archival passages matched "garden".',
      ].join('\n'),
    );
  });

  it('pages through results', async () => {
    const page = (n: number) =>
      memory.searchRecall({
        householdId: seeded.householdId,
        memberId: seeded.nana,
        query: 'roses',
        limit: 1,
        page: n,
      });
    const [first, second, third] = [await page(1), await page(2), await page(3)];
    expect([first.hasMore, second.hasMore].every(Boolean)).toBe(true);
    // The three messages that mention roses rank first: each has both a full-text and a vector rank.
    const seen = [first, second, third].flatMap((result) => contents(result.items));
    expect(seen.sort()).toEqual([
      'I cut the first roses of the summer today.',
      'I watered the tomatoes and the roses in the garden.',
      'The roses are blooming beautifully this summer.',
    ]);
    const viaTool = await run('conversation_search', { query: 'roses', limit: 1 });
    expect(viaTool.output.split('\n')[0]).toBe(
      'Messages in this caller\'s conversations for "roses" (page 1; more on page 2):',
    );
  });
});

describe('recall search: who may search what', () => {
  it('keeps a caller to their own conversations by default', async () => {
    const own = await run('conversation_search', { query: 'garage door code', limit: 50 });
    expect(own.output).not.toContain('4512');
    const household = await memory.searchRecall({
      householdId: seeded.householdId,
      memberId: null,
      query: 'garage door code',
    });
    expect(contents(household.items)[0]).toContain('4512');
  });

  it('searches the whole household for a verified member who asks', async () => {
    const result = await run('conversation_search', { query: 'garage door code', scope: 'household', limit: 1 });
    expect(result.output).toBe(
      [
        'Messages in this household\'s conversations for "garage door code" (page 1; more on page 2):',
        '1. [2026-11-21 09:00, Chidi Okafor] The garage door code is 4512, keep it to yourself.',
      ].join('\n'),
    );
  });

  it('refuses household-wide search to an unverified caller', async () => {
    expect(await run('conversation_search', { query: 'garage', scope: 'household' }, nana(false))).toEqual({
      ok: false,
      output:
        "Searching the whole household's conversations needs a verified caller; search this caller's own " +
        'conversations instead (scope "caller")',
    });
  });

  it('gives an unknown caller only the call in progress', async () => {
    const stranger = scopeOf(seeded, { memberId: null, callId: strangerCall });
    const result = await run(
      'conversation_search',
      { query: 'glazing owner garage granddaughter', limit: 50 },
      stranger,
    );
    expect(result.output).toBe(
      [
        'Messages in this call for "glazing owner garage granddaughter":',
        '1. [2026-11-22 09:00, unknown caller] I am selling double glazing, is the owner in?',
      ].join('\n'),
    );
    const noCall = scopeOf(seeded, { memberId: null, callId: null });
    expect(await run('conversation_search', { query: 'x' }, noCall)).toEqual({
      ok: false,
      output: 'There are no earlier conversations to search for an unknown caller',
    });
  });

  it('never returns another household’s messages', async () => {
    const result = await memory.searchRecall({
      householdId: other.householdId,
      query: 'granddaughter staying',
      limit: 50,
    });
    expect(contents(result.items)).toEqual([PARAPHRASE_TARGET]);
    expect(result.items[0]?.memberId).toBe(other.nana);
  });
});

describe('archival memory', () => {
  let hearingAid: string;

  beforeAll(async () => {
    const { organizationId, householdId, chidi } = seeded;
    clock.set('2026-10-01T09:00:00Z');
    hearingAid = (
      await memory.insertPassage({
        organizationId,
        householdId,
        text: 'Nana’s hearing aid batteries are size 312, kept in the hall drawer.',
        tags: ['Health', 'supplies', 'health'],
      })
    ).id;
    clock.set('2026-11-01T09:00:00Z');
    await memory.insertPassage({
      organizationId,
      householdId,
      text: 'The spare house key is with Mrs. Adeyemi at number 14.',
      tags: ['home'],
    });
    await memory.insertPassage({
      organizationId,
      householdId,
      memberId: chidi,
      text: 'Chidi prefers text messages to calls.',
      tags: ['contact'],
    });
    await memory.insertPassage({
      organizationId: other.organizationId,
      householdId: other.householdId,
      text: 'The Smiths keep their spare house key under the mat.',
      tags: ['home'],
    });
    clock.set('2026-11-26T14:05:00Z');
  });

  it('stores tags normalized and the embedding model’s name with the vector', async () => {
    const [row] = await db.prisma.$queryRaw<Array<{ tags: string[]; embedding_model: string; dims: number }>>`
      SELECT tags, embedding_model, vector_dims(embedding) AS dims FROM passages WHERE id = ${hearingAid}::uuid`;
    expect(row).toEqual({ tags: ['health', 'supplies'], embedding_model: LOCAL_EMBEDDING_MODEL, dims: 512 });
  });

  it('filters by tags and household inside the query, and never leaks another household', async () => {
    const search = (input: { query: string; tags?: string[]; householdId?: string }) =>
      memory.searchPassages({
        householdId: input.householdId ?? seeded.householdId,
        query: input.query,
        tags: input.tags,
        limit: 10,
      });
    const texts = (result: { items: Array<{ text: string }> }) => result.items.map((item) => item.text);
    expect(texts(await search({ query: 'spare key', tags: ['HOME'] }))).toEqual([
      'The spare house key is with Mrs. Adeyemi at number 14.',
    ]);
    expect(texts(await search({ query: 'spare key', tags: ['health', 'contact'] })).sort()).toEqual([
      'Chidi prefers text messages to calls.',
      'Nana’s hearing aid batteries are size 312, kept in the hall drawer.',
    ]);
    expect(texts(await search({ query: 'spare key' }))).not.toContain(
      'The Smiths keep their spare house key under the mat.',
    );
    expect(texts(await search({ query: 'spare key', householdId: other.householdId }))).toEqual([
      'The Smiths keep their spare house key under the mat.',
    ]);
  });

  it('scopes member passages to that member, and household ones to everyone', async () => {
    const visible = async (memberId: string | null) =>
      (
        await memory.searchPassages({
          householdId: seeded.householdId,
          memberId,
          query: 'texting preferences',
          limit: 10,
        })
      ).items.map((item) => item.text);
    expect(await visible(seeded.chidi)).toContain('Chidi prefers text messages to calls.');
    expect(await visible(seeded.nana)).not.toContain('Chidi prefers text messages to calls.');
    expect(await visible(null)).not.toContain('Chidi prefers text messages to calls.');
    expect(await visible(null)).toHaveLength(2);
  });

  it('filters by date and skips facts that are no longer true', async () => {
    const since = await memory.searchPassages({
      householdId: seeded.householdId,
      query: 'batteries key',
      start: new Date('2026-10-15T00:00:00Z'),
    });
    expect(since.items.map((item) => item.text)).not.toContain(
      'Nana’s hearing aid batteries are size 312, kept in the hall drawer.',
    );
    await db.prisma.passage.update({
      where: { id: hearingAid },
      data: { invalidAt: new Date('2026-11-02T00:00:00Z') },
    });
    const now = await memory.searchPassages({ householdId: seeded.householdId, query: 'hearing aid batteries' });
    expect(now.items.map((item) => item.text)).not.toContain(
      'Nana’s hearing aid batteries are size 312, kept in the hall drawer.',
    );
    await db.prisma.passage.update({ where: { id: hearingAid }, data: { invalidAt: null } });
  });

  it('never compares vectors of another embedding model', async () => {
    const otherModel = createMemoryEngine({
      prisma: db.prisma,
      embedder: hashEmbedder('another-model'),
      now: clock.now,
    });
    const text = 'Grandad’s walking stick is behind the front door.';
    await otherModel.insertPassage({ organizationId: seeded.organizationId, householdId: seeded.householdId, text });
    // No word in common with the passage: only a vector of this engine's model could find it.
    const result = await memory.searchPassages({ householdId: seeded.householdId, query: 'cane', limit: 50 });
    expect(result.items.map((item) => item.text)).not.toContain(text);
    const found = await memory.searchPassages({ householdId: seeded.householdId, query: 'walking stick', limit: 50 });
    expect(found.items.map((item) => item.text)).toContain(text);
    await db.prisma.passage.deleteMany({ where: { text } });
    await otherModel.close();
  });

  it('is not crowded out by a bigger household with closer vectors', async () => {
    const copies = 300;
    const source = await memory.insertPassage({
      organizationId: other.organizationId,
      householdId: other.householdId,
      text: 'Where are the hearing aid batteries kept?',
    });
    await db.prisma.$executeRaw`
      INSERT INTO passages (id, organization_id, household_id, text, tags, embedding, embedding_model, created_at)
      SELECT gen_random_uuid(), organization_id, household_id, text, tags, embedding, embedding_model, created_at
      FROM passages, generate_series(1, ${copies}) WHERE id = ${source.id}::uuid`;
    const result = await memory.searchPassages({
      householdId: seeded.householdId,
      query: 'Where are the hearing aid batteries kept?',
      limit: 3,
    });
    expect(result.items[0]?.text).toBe('Nana’s hearing aid batteries are size 312, kept in the hall drawer.');
    expect(result.items.every((item) => item.householdId === seeded.householdId)).toBe(true);
  });

  it('is reachable through the agent tools', async () => {
    expect(
      await run('archival_memory_insert', {
        content: 'The window cleaner comes every other Thursday.',
        tags: ['home'],
      }),
    ).toEqual({
      ok: true,
      output: 'Saved to archival memory with tags home.',
    });
    const found = await run('archival_memory_search', { query: 'window cleaner', tags: ['home'], top_k: 1 });
    expect(found.output).toBe(
      [
        'Archival passages for "window cleaner" (page 1; more on page 2):',
        '1. [2026-11-26 14:05; tags: home] The window cleaner comes every other Thursday.',
      ].join('\n'),
    );
    const stranger = scopeOf(seeded, { memberId: null, callId: strangerCall });
    expect(await run('archival_memory_insert', { content: 'x', scope: 'caller' }, stranger)).toEqual({
      ok: false,
      output: 'This caller is not a household member, so there is no caller scope; save it with scope "household"',
    });
    expect(
      await run('archival_memory_insert', { content: 'Nana takes sugar in tea.', tags: ['a'.repeat(41)] }),
    ).toEqual({
      ok: false,
      output: 'Invalid arguments for archival_memory_insert: tags.0: Too big: expected string to have <=40 characters.',
    });
    expect(await run('archival_memory_search', { query: 'nothing like this at all', start: '2030-01-01' })).toEqual({
      ok: true,
      output: 'No archival passages matched "nothing like this at all".',
    });
  });
});
