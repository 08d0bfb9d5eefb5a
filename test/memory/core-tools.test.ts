import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/index.js';
import { createMemoryEngine, type MemoryEngine, type SessionScope } from '../../src/memory/index.js';
import { createTestDatabase } from '../support/database.js';
import { hashEmbedder, type SeededHousehold, scopeOf, seedHousehold, testClock } from './helpers.js';

let db: Database;
let memory: MemoryEngine;
let seeded: SeededHousehold;
let nana: SessionScope;
const clock = testClock();

beforeAll(async () => {
  db = await createTestDatabase();
  memory = createMemoryEngine({ prisma: db.prisma, embedder: hashEmbedder(), now: clock.now });
});
afterAll(async () => {
  await memory.close();
  await db.close();
});
beforeEach(async () => {
  seeded = await seedHousehold(db.prisma, memory);
  nana = scopeOf(seeded, { memberId: seeded.nana, verified: true });
});

const run = (name: string, args: unknown, scope: SessionScope = nana) =>
  memory.runTool({ name, arguments: typeof args === 'string' ? args : JSON.stringify(args), scope });
const household = () => memory.getBlock({ householdId: seeded.householdId, memberId: null, label: 'household' });
/** What a tool is told about a NUL character: Postgres text cannot hold one, and dropping it would store other text. */
const NUL_REFUSAL = 'must not contain the NUL character (\\u0000); remove it and send the text again';

describe('tool definitions', () => {
  it('are the six memory tools, JSON Schema objects with a description on every argument', () => {
    expect(memory.toolDefinitions.map((tool) => tool.name)).toEqual([
      'core_memory_append',
      'core_memory_replace',
      'memory_rethink',
      'archival_memory_insert',
      'archival_memory_search',
      'conversation_search',
    ]);
    for (const tool of memory.toolDefinitions) {
      expect(tool.type).toBe('function');
      expect(tool.description.length).toBeGreaterThan(20);
      expect(tool.parameters.type).toBe('object');
      expect(tool.parameters).not.toHaveProperty('$schema');
      for (const [field, schema] of Object.entries(tool.parameters.properties)) {
        expect((schema as { description?: string }).description, `${tool.name}.${field}`).toMatch(/\w/);
      }
    }
    const replace = memory.toolDefinitions.find((tool) => tool.name === 'core_memory_replace');
    expect(replace?.parameters.required).toEqual(['label', 'old_content', 'new_content']);
    expect(memory.isMemoryTool('conversation_search')).toBe(true);
    expect(memory.isMemoryTool('escalate')).toBe(false);
  });
});

describe('core_memory_append', () => {
  it('adds a line, writes a revision naming the tool, call and member, and accepts parsed arguments too', async () => {
    expect(await run('core_memory_append', { label: 'household', content: 'The cat is called Miso.' })).toEqual({
      ok: true,
      output: 'Appended to block "household"; it now has 23 of 4000 characters.',
    });
    const second = await memory.runTool({
      name: 'core_memory_append',
      arguments: { label: 'household', content: 'Bins go out on Tuesday.' },
      scope: nana,
    });
    expect(second.ok).toBe(true);
    const block = await household();
    expect(block.value).toBe('The cat is called Miso.\nBins go out on Tuesday.');
    expect(block.version).toBe(3);
    const revision = await db.prisma.blockRevision.findUniqueOrThrow({
      where: { blockId_version: { blockId: block.id, version: 2 } },
    });
    expect(revision).toMatchObject({
      value: 'The cat is called Miso.',
      source: 'agent_tool',
      sourceDetail: 'core_memory_append',
      callId: seeded.callId,
      memberId: seeded.nana,
    });
  });

  it('writes the caller block of the member on the line, not anyone else’s', async () => {
    await run('core_memory_append', { label: 'caller', content: 'Likes to be called Nana.' });
    const own = await memory.getBlock({ householdId: seeded.householdId, memberId: seeded.nana, label: 'caller' });
    const other = await memory.getBlock({ householdId: seeded.householdId, memberId: seeded.chidi, label: 'caller' });
    expect(own.value).toBe('Likes to be called Nana.');
    expect(other.value).toBe('');
  });

  it('refuses an edit past the limit, saying by how much, and leaves the block as it was', async () => {
    await memory.updateBlock({
      householdId: seeded.householdId,
      memberId: null,
      label: 'household',
      expectedVersion: 1,
      changes: { value: 'x'.repeat(1990), charLimit: 2000 },
      source: { source: 'admin' },
    });
    const result = await run('core_memory_append', { label: 'household', content: 'y'.repeat(149) });
    expect(result).toEqual({
      ok: false,
      output: 'Edit refused: would be 2140 characters, the limit is 2000; shorten or move details to archival memory',
    });
    expect((await household()).version).toBe(2);
  });

  it('refuses read-only blocks', async () => {
    expect(await run('core_memory_append', { label: 'persona', content: 'I am rude.' })).toEqual({
      ok: false,
      output: 'Block "persona" is read-only',
    });
  });

  it('names the blocks it can edit when the label is unknown, or belongs to no one on this call', async () => {
    expect(await run('core_memory_append', { label: 'notes', content: 'x' })).toEqual({
      ok: false,
      output: 'No block "notes". Blocks you can edit: household, caller',
    });
    const stranger = scopeOf(seeded, { memberId: null });
    expect(await run('core_memory_append', { label: 'caller', content: 'x' }, stranger)).toEqual({
      ok: false,
      output: 'No block "caller". Blocks you can edit: household',
    });
  });

  it('does not let an unverified caller edit, or learn of, a private block', async () => {
    await memory.createBlock({
      organizationId: seeded.organizationId,
      householdId: seeded.householdId,
      memberId: seeded.nana,
      label: 'health',
      description: 'Medical notes',
      private: true,
      source: { source: 'admin' },
    });
    const unverified = scopeOf(seeded, { memberId: seeded.nana, verified: false });
    expect(await run('core_memory_append', { label: 'health', content: 'x' }, unverified)).toEqual({
      ok: false,
      output: 'No block "health". Blocks you can edit: household, caller',
    });
    expect((await run('core_memory_append', { label: 'health', content: 'Takes statins.' })).ok).toBe(true);
  });

  it('refuses a NUL character, naming the field, and stores nothing', async () => {
    for (const content of ['Mi\u0000so', '\u0000\u0000']) {
      expect(await run('core_memory_append', { label: 'household', content })).toEqual({
        ok: false,
        output: `Invalid arguments for core_memory_append: content: ${NUL_REFUSAL}.`,
      });
    }
    expect((await household()).version).toBe(1);
  });

  it('refuses content that is only whitespace', async () => {
    expect(await run('core_memory_append', { label: 'household', content: ' \n ' })).toEqual({
      ok: false,
      output: 'content is empty; write the text to add',
    });
    expect((await household()).version).toBe(1);
  });
});

describe('core_memory_replace', () => {
  beforeEach(async () => {
    await run('core_memory_append', { label: 'household', content: 'Tea: Earl Grey. Coffee: none. Tea again: yes.' });
  });

  it('replaces exactly one match', async () => {
    expect(
      await run('core_memory_replace', { label: 'household', old_content: 'Earl Grey', new_content: 'Assam' }),
    ).toEqual({ ok: true, output: 'Replaced text in block "household"; it now has 41 of 4000 characters.' });
    expect((await household()).value).toBe('Tea: Assam. Coffee: none. Tea again: yes.');
  });

  it('deletes with an empty new_content and treats $ in it literally', async () => {
    await run('core_memory_replace', { label: 'household', old_content: ' Coffee: none.', new_content: '' });
    await run('core_memory_replace', { label: 'household', old_content: 'Assam', new_content: 'x' });
    await run('core_memory_replace', { label: 'household', old_content: 'Earl Grey', new_content: '$& costs $5' });
    expect((await household()).value).toBe('Tea: $& costs $5. Tea again: yes.');
  });

  it('says when nothing matches, or how many places match', async () => {
    expect(
      await run('core_memory_replace', { label: 'household', old_content: 'earl grey', new_content: 'x' }),
    ).toEqual({
      ok: false,
      output:
        'No match for old_content in block "household"; copy the exact text from the block ' +
        '(matching is case- and whitespace-sensitive)',
    });
    expect(await run('core_memory_replace', { label: 'household', old_content: 'Tea', new_content: 'x' })).toEqual({
      ok: false,
      output:
        'old_content matches 2 places in block "household"; include more of the surrounding text so that it matches exactly one',
    });
    expect((await household()).value).toBe('Tea: Earl Grey. Coffee: none. Tea again: yes.');
  });

  it('refuses a NUL character in old_content or new_content, naming the field', async () => {
    expect(await run('core_memory_replace', { label: 'household', old_content: '\u0000', new_content: 'x' })).toEqual({
      ok: false,
      output: `Invalid arguments for core_memory_replace: old_content: ${NUL_REFUSAL}.`,
    });
    expect(
      await run('core_memory_replace', { label: 'household', old_content: 'Earl Grey', new_content: 'As\u0000sam' }),
    ).toEqual({ ok: false, output: `Invalid arguments for core_memory_replace: new_content: ${NUL_REFUSAL}.` });
    expect((await household()).value).toBe('Tea: Earl Grey. Coffee: none. Tea again: yes.');
  });

  it('refuses a replacement past the limit', async () => {
    const result = await run('core_memory_replace', {
      label: 'household',
      old_content: 'none',
      new_content: 'z'.repeat(3990),
    });
    expect(result).toEqual({
      ok: false,
      output: 'Edit refused: would be 4031 characters, the limit is 4000; shorten or move details to archival memory',
    });
  });
});

describe('memory_rethink', () => {
  // A session's model rewrites blocks it was shown: its context was compiled first.
  beforeEach(async () => {
    await memory.compileContext({ scope: nana });
  });

  it('rewrites the whole block', async () => {
    await run('core_memory_append', { label: 'household', content: 'Old, messy notes.' });
    expect(await run('memory_rethink', { label: 'household', new_memory: 'Tidy notes.' })).toEqual({
      ok: true,
      output: 'Rewrote block "household"; it now has 11 of 4000 characters.',
    });
    expect((await household()).value).toBe('Tidy notes.');
  });

  it('reports when nothing changes, without a new version', async () => {
    await run('memory_rethink', { label: 'household', new_memory: 'Same.' });
    expect(await run('memory_rethink', { label: 'household', new_memory: 'Same.' })).toEqual({
      ok: true,
      output: 'Block "household" already says exactly that; nothing changed.',
    });
    expect((await household()).version).toBe(2);
  });

  it('refuses a NUL character, naming the field', async () => {
    expect(await run('memory_rethink', { label: 'household', new_memory: 'Tidy\u0000 notes.' })).toEqual({
      ok: false,
      output: `Invalid arguments for memory_rethink: new_memory: ${NUL_REFUSAL}.`,
    });
    expect((await household()).version).toBe(1);
  });

  it('enforces limits and read-only', async () => {
    expect(await run('memory_rethink', { label: 'persona', new_memory: 'New me.' })).toEqual({
      ok: false,
      output: 'Block "persona" is read-only',
    });
    expect(await run('memory_rethink', { label: 'caller', new_memory: 'n'.repeat(2001) })).toEqual({
      ok: false,
      output: 'Edit refused: would be 2001 characters, the limit is 2000; shorten or move details to archival memory',
    });
  });
});

describe('archival and recall tools with a NUL character', () => {
  it('refuse it in a fact, a tag or a query, naming the field, and save nothing', async () => {
    expect(await run('archival_memory_insert', { content: 'Miso\u0000 is a tabby.' })).toEqual({
      ok: false,
      output: `Invalid arguments for archival_memory_insert: content: ${NUL_REFUSAL}.`,
    });
    expect(await run('archival_memory_insert', { content: 'Miso is a tabby.', tags: ['c\u0000ats'] })).toEqual({
      ok: false,
      output: `Invalid arguments for archival_memory_insert: tags.0: ${NUL_REFUSAL}.`,
    });
    for (const name of ['archival_memory_search', 'conversation_search']) {
      expect(await run(name, { query: 'tabby\u0000' })).toEqual({
        ok: false,
        output: `Invalid arguments for ${name}: query: ${NUL_REFUSAL}.`,
      });
    }
    expect(await db.prisma.passage.count({ where: { householdId: seeded.householdId } })).toBe(0);
  });

  it('still refuse an empty fact and an empty query', async () => {
    expect(await run('archival_memory_insert', { content: ' \n ' })).toEqual({
      ok: false,
      output: 'content is empty; write the fact to save',
    });
    for (const name of ['archival_memory_search', 'conversation_search']) {
      expect(await run(name, { query: '  ' })).toEqual({ ok: false, output: 'The search query is empty.' });
    }
  });
});

describe('malformed calls', () => {
  it('explain bad JSON, missing or mistyped fields, and unknown tools', async () => {
    expect(await run('core_memory_append', '{"label": "household", content: }')).toEqual({
      ok: false,
      output: expect.stringMatching(
        /^Arguments for core_memory_append are not valid JSON \(.+\); send one JSON object\.$/,
      ) as unknown as string,
    });
    expect(await run('core_memory_append', { label: 'household' })).toEqual({
      ok: false,
      output: 'Invalid arguments for core_memory_append: content: expected string, received undefined.',
    });
    expect(await run('core_memory_replace', { label: 7, old_content: 'a', new_content: 'b' })).toEqual({
      ok: false,
      output: 'Invalid arguments for core_memory_replace: label: expected string, received number.',
    });
    expect(await run('conversation_search', { query: 'tea', limit: 'ten' })).toEqual({
      ok: false,
      output: 'Invalid arguments for conversation_search: limit: expected number, received string.',
    });
    expect(await run('core_memory_append', '[1, 2]')).toEqual({
      ok: false,
      output: 'Invalid arguments for core_memory_append: expected object, received array.',
    });
    expect(await run('forget_everything', {})).toEqual({
      ok: false,
      output:
        'Unknown tool "forget_everything". Memory tools are: core_memory_append, core_memory_replace, ' +
        'memory_rethink, archival_memory_insert, archival_memory_search, conversation_search',
    });
  });

  it('report a storage outage as text instead of throwing, marked as worth retrying', async () => {
    const broken = createMemoryEngine({ prisma: db.prisma, embedder: hashEmbedder(), now: clock.now });
    const gone = { ...nana, householdId: 'not-a-uuid' };
    const result = await broken.runTool({
      name: 'core_memory_append',
      arguments: { label: 'household', content: 'x' },
      scope: gone,
    });
    expect(result).toEqual({
      ok: false,
      output: 'core_memory_append failed: memory storage is unavailable right now; try again shortly',
      retryable: true,
    });
    await broken.close();
  });
});
