/**
 * Memory health against the running server: probes added, run on schedule and on demand through
 * the real agent loop (the OpenAI stand-in answers from the instructions it is sent, as a model
 * would), the health reports, and the `memory.probe_failed` webhook.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiKey } from '../../src/admin/api-keys.js';
import { createOrganization } from '../../src/admin/organizations.js';
import { type OpenAIStub, startOpenAIStub } from '../support/openai-stub.js';
import { startVoiceStack, type VoiceStack } from '../support/voice-stack.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const WAIT = { timeout: 10_000, interval: 100 };
const FACT = 'Nana takes her tea with two sugars.';
const DONT_KNOW = "I'm not sure; I don't have that noted.";

let openai: OpenAIStub;
let receiver: WebhookReceiver;
let stack: VoiceStack;
let noModel: VoiceStack;
let otherKey: string;

async function api(method: string, path: string, body?: unknown, options: { key?: string; target?: VoiceStack } = {}) {
  const target = options.target ?? stack;
  const response = await fetch(`${target.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${options.key ?? target.apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const probes = (target: VoiceStack = stack) => `/v1/households/${target.householdId}/probes`;

/** What a probe run could write: if any of these change, it wrote memory or recall. */
async function memoryFootprint(target: VoiceStack = stack) {
  const { prisma } = target.services.db;
  const where = { householdId: target.householdId };
  const [messages, passages, revisions, escalations] = await Promise.all([
    prisma.message.count({ where }),
    prisma.passage.count({ where }),
    prisma.blockRevision.count({ where }),
    prisma.escalation.count({ where }),
  ]);
  return { messages, passages, revisions, escalations };
}

async function setHouseholdBlock(value: string) {
  const path = `/v1/households/${stack.householdId}/blocks/household`;
  const current = await api('GET', path);
  const response = await fetch(`${stack.url}${path}`, {
    method: 'PATCH',
    headers: {
      authorization: `Bearer ${stack.apiKey}`,
      'content-type': 'application/json',
      'if-match': `"${current.body.version}"`,
    },
    body: JSON.stringify({ value }),
  });
  expect(response.status).toBe(200);
}

beforeAll(async () => {
  [openai, receiver] = await Promise.all([
    // A model that answers from what it is told: the fact if its instructions hold it.
    startOpenAIStub({
      fallbackChat: (request) => ({
        text: JSON.stringify(request.messages).includes(FACT) ? 'She takes two sugars in her tea.' : DONT_KNOW,
      }),
    }),
    startWebhookReceiver({ secret: `whsec_${Buffer.alloc(32).toString('base64')}` }),
  ]);
  [stack, noModel] = await Promise.all([
    startVoiceStack({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.url }),
    startVoiceStack({}),
  ]);
  const endpoint = await api('POST', '/v1/webhook-endpoints', {
    url: receiver.url,
    eventTypes: ['memory.probe_failed'],
  });
  expect(endpoint.status).toBe(201);
  receiver.useSecret(endpoint.body.secret);
  const other = await createOrganization(stack.services.db.prisma, 'Another care company');
  otherKey = (await createApiKey(stack.services.db.prisma, { organizationId: other.id })).key;
});

afterAll(async () => {
  await Promise.all([stack?.close(), noModel?.close()]);
  await Promise.all([openai?.close(), receiver?.close()]);
});

describe('an answer probe', () => {
  it('passes while memory holds the answer, fails once it is removed, and alerts on the second failure', async () => {
    await setHouseholdBlock(`The Okafor family home.\n${FACT}`);
    const created = await api('POST', probes(), {
      question: 'How does Nana take her tea?',
      memberId: stack.memberIds[1],
      expectedAny: ['two sugars', '2 sugars'],
      expectedAll: ['tea'],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'answer', intervalMinutes: 1440, failuresInARow: 0, lastRun: null });
    const run = (id: string) => api('POST', `${probes()}/${id}/run`);

    const before = await memoryFootprint();
    const passed = await run(created.body.id);
    expect(passed.status).toBe(200);
    expect(passed.body).toMatchObject({ passed: true, answer: 'She takes two sugars in her tea.', detail: null });
    expect(passed.body.scheduled).toBe(false);
    expect(JSON.stringify(openai.chatRequests().at(-1)?.messages)).toContain('<memory_blocks>');

    await setHouseholdBlock('The Okafor family home.');
    const failed = await run(created.body.id);
    expect(failed.body).toMatchObject({ passed: false, answer: DONT_KNOW });
    expect(failed.body.detail).toBe('The answer lacks any of "two sugars", "2 sugars" and all of "tea".');
    expect(receiver.messages).toHaveLength(0);
    await run(created.body.id);
    await vi.waitFor(() => expect(receiver.messages).toHaveLength(1), WAIT);
    expect(receiver.messages[0]?.payload).toMatchObject({
      type: 'memory.probe_failed',
      data: { probeId: created.body.id, failuresInARow: 2, lastAnswer: DONT_KNOW },
    });
    await run(created.body.id); // a third failure in a row: no second alert
    const probe = await api('GET', `${probes()}/${created.body.id}`);
    expect(probe.body).toMatchObject({ failuresInARow: 3, lastRun: { passed: false } });
    const runs = await api('GET', `${probes()}/${created.body.id}/runs`);
    expect(runs.body.data.map((row: { passed: boolean }) => row.passed)).toEqual([false, false, false, true]);
    // Only the operator's two block edits were written: the probes wrote nothing.
    expect(await memoryFootprint()).toEqual({ ...before, revisions: before.revisions + 1 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.messages).toHaveLength(1);
  });

  it('writes nothing to memory or recall, even when the model tries to', async () => {
    const created = await api('POST', probes(), { question: 'What do you know?', expectedAny: ['anything'] });
    openai.queueChat(
      {
        toolCalls: [
          { name: 'core_memory_append', arguments: { label: 'household', content: 'A probe wrote this.' } },
          { name: 'archival_memory_insert', arguments: { content: 'A probe saved this.' } },
          { name: 'conversation_search', arguments: { query: 'tea' } },
        ],
      },
      { toolCalls: [{ name: 'escalate', arguments: { severity: 'urgent', reason: 'testing' } }] },
      { text: 'I know about anything.' },
    );
    const before = await memoryFootprint();
    const run = await api('POST', `${probes()}/${created.body.id}/run`);
    expect(run.body).toMatchObject({ passed: true });
    expect(run.body.toolsUsed).toEqual([
      'core_memory_append',
      'archival_memory_insert',
      'conversation_search',
      'escalate',
    ]);
    expect(await memoryFootprint()).toEqual(before);
    const toolResults = openai
      .chatRequests()
      .at(-1)
      ?.messages.filter((message) => message.role === 'tool')
      .map((message) => String(message.content));
    expect(toolResults?.slice(0, 2)).toEqual([
      expect.stringContaining('Memory is read-only'),
      expect.stringContaining('Memory is read-only'),
    ]);
    expect(toolResults?.[3]).toContain('Unknown tool');
  });

  it('runs on schedule: due at once, then not again until its interval has passed', async () => {
    const created = await api('POST', probes(), {
      question: 'How does Nana take her tea?',
      expectedAny: ['sugar'],
      intervalMinutes: 60,
    });
    expect(await stack.services.health.sweep()).toBeGreaterThanOrEqual(1);
    await vi.waitFor(async () => {
      const probe = await api('GET', `${probes()}/${created.body.id}`);
      expect(probe.body.lastRun).toMatchObject({ scheduled: true });
    }, WAIT);
    const probe = await api('GET', `${probes()}/${created.body.id}`);
    const next = new Date(probe.body.nextRunAt).getTime();
    expect(next - Date.now()).toBeGreaterThan(59 * 60_000);
    expect(await stack.services.health.sweep()).toBe(0);
  });
});

describe('a retrieval probe', () => {
  it('runs without a model: passes while the passage is found, fails once it is deleted', async () => {
    const path = `/v1/households/${noModel.householdId}/passages`;
    const passage = await api(
      'POST',
      path,
      { text: 'The spare key is under the blue flowerpot.' },
      { target: noModel },
    );
    expect(passage.status).toBe(201);
    const created = await api(
      'POST',
      probes(noModel),
      { question: 'Where is the spare key?', kind: 'retrieval', expectedPassageId: passage.body.id },
      { target: noModel },
    );
    expect(created.status).toBe(201);
    const run = () => api('POST', `${probes(noModel)}/${created.body.id}/run`, undefined, { target: noModel });
    const found = await run();
    expect(found.body).toMatchObject({ passed: true, toolsUsed: ['archival_memory_search', 'conversation_search'] });
    expect(found.body.answer).toContain('archival 1: The spare key is under the blue flowerpot.');
    expect((await api('DELETE', `${path}/${passage.body.id}`, undefined, { target: noModel })).status).toBe(204);
    const lost = await run();
    expect(lost.body.passed).toBe(false);
    expect(lost.body.detail).toBe(`Not found: passage ${passage.body.id} in archival search's top 5.`);
  });

  it('an answer probe without a model is a 503 that says what to set, and nothing is stored', async () => {
    const created = await api(
      'POST',
      probes(noModel),
      { question: 'Tea?', expectedAny: ['sugar'] },
      { target: noModel },
    );
    const run = await api('POST', `${probes(noModel)}/${created.body.id}/run`, undefined, { target: noModel });
    expect(run.status).toBe(503);
    expect(run.body.error.message).toContain('set OPENAI_API_KEY');
    const runs = await api('GET', `${probes(noModel)}/${created.body.id}/runs`, undefined, { target: noModel });
    expect(runs.body.data).toEqual([]);
  });
});

describe('bad input', () => {
  it('gets a 4xx that says what is wrong, and stores nothing', async () => {
    const count = () => stack.services.db.prisma.memoryProbe.count();
    const before = await count();
    const cases: Array<[unknown, number, string]> = [
      [{ question: 'Tea?' }, 400, 'an answer probe needs expectedAny or expectedAll'],
      [{ question: 'Key?', kind: 'retrieval' }, 400, 'a retrieval probe needs expectedPassageId or expectedFact'],
      [{ question: '', expectedAny: ['x'] }, 400, 'question'],
      [{ question: 'Tea?', expectedAny: ['x'], intervalMinutes: 1 }, 400, 'intervalMinutes'],
      [{ question: 'Tea?', expectedAny: ['x'], colour: 'blue' }, 400, 'colour'],
      [{ question: 'Tea?', expectedAny: ['x'], memberId: '00000000-0000-4000-8000-000000000001' }, 404, 'No member'],
      [
        { question: 'Key?', kind: 'retrieval', expectedPassageId: '00000000-0000-4000-8000-000000000000' },
        404,
        'No passage',
      ],
    ];
    for (const [body, status, message] of cases) {
      const response = await api('POST', probes(), body);
      expect({ body, status: response.status }).toEqual({ body, status });
      expect(JSON.stringify(response.body)).toContain(message);
    }
    expect(await count()).toBe(before);
    const created = await api('POST', probes(), { question: 'Tea?', expectedAny: ['sugar'] });
    const emptied = await api('PATCH', `${probes()}/${created.body.id}`, { expectedAny: [] });
    expect(emptied.status).toBe(400);
    expect(emptied.body.error.message).toContain('an answer probe needs expectedAny or expectedAll');
  });
});

describe('the health report', () => {
  it("matches a seeded household's numbers", async () => {
    const { prisma } = noModel.services.db;
    const householdId = noModel.householdId;
    const household = await prisma.household.findUniqueOrThrow({ where: { id: householdId } });
    const organizationId = household.organizationId;
    const { memory } = noModel.services;
    // A block at 95 % of its limit; its value 40 days ago was 100 characters shorter.
    const block = await memory.createBlock({
      organizationId,
      householdId,
      memberId: null,
      label: 'medications',
      charLimit: 1000,
      source: { source: 'admin' },
    });
    await memory.updateBlock({
      householdId,
      memberId: null,
      label: 'medications',
      expectedVersion: block.version,
      changes: { value: 'x'.repeat(850) },
      source: { source: 'admin' },
    });
    await prisma.blockRevision.updateMany({
      where: { blockId: block.id },
      data: { createdAt: new Date(Date.now() - 40 * 86_400_000) },
    });
    await memory.updateBlock({
      householdId,
      memberId: null,
      label: 'medications',
      expectedVersion: block.version + 1,
      changes: { value: 'x'.repeat(950) },
      source: { source: 'admin' },
    });
    // Passages: two identical (a duplicate pair) tagged health in 2026-10, one untagged in 2026-11.
    const insert = (text: string, tags: string[]) => memory.insertPassage({ organizationId, householdId, text, tags });
    const [first, second, third] = await Promise.all([
      insert('Metformin 500 mg with breakfast.', ['health']),
      insert('Metformin 500 mg with breakfast.', ['health']),
      insert('The window cleaner comes monthly.', []),
    ]);
    await prisma.passage.updateMany({
      where: { id: { in: [first.id, second.id] } },
      data: { createdAt: new Date('2026-10-15T12:00:00Z') },
    });
    await prisma.passage.update({ where: { id: third.id }, data: { createdAt: new Date('2026-11-02T12:00:00Z') } });

    const report = await api('GET', `/v1/households/${householdId}/memory/health`, undefined, { target: noModel });
    expect(report.status).toBe(200);
    const medications = report.body.blocks.find((row: { label: string }) => row.label === 'medications');
    expect(medications).toEqual({
      blockId: block.id,
      label: 'medications',
      memberId: null,
      chars: 950,
      charLimit: 1000,
      fill: 0.95,
      growth30d: 100,
    });
    const passagesBefore = (report.body.archival.total as number) - 3;
    expect(report.body.archival.byMonthAndTag).toEqual(
      expect.arrayContaining([
        { month: '2026-10', tag: 'health', count: 2 },
        { month: '2026-11', tag: '(untagged)', count: 1 },
      ]),
    );
    expect(passagesBefore).toBeGreaterThanOrEqual(0);
    expect(report.body.archival.likelyDuplicates).toEqual([
      {
        passageIds: [first.id, second.id].sort(),
        texts: ['Metformin 500 mg with breakfast.', 'Metformin 500 mg with breakfast.'],
        distance: 0,
      },
    ]);
    // The retrieval probe above: passed once, then failed once, today.
    expect(report.body.probes.total).toBe(2);
    const today = new Date().toISOString().slice(0, 10);
    expect(report.body.probes.passRateByDay).toEqual([{ day: today, runs: 2, passed: 1, passRate: 0.5 }]);
    expect(report.body.probes.failing).toEqual([
      expect.objectContaining({
        question: 'Where is the spare key?',
        failuresInARow: 1,
        lastAnswer: expect.any(String),
      }),
    ]);

    const summary = await api('GET', '/v1/memory/health', undefined, { target: noModel });
    expect(summary.status).toBe(200);
    expect(summary.body.households).toEqual([
      {
        householdId,
        name: household.name,
        failingProbes: 1,
        fullBlocks: [{ label: 'medications', memberId: null, fill: 0.95 }],
      },
    ]);
  });
});

describe('another organization', () => {
  it('gets 404 for the probes, their runs and the report, and sees none of it in its summary', async () => {
    const created = await api('POST', probes(), { question: 'Tea?', expectedAny: ['sugar'] });
    const probe = `${probes()}/${created.body.id}`;
    for (const [method, path] of [
      ['GET', probes()],
      ['POST', probes()],
      ['GET', probe],
      ['PATCH', probe],
      ['DELETE', probe],
      ['POST', `${probe}/run`],
      ['GET', `${probe}/runs`],
      ['GET', `/v1/households/${stack.householdId}/memory/health`],
    ] as const) {
      const body =
        method === 'POST' && path === probes()
          ? { question: 'x', expectedAny: ['y'] }
          : method === 'PATCH'
            ? { question: 'x' }
            : undefined;
      const response = await api(method, path, body, { key: otherKey });
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 404 });
    }
    const summary = await api('GET', '/v1/memory/health', undefined, { key: otherKey });
    expect(summary.body.households).toEqual([]);
    expect((await api('GET', probe)).status).toBe(200);
  });
});
