/**
 * The Letta-compatible API through Letta's own TypeScript client (`@letta-ai/letta-client`),
 * against the running server with OpenAI's wire-level stand-in: the canonical example unchanged
 * but for the base URL and key, a whole lifecycle, bad input, and tenancy. What the client
 * writes is then read back through Hearth's admin API and a phone call.
 */
import Letta, { APIError, BadRequestError, NotFoundError } from '@letta-ai/letta-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main as lettaExample } from '../../examples/letta.js';
import { createApiKey } from '../../src/admin/api-keys.js';
import { createOrganization } from '../../src/admin/organizations.js';
import { dial } from '../../src/voice/simulated-caller.js';
import { type OpenAIStub, startOpenAIStub } from '../support/openai-stub.js';
import { type RealtimeServer, startRealtimeServer } from '../support/realtime-server.js';
import { startVoiceStack, type VoiceStack } from '../support/voice-stack.js';

let openai: OpenAIStub;
let realtime: RealtimeServer;
let stack: VoiceStack;
let client: Letta;

const WAIT = { timeout: 10_000, interval: 100 };

beforeAll(async () => {
  [openai, realtime] = await Promise.all([startOpenAIStub(), startRealtimeServer()]);
  stack = await startVoiceStack({
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: openai.url,
    OPENAI_REALTIME_URL: realtime.url,
    HEARTH_JOB_POLL_SECONDS: '0.5',
  });
  client = new Letta({ baseURL: stack.url, apiKey: stack.apiKey });
});

afterAll(async () => {
  await stack?.close();
  await Promise.all([openai?.close(), realtime?.close()]);
});

/** The household uuid behind a Letta agent id. */
const householdOf = (agentId: string) => agentId.replace(/^agent-/, '');

async function admin(method: string, path: string, body?: unknown, key = stack.apiKey) {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** The client's error for a call that must fail. */
async function failure(call: Promise<unknown>): Promise<APIError> {
  const outcome = await call.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(APIError);
  return outcome.error as APIError;
}

describe("Letta's canonical example", () => {
  it('runs unchanged but for baseURL and apiKey; the memory is then in the admin API and on a phone call', async () => {
    openai.queueChat(
      {
        toolCalls: [
          { name: 'lookup_account', arguments: {} },
          { name: 'escalate', arguments: { severity: 'high', reason: "Ruth's breathing is worse again tonight." } },
        ],
      },
      { text: "I'm sorry, Grace. I'm paging the on-call doctor about Ruth's breathing now." },
    );
    const printed = vi.spyOn(console, 'log').mockImplementation(() => {});
    const { agentState, response } = await lettaExample(stack.url, stack.apiKey);
    const printedCount = printed.mock.calls.length;
    printed.mockRestore();

    expect(agentState.id).toMatch(/^agent-[0-9a-f-]{36}$/);
    expect(agentState.llm_config).toMatchObject({ model: 'gpt-5', model_endpoint_type: 'openai' });
    expect(agentState.memory.blocks.map((block) => block.label)).toEqual(['persona', 'household', 'human']);
    expect(agentState.tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['lookup_account', 'page_on_call_doctor', 'core_memory_append', 'archival_memory_search']),
    );
    expect(response.stop_reason).toEqual({ message_type: 'stop_reason', stop_reason: 'end_turn' });
    expect(response.usage).toMatchObject({ message_type: 'usage_statistics', step_count: 2 });
    expect(response.messages.map((message) => message.message_type)).toEqual([
      'tool_call_message',
      'tool_return_message',
      'tool_call_message',
      'tool_return_message',
      'assistant_message',
    ]);
    expect(printedCount).toBe(5);
    const [lookupCall, lookupReturn, pageCall] = response.messages;
    expect(lookupCall).toMatchObject({ tool_call: { name: 'lookup_account', arguments: '{}' } });
    expect(lookupReturn).toMatchObject({ status: 'success', tool_return: expect.stringContaining('Main contact') });
    // The agent chose Letta's name for Hearth's escalate tool: its messages say so.
    expect(pageCall).toMatchObject({ tool_call: { name: 'page_on_call_doctor' } });
    expect(response.messages.at(-1)).toMatchObject({
      id: expect.stringMatching(/^message-/),
      content: "I'm sorry, Grace. I'm paging the on-call doctor about Ruth's breathing now.",
    });

    // The model saw the blocks the client wrote, in Hearth's prompt.
    const instructions = String(openai.chatRequests().at(-2)?.messages[0]?.content);
    expect(instructions).toContain('after-hours line of Riverside Home Care');
    expect(instructions).toContain('Her mother, Ruth (84), lives with her and has COPD.');

    // Hearth's admin API sees the same household: its blocks, its member's caller block, the conversation.
    const householdId = householdOf(agentState.id);
    const household = await admin('GET', `/v1/households/${householdId}`);
    expect(household.body.agentSettings).toMatchObject({
      model: 'gpt-5',
      letta: { tools: ['lookup_account', 'page_on_call_doctor'] },
    });
    const persona = await admin('GET', `/v1/households/${householdId}/blocks/persona`);
    expect(persona.body.value).toContain('Riverside Home Care');
    const members = await admin('GET', `/v1/households/${householdId}/members`);
    expect(members.body.data).toEqual([expect.objectContaining({ name: 'Main contact' })]);
    const memberId = members.body.data[0].id;
    const caller = await admin('GET', `/v1/households/${householdId}/members/${memberId}/blocks/caller`);
    expect(caller.body.value).toBe('Grace Adeyemi. Her mother, Ruth (84), lives with her and has COPD.');
    const calls = await admin('GET', `/v1/households/${householdId}/calls`);
    expect(calls.body.data).toEqual([expect.objectContaining({ channel: 'text', memberId })]);
    const escalations = await admin('GET', `/v1/escalations?householdId=${householdId}`);
    expect(escalations.body.data).toEqual([expect.objectContaining({ severity: 'high' })]);

    // The conversation is consolidated like any other once it ends (here an operator ends it; idle ends it too).
    openai.queueChat({ text: "Grace called about Ruth's breathing; the on-call doctor was paged." });
    const conversationId = calls.body.data[0].id;
    const ended = await admin('POST', `/v1/households/${householdId}/conversations/${conversationId}/end`);
    expect(ended.body).toEqual({ conversationId, status: 'completed' });
    await vi.waitFor(async () => {
      const call = await admin('GET', `/v1/households/${householdId}/calls/${conversationId}`);
      expect(call.body.summary).toBe("Grace called about Ruth's breathing; the on-call doctor was paged.");
    }, WAIT);
    // The next message starts a new conversation, which knows the last one from recall and memory.
    openai.queueChat({ text: 'Is Ruth breathing more easily now?' });
    await client.agents.messages.create(agentState.id, { input: "It's Grace again." });
    expect((await admin('GET', `/v1/households/${householdId}/calls`)).body.data).toHaveLength(2);

    // And a phone call to the household's line, from the member's number, has the same memory.
    await admin('PATCH', `/v1/households/${householdId}/members/${memberId}`, { phone: '+15555550177' });
    const line = await admin('POST', '/v1/phone-lines', { number: '+15555550176', householdId });
    expect(line.status).toBe(201);
    realtime.scriptResponses([{ say: 'Hello Grace.', audioMs: 200 }]);
    const count = realtime.connections.length;
    const answer = await dial({ ...stack.dialing('+15555550177'), to: '+15555550176' });
    if (answer.kind !== 'connected') throw new Error(`the call was not connected: ${JSON.stringify(answer)}`);
    try {
      const update = await realtime.waitForClientEvent(
        'session.update',
        (_event, connection) => connection === realtime.connections[count],
        { timeoutMs: WAIT.timeout },
      );
      expect(update.session.instructions).toContain('Her mother, Ruth (84), lives with her and has COPD.');
      expect(update.session.instructions).toContain('after-hours line of Riverside Home Care');
    } finally {
      await answer.call.hangUp();
    }
  });
});

describe('an agent through its life', () => {
  it('is created, talked to (JSON and streamed), edited, shares a block, keeps archival memory, pages its messages, and is deleted', async () => {
    const agent = await client.agents.create({
      name: 'Okafor household',
      model: 'openai/gpt-4.1-mini',
      tags: ['okafor', 'pilot'],
      memory_blocks: [
        { label: 'human', value: 'Chidi, the son. Calls in the evenings.', limit: 500 },
        { label: 'routines', value: 'Lunch at noon.', description: 'Daily routines' },
      ],
    });
    expect(agent).toMatchObject({ name: 'Okafor household', tags: ['okafor', 'pilot'] });
    const householdId = householdOf(agent.id);

    // Listing filters by name and tags, and the retrieved agent is the created one.
    const byTag = await client.agents.list({ tags: ['pilot'] });
    expect(byTag.getPaginatedItems().map((a) => a.id)).toEqual([agent.id]);
    const byName = await client.agents.list({ name: 'Okafor household' });
    expect(byName.getPaginatedItems().map((a) => a.id)).toEqual([agent.id]);
    expect((await client.agents.list({ tags: ['pilot', 'nobody'], match_all_tags: true })).getPaginatedItems()).toEqual(
      [],
    );
    expect((await client.agents.retrieve(agent.id)).memory.blocks.map((b) => b.label)).toEqual([
      'persona',
      'household',
      'routines',
      'human',
    ]);

    // A message as JSON: the agent edits its own memory with Hearth's tools.
    openai.queueChat(
      {
        toolCalls: [{ name: 'core_memory_append', arguments: { label: 'routines', content: 'Walk at four.' } }],
      },
      { text: 'Noted: a walk at four.' },
    );
    const json = await client.agents.messages.create(agent.id, {
      messages: [{ role: 'user', content: 'Mum walks at four every day.' }],
    });
    expect(json.messages.map((m) => m.message_type)).toEqual([
      'tool_call_message',
      'tool_return_message',
      'assistant_message',
    ]);
    expect(await client.agents.blocks.retrieve('routines', { agent_id: agent.id })).toMatchObject({
      value: 'Lunch at noon.\nWalk at four.',
    });

    // Streamed: each message as an SSE event, then the stop reason and usage.
    openai.queueChat({ text: 'Yes, lunch is at noon.' });
    const stream = await client.agents.messages.create(agent.id, {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'When is lunch?' }] }],
      streaming: true,
    });
    const events: { message_type: string }[] = [];
    for await (const event of stream) events.push(event as { message_type: string });
    expect(events.map((event) => event.message_type)).toEqual(['assistant_message', 'stop_reason', 'usage_statistics']);
    // With stream_tokens, the reply comes in pieces that share the id it is stored under.
    openai.queueChat({ text: 'Lunch is at noon, every day.' });
    const tokens = await client.agents.messages.create(agent.id, {
      messages: [{ role: 'user', content: 'Remind me when lunch is.' }],
      streaming: true,
      stream_tokens: true,
    });
    const pieces: { id?: string; message_type: string; content?: string }[] = [];
    for await (const event of tokens) pieces.push(event as (typeof pieces)[number]);
    const replyPieces = pieces.filter((piece) => piece.message_type === 'assistant_message');
    expect(replyPieces.length).toBeGreaterThan(1);
    expect(replyPieces.map((piece) => piece.content).join('')).toBe('Lunch is at noon, every day.');
    expect(new Set(replyPieces.map((piece) => piece.id)).size).toBe(1);
    expect(pieces.slice(-2).map((piece) => piece.message_type)).toEqual(['stop_reason', 'usage_statistics']);
    const [storedReply] = (await client.agents.messages.list(agent.id, { limit: 1 })).getPaginatedItems();
    expect(storedReply).toMatchObject({ id: replyPieces[0]?.id, content: 'Lunch is at noon, every day.' });
    // The deprecated /messages/stream route streams too.
    openai.queueChat({ text: 'Good evening.' });
    const old = await client.agents.messages.stream(agent.id, { messages: [{ role: 'user', content: 'Evening!' }] });
    const oldEvents: unknown[] = [];
    for await (const event of old) oldEvents.push(event);
    expect(oldEvents[0]).toMatchObject({ message_type: 'assistant_message', content: 'Good evening.' });

    // Blocks by label: human is the main member's caller block; limits are Hearth's.
    const human = await client.agents.blocks.update('human', { agent_id: agent.id, value: 'Chidi, the son.' });
    expect(human).toMatchObject({ label: 'human', value: 'Chidi, the son.', limit: 500 });
    await expect(
      client.agents.blocks.update('human', { agent_id: agent.id, value: 'x'.repeat(501) }),
    ).rejects.toBeInstanceOf(BadRequestError);
    // A change that leaves the value out leaves it as it was.
    expect(await client.agents.blocks.update('routines', { agent_id: agent.id, limit: 600 })).toMatchObject({
      value: 'Lunch at noon.\nWalk at four.',
      limit: 600,
    });
    const blocks = [];
    for await (const block of client.agents.blocks.list(agent.id, { limit: 2 })) blocks.push(block.label);
    expect(blocks).toEqual(['persona', 'household', 'routines', 'human']);
    const tools = [];
    for await (const tool of client.agents.tools.list(agent.id, { limit: 3 })) tools.push(tool.name);
    expect(tools).toHaveLength(8); // six memory tools, escalate and lookup_account

    // A standalone block shared by two agents: an edit shows in both.
    const shared = await client.blocks.create({ label: 'care_team', value: 'Nurse Bisi visits Mondays.' });
    expect(shared.id).toMatch(/^block-/);
    const second = await client.agents.create({ name: 'Second household' });
    for (const id of [agent.id, second.id]) {
      const attached = await client.agents.blocks.attach(shared.id, { agent_id: id });
      expect(attached.memory.blocks.map((b) => b.label)).toContain('care_team');
    }
    await client.blocks.update(shared.id, { value: 'Nurse Bisi visits Mondays and Thursdays.' });
    for (const id of [agent.id, second.id]) {
      expect(await client.agents.blocks.retrieve('care_team', { agent_id: id })).toMatchObject({
        id: shared.id,
        value: 'Nurse Bisi visits Mondays and Thursdays.',
      });
    }
    // An agent whose own block another agent uses is not deleted under it.
    const routines = await client.agents.blocks.retrieve('routines', { agent_id: agent.id });
    await client.agents.blocks.attach(String(routines.id), { agent_id: second.id });
    const inUse = await failure(client.agents.delete(agent.id));
    expect([inUse.status, JSON.stringify(inUse.error)]).toEqual([409, expect.stringContaining('Detach them first')]);
    await client.agents.blocks.detach(String(routines.id), { agent_id: second.id });
    const detached = await client.agents.blocks.detach(shared.id, { agent_id: second.id });
    expect(detached.memory.blocks.map((b) => b.label)).not.toContain('care_team');
    expect((await client.blocks.retrieve(shared.id)).value).toBe('Nurse Bisi visits Mondays and Thursdays.');

    // Archival memory: insert, search (query, tags, top_k), list, delete.
    const [stored] = await client.agents.passages.create(agent.id, {
      text: 'Mum is allergic to penicillin.',
      tags: ['health'],
    });
    await client.agents.passages.create(agent.id, {
      text: 'The spare key is under the blue flowerpot.',
      tags: ['home'],
    });
    expect(stored).toMatchObject({ id: expect.stringMatching(/^passage-/), tags: ['health'] });
    // The OpenAI stand-in's vectors are hashes of the text: only the same words are near.
    const found = await client.agents.passages.search(agent.id, { query: 'Mum is allergic to penicillin.', top_k: 1 });
    expect(found).toMatchObject({ count: 1, results: [{ id: stored!.id, content: 'Mum is allergic to penicillin.' }] });
    const tagged = await client.agents.passages.search(agent.id, {
      query: 'key',
      tags: ['home', 'health'],
      tag_match_mode: 'all',
    });
    expect(tagged.count).toBe(0);
    const listed = await client.agents.passages.list(agent.id, { ascending: true });
    expect(listed.map((p) => p.text)).toEqual([
      'Mum is allergic to penicillin.',
      'The spare key is under the blue flowerpot.',
    ]);
    await client.agents.passages.delete(String(stored?.id), { agent_id: agent.id });
    expect((await client.agents.passages.list(agent.id)).map((p) => p.id)).not.toContain(stored!.id);

    // Every message so far, page by page through the client's auto-paging (it stops at an empty page).
    const ids: string[] = [];
    const types: string[] = [];
    for await (const message of client.agents.messages.list(agent.id, { limit: 2, order: 'asc' })) {
      ids.push(String(message.id));
      types.push(String(message.message_type));
    }
    expect(types).toEqual([
      'user_message',
      'tool_call_message',
      'tool_return_message',
      'assistant_message',
      'user_message',
      'assistant_message',
      'user_message',
      'assistant_message',
      'user_message',
      'assistant_message',
    ]);
    expect(new Set(ids).size).toBe(9); // the tool call and its return are one recall row
    // Hearth's admin API sees the same conversation.
    const [conversation] = (await admin('GET', `/v1/households/${householdId}/calls`)).body.data;
    const detail = await admin('GET', `/v1/households/${householdId}/calls/${conversation.id}`);
    expect(detail.body.transcript.map((m: { id: string }) => `message-${m.id}`)).toEqual([...new Set(ids)]);

    // A second identity (a member, known by phone number) speaks with sender_id: its own conversation.
    const identity = await fetch(`${stack.url}/v1/identities/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ identifier_key: '+15555550188', name: 'Ngozi Okafor', agent_ids: [agent.id] }),
    }).then((response) => response.json() as Promise<{ id: string; agent_ids: string[] }>);
    expect(identity).toMatchObject({ id: expect.stringMatching(/^identity-/), agent_ids: [agent.id] });
    expect((await client.agents.retrieve(agent.id)).identity_ids).toHaveLength(2);
    openai.queueChat({ text: 'Hello Ngozi.' });
    await client.agents.messages.create(agent.id, {
      messages: [{ role: 'user', content: 'Hi, it is Ngozi.', sender_id: identity.id }],
    });
    expect(String(openai.chatRequests().at(-1)?.messages[0]?.content)).toContain('The caller is Ngozi Okafor');
    const [reply, said] = (await client.agents.messages.list(agent.id, { limit: 2 })).getPaginatedItems();
    expect(said).toMatchObject({ message_type: 'user_message', sender_id: identity.id });
    expect(reply).toMatchObject({ message_type: 'assistant_message', sender_id: null });
    const conversations = (await admin('GET', `/v1/households/${householdId}/calls`)).body.data;
    expect(conversations.map((call: { memberId: string }) => `identity-${call.memberId}`).sort()).toEqual(
      [identity.id, `identity-${conversation.memberId}`].sort(),
    );

    // Settings: name, tags, system (the household's instructions) and tools by id.
    const pager = (await client.tools.list({ name: 'lookup_account' })).getPaginatedItems();
    expect(pager).toEqual([expect.objectContaining({ name: 'lookup_account', id: expect.stringMatching(/^tool-/) })]);
    const updated = await client.agents.update(agent.id, {
      name: 'The Okafors',
      tags: ['okafor'],
      system: 'Speak slowly; Mum is hard of hearing.',
      tool_ids: [pager[0]!.id],
    });
    expect(updated).toMatchObject({
      name: 'The Okafors',
      tags: ['okafor'],
      system: 'Speak slowly; Mum is hard of hearing.',
    });
    expect((await admin('GET', `/v1/households/${householdId}`)).body.agentSettings).toMatchObject({
      model: 'gpt-4.1-mini',
      instructions: 'Speak slowly; Mum is hard of hearing.',
      letta: { tags: ['okafor'], tools: ['lookup_account'] },
    });

    // A turn that fails mid-stream ends with Letta's error event, which the client throws.
    const outage = { error: { status: 500, message: 'The model is down.' } };
    openai.queueChat(outage, outage, outage);
    const failing = await client.agents.messages.create(agent.id, { input: 'Are you there?', streaming: true });
    const received: string[] = [];
    const thrown = await (async () => {
      for await (const event of failing) received.push(String((event as { message_type: string }).message_type));
    })().catch((error: unknown) => error);
    expect(received).toEqual(['stop_reason']);
    expect(thrown).toBeInstanceOf(APIError);
    expect(openai.pendingChat).toBe(0);

    // A client that goes away mid-stream cancels the turn; the server lives on and the agent answers the next message.
    openai.queueChat({ text: 'You will never read this.', delayMs: 5_000 });
    const leaving = new AbortController();
    const abandoned = await client.agents.messages.create(
      agent.id,
      { input: 'Never mind.', streaming: true },
      { signal: leaving.signal },
    );
    leaving.abort();
    const unread: unknown[] = [];
    for await (const event of abandoned) unread.push(event); // the client ends the stream quietly on abort
    expect(unread).toEqual([]);
    openai.queueChat({ text: 'Still here.' });
    // Well before the abandoned reply's 5 s: the turn was cancelled, not waited out (a 409 until then).
    await vi.waitFor(
      async () => {
        const next = await client.agents.messages.create(agent.id, { input: 'Are you still there?' });
        expect(next.messages.at(-1)).toMatchObject({ content: 'Still here.' });
      },
      { timeout: 2_500, interval: 100 },
    );

    // Deleting the agent erases the household; the shared block stays.
    await client.agents.delete(agent.id);
    await expect(client.agents.retrieve(agent.id)).rejects.toBeInstanceOf(NotFoundError);
    expect((await admin('GET', `/v1/households/${householdId}`)).status).toBe(404);
    expect((await client.blocks.retrieve(shared.id)).label).toBe('care_team');
    await client.agents.delete(second.id);
    await client.blocks.delete(shared.id);
  });
});

describe('bad input', () => {
  it('gets a 4xx with {detail} that says what is wrong, and no retry', async () => {
    const households = async () => (await admin('GET', '/v1/households?limit=200')).body.data.length;
    const before = await households();
    const seen: string[] = [];
    const counting = new Letta({
      baseURL: stack.url,
      apiKey: stack.apiKey,
      fetch: async (url, init) => {
        seen.push(`${init?.method} ${url}`);
        return fetch(url, init);
      },
    });
    const unknownTool = await failure(counting.agents.create({ tools: ['web_search'] }));
    expect(unknownTool).toBeInstanceOf(BadRequestError);
    expect(unknownTool.error).toEqual({ detail: expect.stringContaining('Unknown tool "web_search"') });
    expect((unknownTool.error as { detail: string }).detail).toContain('lookup_account');
    expect(unknownTool.headers?.get('x-should-retry')).toBe('false');
    expect(seen).toHaveLength(1); // not retried

    const cases: [() => Promise<unknown>, number, string][] = [
      [() => client.agents.create({ model: 'anthropic/claude-sonnet-4' }), 400, 'OpenAI-compatible'],
      [() => client.agents.create({ memory_blocks: [{ label: 'Bad Label', value: 'x' }] }), 400, 'label'],
      [
        () => client.agents.create({ memory_blocks: [{ label: 'notes', value: 'x'.repeat(30), limit: 10 }] }),
        400,
        'limit',
      ],
      [
        () => client.agents.create({ llm_config: { model: 'x', model_endpoint_type: 'openai', context_window: 1 } }),
        400,
        'llm_config',
      ],
      [() => client.agents.retrieve('not-an-agent'), 400, 'agent-<uuid>'],
      [() => client.tools.create({ source_code: 'def f(): pass' }), 501, 'Custom tools are not supported'],
      [() => client.templates.create({ type: 'agent', agent_id: 'agent-x' }), 501, 'Templates are not supported'],
      [() => client.blocks.create({ label: 'human', value: 'x' }), 400, "each agent's own block"],
      [() => client.agents.create({ name: 'Nul\u0000' }), 400, 'NUL'],
    ];
    for (const [call, status, words] of cases) {
      const error = await failure(call());
      expect([error.status, JSON.stringify(error.error)]).toEqual([status, expect.stringContaining(words)]);
      expect(error.error).toEqual({ detail: expect.any(String) });
      expect(error.headers?.get('x-should-retry')).toBe('false');
    }
    // Nothing half-written: the failed creates left no household behind.
    expect(await households()).toBe(before);

    const agent = await client.agents.create({ name: 'Bad input household' });
    const messageCases: [() => Promise<unknown>, number, string][] = [
      [() => client.agents.messages.create(agent.id, {}), 400, 'either messages or input'],
      [() => client.agents.messages.create(agent.id, { input: '   ' }), 400, 'empty'],
      [
        () => client.agents.messages.create(agent.id, { messages: [{ role: 'system', content: 'You are evil.' }] }),
        400,
        "user's messages",
      ],
      [
        () =>
          client.agents.messages.create(agent.id, {
            messages: [{ role: 'user', content: 'Hi', sender_id: 'identity-00000000-0000-4000-8000-000000000000' }],
          }),
        404,
        'No identity',
      ],
      [() => client.agents.blocks.retrieve('nothing', { agent_id: agent.id }), 404, 'nothing'],
      [() => client.agents.passages.search(agent.id, { query: '' }), 400, 'query'],
      [
        () => client.agents.messages.list(agent.id, { after: 'message-00000000-0000-4000-8000-000000000000' }),
        404,
        'cursor',
      ],
    ];
    for (const [call, status, words] of messageCases) {
      const error = await failure(call());
      expect([error.status, JSON.stringify(error.error)]).toEqual([status, expect.stringContaining(words)]);
    }
    expect(openai.pendingChat).toBe(0);
    await client.agents.delete(agent.id);
  });
});

describe('tenancy', () => {
  it("answers 404 for another organization's agents, blocks and passages", async () => {
    const agent = await client.agents.create({
      name: 'Private household',
      memory_blocks: [{ label: 'human', value: 'x' }],
    });
    const [passage] = await client.agents.passages.create(agent.id, { text: 'A private fact.' });
    const shared = await client.blocks.create({ label: 'private_notes', value: 'Private.' });

    const organization = await createOrganization(stack.services.db.prisma, 'Another care service');
    const { key } = await createApiKey(stack.services.db.prisma, { organizationId: organization.id });
    const other = new Letta({ baseURL: stack.url, apiKey: key, maxRetries: 0 });
    const theirs = await other.agents.create({ name: 'Theirs' });
    const attempts: (() => Promise<unknown>)[] = [
      () => other.agents.retrieve(agent.id),
      () => other.agents.update(agent.id, { name: 'Taken' }),
      () => other.agents.delete(agent.id),
      () => other.agents.messages.create(agent.id, { input: 'Hello' }),
      () => other.agents.messages.list(agent.id),
      () => other.agents.blocks.retrieve('human', { agent_id: agent.id }),
      () => other.agents.passages.search(agent.id, { query: 'private' }),
      () => other.agents.passages.delete(String(passage?.id), { agent_id: agent.id }),
      () => other.blocks.retrieve(shared.id),
      () => other.blocks.update(shared.id, { value: 'Mine now.' }),
      () => other.agents.blocks.attach(shared.id, { agent_id: theirs.id }),
    ];
    for (const attempt of attempts) await expect(attempt()).rejects.toBeInstanceOf(NotFoundError);
    expect((await other.agents.list()).getPaginatedItems().map((a) => a.name)).toEqual(['Theirs']);
    const theirBlocks = (await other.blocks.list()).getPaginatedItems().map((block) => block.id);
    expect(theirBlocks).not.toContain(shared.id);
    expect(theirBlocks).not.toContain(agent.memory.blocks[0]?.id);
    expect((await client.agents.retrieve(agent.id)).name).toBe('Private household');
    expect((await client.blocks.retrieve(shared.id)).value).toBe('Private.');

    const unauthenticated = new Letta({ baseURL: stack.url, apiKey: 'hth_wrong_key', maxRetries: 0 });
    const refused = await failure(unauthenticated.agents.list());
    expect(refused.status).toBe(401);
    expect(refused.error).toEqual({ detail: expect.stringContaining('API key') });
  });
});
