/**
 * Writing recall: `appendMessage` returns once the row is stored; the embedding follows in the
 * background (`flush` and `close` wait for it), and a failing embedder is logged, never thrown.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/index.js';
import { createMemoryEngine, type Embedder, type MemoryEngine, type SessionScope } from '../../src/memory/index.js';
import { createTestDatabase } from '../support/database.js';
import { hashEmbedder, newCall, type SeededHousehold, scopeOf, seedHousehold } from './helpers.js';

let db: Database;
let memory: MemoryEngine;
let seeded: SeededHousehold;
let nana: SessionScope;

beforeAll(async () => {
  db = await createTestDatabase();
  memory = createMemoryEngine({ prisma: db.prisma, embedder: hashEmbedder() });
  seeded = await seedHousehold(db.prisma, memory);
  nana = scopeOf(seeded, { memberId: seeded.nana });
});
afterAll(async () => {
  await memory.close();
  await db.close();
});

/** An embedder that answers only once `open()` is called: an embedding service that is slow today. */
function gatedEmbedder(): { embedder: Embedder; open: () => void } {
  const inner = hashEmbedder();
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    embedder: { model: inner.model, dimensions: 512, embed: (texts) => opened.then(() => inner.embed(texts)) },
    open,
  };
}

async function embeddingOf(messageId: string) {
  const [row] = await db.prisma.$queryRaw<Array<{ model: string | null; dims: number | null }>>`
    SELECT embedding_model AS model, vector_dims(embedding) AS dims FROM messages WHERE id = ${messageId}::uuid`;
  return row;
}

describe('appendMessage', () => {
  it('returns once the row is written, before the embedding, which flush() then waits for', async () => {
    const gate = gatedEmbedder();
    const engine = createMemoryEngine({ prisma: db.prisma, embedder: gate.embedder });
    const { id } = await engine.appendMessage({ scope: nana, role: 'user', content: 'The boiler is banging again.' });
    expect(await db.prisma.message.findUnique({ where: { id } })).toMatchObject({
      content: 'The boiler is banging again.',
    });
    expect(await embeddingOf(id)).toEqual({ model: null, dims: null });
    gate.open();
    await engine.flush();
    expect(await embeddingOf(id)).toEqual({ model: 'test-hash-embedder', dims: 512 });
    await engine.close();
  });

  it('is not held up by close(), which waits for embeddings still in flight', async () => {
    const gate = gatedEmbedder();
    const engine = createMemoryEngine({ prisma: db.prisma, embedder: gate.embedder });
    const { id } = await engine.appendMessage({ scope: nana, role: 'assistant', content: 'I will note that.' });
    const closing = engine.close();
    gate.open();
    await closing;
    expect(await embeddingOf(id)).toEqual({ model: 'test-hash-embedder', dims: 512 });
  });

  it('logs a failed embedding instead of throwing it, and the message is still found by full text', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const down: Embedder = {
      model: 'down',
      dimensions: 512,
      embed: () => Promise.reject(new Error('embedding service unreachable')),
    };
    const engine = createMemoryEngine({ prisma: db.prisma, embedder: down, logger });
    const { id } = await engine.appendMessage({ scope: nana, role: 'user', content: 'The plumber comes on Monday.' });
    await engine.flush();
    expect(await embeddingOf(id)).toEqual({ model: null, dims: null });
    const warnings = lines.map((line) => JSON.parse(line) as { msg: string; messageId?: string });
    expect(warnings).toContainEqual(
      expect.objectContaining({ msg: 'recall message stored without an embedding', messageId: id }),
    );
    const found = await engine.searchRecall({ householdId: seeded.householdId, query: 'plumber' });
    expect(found.items.map((hit) => hit.id)).toEqual([id]);
    await engine.close();
  });

  it('strips null bytes from the tool name, call id and arguments, which Postgres would reject', async () => {
    const { id } = await memory.appendMessage({
      scope: nana,
      role: 'tool',
      content: 'old_content is empty; quote the exact text to replace',
      toolName: 'core_memory_replace\u0000',
      toolCallId: 'call_\u00001',
      toolArgs: { label: 'household', old_content: '\u0000', 'n\u0000otes': ['a\u0000b', 1, null] },
    });
    expect(await db.prisma.message.findUnique({ where: { id } })).toMatchObject({
      toolName: 'core_memory_replace',
      toolCallId: 'call_1',
      toolArgs: { label: 'household', old_content: '', notes: ['ab', 1, null] },
    });
  });
});

describe('transcript', () => {
  it("is one call's messages in the order they were said, filtered by role, and the latest ones past the limit", async () => {
    const callId = await newCall(db.prisma, seeded, seeded.nana);
    const scope = scopeOf(seeded, { memberId: seeded.nana, callId });
    const lines = ['Hello.', 'Hello Nana.', 'The cat is Miso.', 'Noted.'];
    for (const [index, content] of lines.entries()) {
      await memory.appendMessage({ scope, role: index % 2 === 0 ? 'user' : 'assistant', content });
      if (index === 2) {
        await memory.appendMessage({ scope, role: 'tool', content: 'Saved.', toolName: 'core_memory_append' });
      }
    }
    await memory.appendMessage({ scope: nana, role: 'user', content: 'Another call.' });
    const { householdId } = seeded;

    const whole = await memory.transcript({ householdId, callId });
    expect(whole.map((message) => [message.role, message.content])).toEqual([
      ['user', 'Hello.'],
      ['assistant', 'Hello Nana.'],
      ['user', 'The cat is Miso.'],
      ['tool', 'Saved.'],
      ['assistant', 'Noted.'],
    ]);
    expect(whole[3]).toMatchObject({ toolName: 'core_memory_append', memberId: seeded.nana });
    const spoken = await memory.transcript({ householdId, callId, roles: ['user', 'assistant'], limit: 2 });
    expect(spoken.map((message) => message.content)).toEqual(['The cat is Miso.', 'Noted.']);
    expect(await memory.transcript({ householdId: seeded.organizationId, callId })).toEqual([]);
    await expect(memory.transcript({ householdId, callId, limit: 0 })).rejects.toThrow('limit must be');
  });
});
