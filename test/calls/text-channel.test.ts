import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { consolidationJob, createModelProvider } from '../../src/agent/index.js';
import { CallLifecycle, END_IDLE_CALL_JOB, TextChannel } from '../../src/calls/index.js';
import type { Database } from '../../src/db/index.js';
import { createQueue, type JobQueue } from '../../src/jobs/index.js';
import { createLogger } from '../../src/logger.js';
import type { MemoryEngine } from '../../src/memory/index.js';
import { hashEmbedder } from '../memory/helpers.js';
import { createTestDatabase } from '../support/database.js';
import { type OpenAIStub, startOpenAIStub } from '../support/openai-stub.js';
import { startTestServer, type TestServer } from '../support/server.js';

const logger = createLogger({ LOG_LEVEL: 'silent', LOG_FORMAT: 'json' });

let db: Database;
let stub: OpenAIStub;
let queue: JobQueue;
let server: TestServer;
let key: string;
let householdId: string;
let nana: string;
let chidi: string;

interface Reply {
  conversationId: string;
  reply: string;
  stopReason: string;
  toolCalls: Array<{ name: string; arguments: string; ok: boolean; output: string }>;
}

async function call(method: string, path: string, body?: unknown, apiKey = key) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Waits until the call's consolidation has finished, so that it asks the stand-in nothing more. */
function consolidated(callId: string) {
  return vi.waitFor(
    async () =>
      expect((await db.prisma.call.findUniqueOrThrow({ where: { id: callId } })).consolidatedAt).not.toBeNull(),
    { timeout: 20_000, interval: 100 },
  );
}

async function createOrganization(name: string) {
  const { createApiKey, createOrganization: create } = await import('../../src/admin/index.js');
  const organization = await create(db.prisma, name);
  return (await createApiKey(db.prisma, { organizationId: organization.id, name: 'test' })).key;
}

function agentOn(memory: MemoryEngine) {
  const provider = createModelProvider({
    apiKey: 'sk-test',
    baseUrl: stub.url,
    defaultModel: 'gpt-test',
    maxRetries: 0,
  });
  return { prisma: db.prisma, memory, provider, logger, maxSteps: 4 };
}

/** A text channel (an instance of the service) on its own call lifecycle. */
function textChannel(memory: MemoryEngine, idleSeconds = 3600) {
  const calls = new CallLifecycle({ prisma: db.prisma, memory, queue, logger, idleSeconds });
  return { calls, conversations: new TextChannel({ ...agentOn(memory), calls }) };
}

beforeAll(async () => {
  db = await createTestDatabase();
  stub = await startOpenAIStub();
  queue = createQueue({ db, logger, pollingIntervalSeconds: 0.5 });
  await queue.start();
  server = await startTestServer(
    db,
    {},
    {
      embedder: hashEmbedder(),
      conversations: (memory) => textChannel(memory).conversations,
    },
  );
  await queue.register(consolidationJob(agentOn(server.memory)));
  await queue.register({ name: END_IDLE_CALL_JOB, schema: z.object({ callId: z.uuid() }) });
  key = await createOrganization('Text channel');
  const household = await call('POST', '/v1/households', { name: 'The Okafors', timezone: 'Europe/London' });
  householdId = household.body.id as string;
  nana = (await call('POST', `/v1/households/${householdId}/members`, { name: 'Adaeze', phone: '+15555550181' })).body
    .id as string;
  chidi = (await call('POST', `/v1/households/${householdId}/members`, { name: 'Chidi', phone: '+15555550182' })).body
    .id as string;
});
afterAll(async () => {
  await server.close();
  await queue.stop();
  await stub.close();
  await db.close();
});
beforeEach(() => stub.reset());

describe('POST /v1/households/:householdId/messages', () => {
  it('answers with the reply and the tools used; another member then sees the shared memory', async () => {
    stub.queueChat(
      {
        toolCalls: [
          { name: 'core_memory_append', arguments: { label: 'household', content: 'The cat is called Miso.' } },
        ],
      },
      { text: 'I will remember Miso.' },
    );
    const first = await call('POST', `/v1/households/${householdId}/messages`, {
      memberId: nana,
      text: 'Our new cat is called Miso.',
    });
    expect(first.status).toBe(200);
    const reply = first.body as unknown as Reply;
    expect(reply).toMatchObject({ reply: 'I will remember Miso.', stopReason: 'answered' });
    expect(reply.toolCalls).toEqual([
      {
        name: 'core_memory_append',
        arguments: JSON.stringify({ label: 'household', content: 'The cat is called Miso.' }),
        ok: true,
        output: expect.stringContaining('Appended to'),
      },
    ]);

    // The same conversation continues with its history.
    stub.queueChat({ text: 'Yes, Miso.' });
    const second = await call('POST', `/v1/households/${householdId}/messages`, {
      memberId: nana,
      text: 'What is the cat called?',
      conversationId: reply.conversationId,
    });
    expect(second.body).toMatchObject({ conversationId: reply.conversationId, reply: 'Yes, Miso.' });
    expect(JSON.stringify(stub.chatRequests().at(-1)?.messages)).toContain('Our new cat is called Miso.');

    // Chidi's new conversation starts with the shared block in its instructions.
    stub.queueChat({ text: 'Your family cat is Miso.' });
    const chidis = await call('POST', `/v1/households/${householdId}/messages`, { memberId: chidi, text: 'Any pets?' });
    expect((chidis.body as unknown as Reply).conversationId).not.toBe(reply.conversationId);
    expect(stub.chatRequests().at(-1)?.messages[0]?.content).toContain('The cat is called Miso.');
  });

  it('ends a conversation and consolidates it once', async () => {
    stub.queueChat({ text: 'Hello Adaeze.' });
    const started = await call('POST', `/v1/households/${householdId}/messages`, { memberId: nana, text: 'Hello!' });
    const conversationId = (started.body as unknown as Reply).conversationId;
    stub.queueChat({ text: 'Adaeze said hello.' });
    const ended = await call('POST', `/v1/households/${householdId}/conversations/${conversationId}/end`);
    expect(ended).toEqual({ status: 200, body: { conversationId, status: 'completed' } });
    await vi.waitFor(
      async () =>
        expect((await db.prisma.call.findUniqueOrThrow({ where: { id: conversationId } })).summary).toBe(
          'Adaeze said hello.',
        ),
      { timeout: 20_000, interval: 100 },
    );
    // Ending it again, with an empty JSON body ("no fields"), as curl -d '' sends it.
    const again = await fetch(`${server.url}/v1/households/${householdId}/conversations/${conversationId}/end`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '',
    });
    expect(again.status).toBe(200);

    const after = await call('POST', `/v1/households/${householdId}/messages`, {
      memberId: nana,
      text: 'Still there?',
      conversationId,
    });
    expect(after.status).toBe(409);
    expect(after.body).toMatchObject({ error: { code: 'conflict', message: expect.stringContaining('has ended') } });
  });

  it('reads ids in any case: an upper-case memberId continues its own conversation', async () => {
    stub.queueChat({ text: 'Hello Adaeze.' }, { text: 'Hello again.' }, { text: 'Adaeze said hello twice.' });
    const first = await call('POST', `/v1/households/${householdId}/messages`, { memberId: nana, text: 'Hello' });
    expect(first.status).toBe(200);
    const conversationId = first.body.conversationId as string;
    const second = await call('POST', `/v1/households/${householdId.toUpperCase()}/messages`, {
      memberId: nana.toUpperCase(),
      text: 'Me again',
      conversationId: conversationId.toUpperCase(),
    });
    expect(second).toMatchObject({ status: 200, body: { conversationId, reply: 'Hello again.' } });
    const ended = await call('POST', `/v1/households/${householdId}/conversations/${conversationId.toUpperCase()}/end`);
    expect(ended).toMatchObject({ status: 200, body: { conversationId } });
    await consolidated(conversationId);
  });

  it('gives each bad request its 4xx and asks no model', async () => {
    const path = `/v1/households/${householdId}/messages`;
    const cases: Array<[unknown, number, string]> = [
      [{ memberId: nana }, 400, 'invalid_request'],
      [{ memberId: nana, text: '   ' }, 400, 'invalid_request'],
      [{ memberId: nana, text: 'hi', mood: 'happy' }, 400, 'invalid_request'],
      [{ memberId: 'not-a-uuid', text: 'hi' }, 400, 'invalid_request'],
      [{ memberId: '00000000-0000-4000-8000-000000000000', text: 'hi' }, 404, 'not_found'],
      [{ memberId: nana, text: 'hi', conversationId: '00000000-0000-4000-8000-000000000000' }, 404, 'not_found'],
    ];
    for (const [body, status, code] of cases) {
      const response = await call('POST', path, body);
      expect({ body, status: response.status, code: (response.body.error as { code: string }).code }).toEqual({
        body,
        status,
        code,
      });
    }
    // Another organization's key cannot reach this household, nor its members.
    const otherKey = await createOrganization('Elsewhere');
    const foreign = await call('POST', path, { memberId: nana, text: 'hi' }, otherKey);
    expect(foreign.status).toBe(404);
    expect(stub.chatRequests()).toHaveLength(0);
  });

  it('answers a reply the model server garbled with 502 upstream_error, and keeps the turn in recall', async () => {
    const garbled = [
      { raw: { contentType: 'application/json', body: '{"id": "chatcmpl_1", "choices": [' } },
      { raw: { contentType: 'text/html', body: '<html><body>Bad gateway</body></html>' } },
      {
        raw: {
          contentType: 'application/json',
          body: JSON.stringify({
            id: 'chatcmpl_1',
            object: 'chat.completion',
            created: 0,
            model: 'gpt-test',
            choices: [{ index: 0, message: null, finish_reason: 'stop' }],
          }),
        },
      },
    ];
    for (const [index, step] of garbled.entries()) {
      stub.queueChat(step);
      const text = `Garbled reply number ${index}.`;
      const response = await call('POST', `/v1/households/${householdId}/messages`, { memberId: chidi, text });
      expect(response).toMatchObject({
        status: 502,
        body: { error: { code: 'upstream_error', message: expect.stringContaining('could not read') } },
      });
      expect(await db.prisma.message.count({ where: { householdId, role: 'user', content: text } })).toBe(1);
    }
  });

  it('is listed in the OpenAPI document', async () => {
    const response = await fetch(`${server.url}/v1/openapi.json`);
    const document = (await response.json()) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/v1/households/{householdId}/messages',
        '/v1/households/{householdId}/conversations/{conversationId}/end',
      ]),
    );
  });
});

describe('the idle check', () => {
  it('keeps a conversation that spoke recently, ends one quiet for the idle time, then has nothing to do', async () => {
    const quick = textChannel(server.memory, 1);
    stub.queueChat({ text: 'Hello Chidi.' });
    const { conversationId } = await quick.conversations.send({ householdId, memberId: chidi, text: 'Hi there.' });
    expect(await quick.calls.endIfIdle({ callId: conversationId })).toBe('active');

    stub.queueChat({ text: 'Chidi said hi and left.' });
    await vi.waitFor(async () => expect(await quick.calls.endIfIdle({ callId: conversationId })).toBe('ended'), {
      timeout: 10_000,
      interval: 250,
    });
    await vi.waitFor(
      async () =>
        expect(await db.prisma.call.findUniqueOrThrow({ where: { id: conversationId } })).toMatchObject({
          status: 'completed',
          summary: 'Chidi said hi and left.',
        }),
      { timeout: 20_000, interval: 100 },
    );
    expect(await quick.calls.endIfIdle({ callId: conversationId })).toBe('gone');
  });
});

/** A conversation of Nana's whose second message the model is still answering (for a second). */
async function conversationMidReply() {
  stub.queueChat({ text: 'Hi.' });
  const started = await call('POST', `/v1/households/${householdId}/messages`, { memberId: nana, text: 'Hello.' });
  const conversationId = (started.body as unknown as Reply).conversationId;
  stub.queueChat({ text: 'A slow answer.', delayMs: 1_000 });
  const slow = call('POST', `/v1/households/${householdId}/messages`, {
    memberId: nana,
    text: 'Tell me.',
    conversationId,
  });
  await vi.waitFor(() => expect(stub.chatRequests()).toHaveLength(2), { timeout: 10_000, interval: 20 });
  return { conversationId, slow };
}

describe('one conversation, one turn at a time', () => {
  it('answers a second message or an end sent mid-reply with 409, and then carries on', async () => {
    const { conversationId, slow } = await conversationMidReply();
    const overlapping = await call('POST', `/v1/households/${householdId}/messages`, {
      memberId: nana,
      text: 'Hurry!',
      conversationId,
    });
    expect(overlapping).toMatchObject({
      status: 409,
      body: { error: { message: expect.stringContaining('still answering') } },
    });
    const ending = await call('POST', `/v1/households/${householdId}/conversations/${conversationId}/end`);
    expect(ending).toMatchObject({
      status: 409,
      body: { error: { message: expect.stringContaining('still answering') } },
    });

    expect(await slow).toMatchObject({ status: 200, body: { reply: 'A slow answer.' } });
    stub.queueChat({ text: 'Bye.' });
    expect((await call('POST', `/v1/households/${householdId}/conversations/${conversationId}/end`)).status).toBe(200);
    // Let its consolidation finish before the next test scripts the stand-in.
    await consolidated(conversationId);
  });
});

describe('two instances serving one conversation', () => {
  it('take turns (the second gets 409 mid-reply), and each continues with the turns the other answered', async () => {
    const other = textChannel(server.memory).conversations;
    const { conversationId, slow } = await conversationMidReply();
    await expect(other.send({ householdId, memberId: nana, text: 'Hurry!', conversationId })).rejects.toThrow(
      'still answering',
    );
    await slow;

    stub.queueChat({ text: 'Answered by the other instance.' });
    await other.send({ householdId, memberId: nana, text: 'The other one here.', conversationId });
    stub.queueChat({ text: 'Back on the first.' });
    await call('POST', `/v1/households/${householdId}/messages`, {
      memberId: nana,
      text: 'And again.',
      conversationId,
    });
    // The first instance's cached session picked up the turn the other answered.
    expect(JSON.stringify(stub.chatRequests().at(-1)?.messages)).toContain('Answered by the other instance.');
  });
});

/** A household of its own with one member, for a test that deletes it. */
async function doomedHousehold() {
  const householdId = (await call('POST', '/v1/households', { name: 'The Doomed' })).body.id as string;
  const memberId = (await call('POST', `/v1/households/${householdId}/members`, { name: 'Dana' })).body.id as string;
  return { householdId, memberId };
}

/** Sends a message to a new household, deletes the household while the model answers, then lets the model answer. */
async function deletedMidReply(answer: Parameters<OpenAIStub['queueChat']>[0]) {
  const { householdId: doomed, memberId } = await doomedHousehold();
  let answerNow!: () => void;
  stub.queueChat({ ...answer, until: new Promise<void>((resolve) => (answerNow = resolve)) });
  const reply = call('POST', `/v1/households/${doomed}/messages`, { memberId, text: 'Hello.' });
  await vi.waitFor(() => expect(stub.chatRequests()).toHaveLength(1), { timeout: 10_000, interval: 20 });
  const deleted = await fetch(`${server.url}/v1/households/${doomed}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${key}` },
  });
  expect(deleted.status).toBe(204);
  answerNow();
  return reply;
}

describe('a household deleted while its agent answers', () => {
  it('answers the message with a 404 in the error shape', async () => {
    expect(await deletedMidReply({ text: 'Too late.' })).toEqual({
      status: 404,
      // Recall refuses the write for the household that went away, or the lease finds the call gone.
      body: { error: { code: 'not_found', message: expect.stringMatching(/^No household |no longer exists/) } },
    });
  });

  it("reports the model's own failure, not the lease release that follows it", async () => {
    expect(await deletedMidReply({ error: { status: 400, message: 'Unsupported parameter.' } })).toMatchObject({
      status: 502,
      body: { error: { code: 'upstream_error' } },
    });
  });
});
