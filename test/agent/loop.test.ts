import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AgentSession,
  type AgentSessionOptions,
  createModelProvider,
  STEP_LIMIT_REPLY,
} from '../../src/agent/index.js';
import type { Database } from '../../src/db/index.js';
import { UnavailableError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { createEmbedder, createMemoryEngine, type MemoryEngine, type SessionScope } from '../../src/memory/index.js';
import { createTestDatabase } from '../support/database.js';
import { type OpenAIStub, startOpenAIStub } from '../support/openai-stub.js';

const logger = createLogger({ LOG_LEVEL: 'silent', LOG_FORMAT: 'json' });

let db: Database;
let stub: OpenAIStub;
let engine: MemoryEngine;
let household: { organizationId: string; householdId: string; nana: string; sam: string };

/** A household with two members and its default blocks, as the admin API would create it. */
async function createHousehold() {
  const prisma = db.prisma;
  const organization = await prisma.organization.create({ data: { name: 'Loop test' } });
  const organizationId = organization.id;
  const { id: householdId } = await prisma.household.create({ data: { organizationId, name: 'The Silvas' } });
  const nana = await prisma.member.create({ data: { organizationId, householdId, name: 'Nana' } });
  const sam = await prisma.member.create({ data: { organizationId, householdId, name: 'Sam' } });
  await prisma.$transaction(async (tx) => {
    await engine.createHouseholdBlocks({ tx, organizationId, householdId });
    for (const member of [nana, sam]) {
      await engine.createMemberBlock({ tx, organizationId, householdId, memberId: member.id });
    }
  });
  return { organizationId, householdId, nana: nana.id, sam: sam.id };
}

/** A new text session's scope for `memberId`, with its own `Call` row. */
async function scopeFor(memberId: string): Promise<SessionScope> {
  const { organizationId, householdId } = household;
  const call = await db.prisma.call.create({ data: { organizationId, householdId, memberId, channel: 'text' } });
  return { organizationId, householdId, memberId, callId: call.id, callerVerified: true };
}

function session(scope: SessionScope, options: Partial<AgentSessionOptions> & { timeoutMs?: number } = {}) {
  const { timeoutMs, ...rest } = options;
  const provider = createModelProvider({
    apiKey: 'sk-test',
    baseUrl: stub.url,
    defaultModel: 'gpt-test',
    maxRetries: 1,
    timeoutMs: timeoutMs ?? 10_000,
  });
  return new AgentSession({ memory: engine, provider, logger, scope, maxSteps: 4, ...rest });
}

/** The system prompt (instructions plus compiled memory) of the n-th chat request. */
function instructionsOf(index: number): string {
  const content = stub.chatRequests()[index]?.messages[0]?.content;
  expect(typeof content).toBe('string');
  return content as string;
}

function toolMessagesOf(index: number) {
  return (stub.chatRequests()[index]?.messages ?? []).filter((message) => message.role === 'tool');
}

beforeAll(async () => {
  db = await createTestDatabase();
  stub = await startOpenAIStub();
  // Embeddings come from the stand-in too: deterministic, not semantic, and no model to load.
  engine = createMemoryEngine({
    prisma: db.prisma,
    embedder: createEmbedder({ apiKey: 'sk-test', baseUrl: stub.url }),
  });
  household = await createHousehold();
});
afterAll(async () => {
  await engine.close();
  await stub.close();
  await db.close();
});
beforeEach(() => stub.reset());

describe('a turn', () => {
  it('writes shared memory that another member sees, while the caller block stays private', async () => {
    const nanaScope = await scopeFor(household.nana);
    stub.queueChat(
      {
        toolCalls: [
          { name: 'core_memory_append', arguments: { label: 'household', content: 'The cat is called Miso.' } },
          { name: 'core_memory_append', arguments: { label: 'caller', content: 'Likes to be called Nana.' } },
        ],
      },
      { text: "I'll remember Miso." },
    );
    const result = await session(nanaScope).turn({ text: 'Our cat is called Miso. Call me Nana.' });
    expect(result).toMatchObject({ reply: "I'll remember Miso.", steps: 2, stopReason: 'answered' });
    expect(result.toolCalls.map((call) => [call.name, call.ok])).toEqual([
      ['core_memory_append', true],
      ['core_memory_append', true],
    ]);
    // The second step saw the memory the first one wrote.
    expect(instructionsOf(0)).not.toContain('The cat is called Miso.');
    expect(instructionsOf(1)).toContain('The cat is called Miso.');
    expect(instructionsOf(1)).toContain('Likes to be called Nana.');
    expect(toolMessagesOf(1).map((message) => message.tool_call_id)).toEqual(result.toolCalls.map((call) => call.id));

    const recall = await db.prisma.message.findMany({ where: { callId: nanaScope.callId } });
    expect(recall.map((message) => message.role).sort()).toEqual(['assistant', 'tool', 'tool', 'user']);
    expect(recall.find((message) => message.role === 'tool')).toMatchObject({
      toolName: 'core_memory_append',
      toolCallId: expect.stringMatching(/^call_/),
      toolArgs: expect.objectContaining({ label: expect.any(String) }),
    });

    stub.reset();
    stub.queueChat({ text: 'Miso.' });
    const later = await session(await scopeFor(household.sam)).turn({ text: 'What is the cat called?' });
    expect(later.reply).toBe('Miso.');
    expect(instructionsOf(0)).toContain('The cat is called Miso.');
    expect(instructionsOf(0)).not.toContain('Likes to be called Nana.');
  });

  it('runs parallel writes to one block together, and both land', async () => {
    stub.queueChat(
      {
        toolCalls: [
          { name: 'core_memory_append', arguments: { label: 'household', content: 'Bins go out on Monday.' } },
          { name: 'core_memory_append', arguments: { label: 'household', content: 'The vet is Dr. Reis.' } },
        ],
      },
      { text: 'Saved both.' },
    );
    const result = await session(await scopeFor(household.sam)).turn({ text: 'Bins on Monday; the vet is Dr. Reis.' });
    expect(result.toolCalls.map((call) => call.ok)).toEqual([true, true]);
    const block = await engine.getBlock({ householdId: household.householdId, memberId: null, label: 'household' });
    expect(block.value).toContain('Bins go out on Monday.');
    expect(block.value).toContain('The vet is Dr. Reis.');
  });

  it('returns read-only and over-limit refusals to the model, which carries on', async () => {
    stub.queueChat(
      {
        toolCalls: [
          { name: 'core_memory_append', arguments: { label: 'persona', content: 'I am a pirate.' } },
          { name: 'core_memory_append', arguments: { label: 'caller', content: 'x'.repeat(5_000) } },
        ],
      },
      { text: 'I could not save that, sorry.' },
    );
    const result = await session(await scopeFor(household.sam)).turn({ text: 'Be a pirate, and remember this.' });
    expect(result.reply).toBe('I could not save that, sorry.');
    expect(result.toolCalls.map((call) => call.ok)).toEqual([false, false]);
    expect(result.toolCalls[0]?.output).toMatch(/read.only/i);
    expect(result.toolCalls[1]?.output).toMatch(/limit|characters/i);
    expect(toolMessagesOf(1).map((message) => message.content)).toEqual(result.toolCalls.map((call) => call.output));
    const persona = await engine.getBlock({ householdId: household.householdId, memberId: null, label: 'persona' });
    expect(persona.value).not.toContain('pirate');
  });

  it('answers malformed tool arguments and unknown tools with an error the model sees', async () => {
    const scope = await scopeFor(household.sam);
    stub.queueChat(
      {
        toolCalls: [
          { name: 'core_memory_append', arguments: '{"label": "household", "content": ' },
          { name: 'open_the_pod_bay_doors', arguments: {} },
        ],
      },
      { text: 'Let me try that again later.' },
    );
    const result = await session(scope).turn({ text: 'Remember the cat.' });
    expect(result.reply).toBe('Let me try that again later.');
    expect(result.toolCalls.map((call) => call.ok)).toEqual([false, false]);
    expect(result.toolCalls.every((call) => call.output.length > 0)).toBe(true);
    expect(toolMessagesOf(1)).toHaveLength(2);
    const stored = await db.prisma.message.findFirst({
      where: { callId: scope.callId, toolName: 'core_memory_append' },
    });
    expect(stored?.toolArgs).toBe('{"label": "household", "content": ');
  });

  it('ends the turn with a message at the step limit, and the next turn still works', async () => {
    const search = { name: 'conversation_search', arguments: { query: 'cat' } };
    stub.queueChat({ toolCalls: [search] }, { toolCalls: [search] }, { toolCalls: [search] });
    const agent = session(await scopeFor(household.sam), { maxSteps: 3 });
    const result = await agent.turn({ text: 'Search forever.' });
    expect(result).toMatchObject({ reply: STEP_LIMIT_REPLY, steps: 3, stopReason: 'step_limit' });
    expect(result.toolCalls).toHaveLength(3);
    expect(stub.chatRequests()).toHaveLength(3);

    stub.queueChat({ text: 'Hello again.' });
    expect((await agent.turn({ text: 'Hello?' })).reply).toBe('Hello again.');
    const roles = stub.chatRequests()[3]?.messages.map((message) => message.role);
    expect(roles?.slice(-3)).toEqual(['tool', 'assistant', 'user']);
  });
});

describe('storage failures', () => {
  it('keeps the live context valid when recording a tool result fails, so the next turn works', async () => {
    const scope = await scopeFor(household.sam);
    let failNextToolRecord = true;
    const flaky: AgentSessionOptions['memory'] = {
      compileContext: (input) => engine.compileContext(input),
      toolDefinitions: engine.toolDefinitions,
      runTool: (input) => engine.runTool(input),
      contextPressure: (input) => engine.contextPressure(input),
      summarizeForEviction: (input) => engine.summarizeForEviction(input),
      async appendMessage(input) {
        if (input.role === 'tool' && failNextToolRecord) {
          failNextToolRecord = false;
          throw new Error('the database went away');
        }
        return engine.appendMessage(input);
      },
    };
    const conversation = session(scope, { memory: flaky });
    stub.queueChat({ toolCalls: [{ name: 'archival_memory_search', arguments: { query: 'cat' } }] });
    await expect(conversation.turn({ text: 'What do you know about the cat?' })).rejects.toThrow(
      'the database went away',
    );

    stub.queueChat({ text: 'Sorry, where were we?' });
    const next = await conversation.turn({ text: 'Hello again.' });
    expect(next.reply).toBe('Sorry, where were we?');
    const sent = stub.chatRequests().at(-1)?.messages ?? [];
    expect(sent.some((message) => message.role === 'tool' || (message.tool_calls?.length ?? 0) > 0)).toBe(false);
  });
});

describe('provider failures', () => {
  it('retries a 500 and answers, streaming the reply', async () => {
    stub.queueChat({ error: { status: 500 }, headers: { 'retry-after-ms': '0' } }, { text: 'Recovered, all good.' });
    const deltas: string[] = [];
    const result = await session(await scopeFor(household.nana)).turn({
      text: 'Hello?',
      onTextDelta: (delta) => deltas.push(delta),
    });
    expect(result.reply).toBe('Recovered, all good.');
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(result.reply);
    expect(stub.chatRequests()).toHaveLength(2);
  });

  it('fails the turn with an UnavailableError on a timeout, after recording what the caller said', async () => {
    const scope = await scopeFor(household.nana);
    stub.queueChat({ text: 'late', delayMs: 5_000 }, { text: 'late', delayMs: 5_000 });
    const error = await session(scope, { timeoutMs: 200 })
      .turn({ text: 'Is anyone there?' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).message).toContain('HEARTH_MODEL_TIMEOUT_MS');
    const recall = await db.prisma.message.findMany({ where: { callId: scope.callId } });
    expect(recall.map((message) => [message.role, message.content])).toEqual([['user', 'Is anyone there?']]);
  });
});

describe('context pressure', () => {
  /** An engine whose thresholds sit `warnAbove` and `evictAbove` tokens above the compiled memory alone. */
  async function pressuredEngine(scope: SessionScope, thresholds: { warnAbove: number; evictAbove: number }) {
    const compiled = await engine.compileContext({ scope });
    const base = engine.contextPressure({ messages: [], instructions: compiled }).tokens;
    const pressured = createMemoryEngine({
      prisma: db.prisma,
      embedder: createEmbedder({ apiKey: 'sk-test', baseUrl: stub.url }),
      pressure: { warnTokens: base + thresholds.warnAbove, evictTokens: base + thresholds.evictAbove },
    });
    // The notice's opening words, as the engine writes them (its token counts vary).
    const notice = pressured.contextPressure({
      messages: [{ role: 'user', content: 'x'.repeat(80_000) }],
      instructions: '',
    });
    expect(notice.notice).toBeTruthy();
    return { pressured, noticeStart: notice.notice!.slice(0, 15) };
  }

  /** Six long turns, well past the eviction threshold below. */
  const longHistory = () =>
    Array.from({ length: 6 }, (_, index) => ({
      role: index % 2 === 0 ? ('user' as const) : ('assistant' as const),
      content: `Turn ${index}: ${'the garden needs watering on Tuesdays. '.repeat(40)}`,
    }));

  it('tells the model when the context is getting full', async () => {
    const scope = await scopeFor(household.nana);
    const { pressured, noticeStart } = await pressuredEngine(scope, { warnAbove: 50, evictAbove: 100_000 });
    try {
      stub.queueChat({ text: 'Noted.' });
      await session(scope, { memory: pressured }).turn({ text: `Here is a long story: ${'and then '.repeat(100)}` });
      expect(stub.chatRequests()).toHaveLength(1);
      expect(instructionsOf(0)).toContain(noticeStart);
      expect(instructionsOf(0)).not.toContain('<conversation_summary>');
    } finally {
      await pressured.close();
    }
  });

  it('summarizes the oldest turns with the model and drops them from the live context', async () => {
    const scope = await scopeFor(household.nana);
    const { pressured } = await pressuredEngine(scope, { warnAbove: 200, evictAbove: 2_000 });
    try {
      const history = longHistory();
      stub.queueChat(
        { text: 'Earlier, Nana talked at length about watering the garden on Tuesdays.' },
        { text: 'Yes.' },
      );
      const agent = session(scope, { memory: pressured, history });
      const result = await agent.turn({ text: 'Did I mention the garden?' });
      expect(result.reply).toBe('Yes.');
      const [summaryRequest, turnRequest] = stub.chatRequests();
      expect(summaryRequest?.messages.at(-1)?.content).toContain('Turn 0:');
      expect(instructionsOf(1)).toContain('<conversation_summary>');
      expect(instructionsOf(1)).toContain('watering the garden on Tuesdays.');
      expect(turnRequest?.messages.length).toBeLessThan(history.length + 2);
      expect(agent.messages.length).toBeLessThan(history.length + 2);
      const summaries = await db.prisma.message.findMany({ where: { callId: scope.callId, role: 'system' } });
      expect(summaries).toHaveLength(1);
    } finally {
      await pressured.close();
    }
  });

  it('keeps the turns and still answers when the summary fails', async () => {
    const scope = await scopeFor(household.nana);
    const { pressured } = await pressuredEngine(scope, { warnAbove: 200, evictAbove: 2_000 });
    try {
      const history = longHistory();
      stub.queueChat({ error: { status: 400, message: 'context_length_exceeded' } }, { text: 'Still here.' });
      const agent = session(scope, { memory: pressured, history });
      expect((await agent.turn({ text: 'Hello?' })).reply).toBe('Still here.');
      expect(agent.messages).toHaveLength(history.length + 2);
      expect(instructionsOf(1)).not.toContain('<conversation_summary>');
    } finally {
      await pressured.close();
    }
  });
});
