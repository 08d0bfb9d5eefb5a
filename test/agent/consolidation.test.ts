import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  applyConsolidation,
  CONSOLIDATE_CALL_JOB,
  type ConsolidationDeps,
  consolidateCall,
  consolidationJob,
  planConsolidation,
} from '../../src/agent/index.js';
import type { Database } from '../../src/db/index.js';
import { createQueue, type JobQueue } from '../../src/jobs/index.js';
import type { MemoryEngine } from '../../src/memory/index.js';
import { newCall, type SeededHousehold, scopeOf } from '../memory/helpers.js';
import type { OpenAIStub } from '../support/openai-stub.js';
import { type AgentFixture, openAgentFixture, silentLogger } from './fixture.js';

let fixture: AgentFixture;
let db: Database;
let stub: OpenAIStub;
let memory: MemoryEngine;
let deps: ConsolidationDeps;
let household: SeededHousehold;

beforeAll(async () => {
  fixture = await openAgentFixture();
  ({ db, stub, memory, agent: deps, household } = fixture);
});
afterAll(() => fixture.close());
beforeEach(() => stub.reset());

/** A finished call of Nana's with a short transcript in recall. */
async function finishedCall(lines: string[]): Promise<string> {
  const callId = await newCall(db.prisma, household, household.nana);
  const scope = scopeOf(household, { memberId: household.nana, callId, verified: true });
  for (const [index, content] of lines.entries()) {
    await memory.appendMessage({ scope, role: index % 2 === 0 ? 'user' : 'assistant', content });
  }
  await db.prisma.call.update({ where: { id: callId }, data: { status: 'completed', endedAt: new Date() } });
  return callId;
}

const REVIEW_EDITS = [
  { name: 'core_memory_append', arguments: { label: 'household', content: 'The family cat is called Miso.' } },
  {
    name: 'archival_memory_insert',
    arguments: { content: 'Nana sees the dentist on 3 March at 10:00.', tags: ['health', 'appointments'] },
  },
  { name: 'core_memory_append', arguments: { label: 'caller', content: 'Likes to be called Nana.' } },
];
const SUMMARY = 'Nana mentioned the new cat, Miso, and her dentist appointment on 3 March.';

async function blockValue(label: string, memberId: string | null) {
  return (await memory.getBlock({ householdId: household.householdId, memberId, label })).value;
}

async function consolidationRecords(callId: string) {
  const [revisions, passages] = await Promise.all([
    db.prisma.blockRevision.count({ where: { callId, source: 'consolidation' } }),
    db.prisma.passage.count({ where: { sourceCallId: callId } }),
  ]);
  return { revisions, passages };
}

describe('consolidation of a finished call', () => {
  let queue: JobQueue;
  beforeAll(async () => {
    queue = createQueue({ db, logger: silentLogger, pollingIntervalSeconds: 0.5 });
    await queue.start();
    await queue.register(consolidationJob(deps));
  });
  afterAll(() => queue.stop());

  async function completed(jobId: string | null) {
    expect(jobId).toEqual(expect.any(String));
    await vi.waitFor(
      async () => expect((await queue.getJob({ name: CONSOLIDATE_CALL_JOB, id: jobId! }))?.state).toBe('completed'),
      {
        timeout: 20_000,
        interval: 100,
      },
    );
  }

  it('updates shared and caller memory, writes archival facts and the summary, once', async () => {
    const callId = await finishedCall([
      'We adopted a cat last week, she is called Miso.',
      'How lovely! I will remember Miso.',
      'And I have the dentist on the third of March at ten.',
      'Noted.',
    ]);
    stub.queueChat({ toolCalls: REVIEW_EDITS }, { text: SUMMARY });

    const first = await queue.send({ name: CONSOLIDATE_CALL_JOB, data: { callId }, singletonKey: callId });
    // A second enqueue while the first is queued or running is dropped.
    const duplicate = await queue.send({ name: CONSOLIDATE_CALL_JOB, data: { callId }, singletonKey: callId });
    expect(duplicate).toBeNull();
    await completed(first);

    expect(await blockValue('household', null)).toContain('The family cat is called Miso.');
    expect(await blockValue('caller', household.nana)).toContain('Likes to be called Nana.');
    const call = await db.prisma.call.findUniqueOrThrow({ where: { id: callId } });
    expect(call.summary).toBe(SUMMARY);
    expect(call.consolidatedAt).toBeInstanceOf(Date);
    expect(await consolidationRecords(callId)).toEqual({ revisions: 2, passages: 1 });

    // The model saw the transcript and the memory it was asked to update, and only the composable tools.
    const [request] = stub.chatRequests();
    expect(JSON.stringify(request?.messages)).toContain('Caller: We adopted a cat last week');
    expect(request?.messages[0]?.content).toContain('<memory_blocks>');
    expect(request?.tools?.map((tool) => tool.function.name).sort()).toEqual([
      'archival_memory_insert',
      'archival_memory_search',
      'conversation_search',
      'core_memory_append',
      'core_memory_replace',
    ]);
    // The review is not a conversation: it leaves nothing in recall.
    expect(await db.prisma.message.count({ where: { callId } })).toBe(4);

    // Enqueued again after it finished: the job runs, sees the call is done, and asks nobody.
    const again = await queue.send({ name: CONSOLIDATE_CALL_JOB, data: { callId }, singletonKey: callId });
    await completed(again);
    expect(stub.chatRequests()).toHaveLength(2);
    expect(await consolidationRecords(callId)).toEqual({ revisions: 2, passages: 1 });
  });
});

describe('consolidation after a crash', () => {
  it('re-runs from the saved plan: no second model call, no duplicated revisions or passages', async () => {
    const callId = await finishedCall(['Our cat is called Miso, and I see the dentist on 3 March.', 'Got it.']);
    stub.queueChat({ toolCalls: REVIEW_EDITS }, { text: SUMMARY });
    const call = await db.prisma.call.findUniqueOrThrow({ where: { id: callId } });

    // The first run planned, applied two of its three steps, then the process died.
    const plan = await planConsolidation(deps, call);
    expect(plan.steps.map((step) => step.tool)).toEqual([
      'core_memory_append',
      'archival_memory_insert',
      'core_memory_append',
    ]);
    await applyConsolidation(deps, call, { ...plan, steps: plan.steps.slice(0, 2) });
    expect(await consolidationRecords(callId)).toEqual({ revisions: 1, passages: 1 });
    const requestsBefore = stub.chatRequests().length;

    expect(await consolidateCall(deps, callId)).toBe('consolidated');
    expect(stub.chatRequests()).toHaveLength(requestsBefore);
    expect(await consolidationRecords(callId)).toEqual({ revisions: 2, passages: 1 });
    const revisionsOfStep0 = await db.prisma.blockRevision.count({
      where: { callId, idempotencyKey: `consolidation:${callId}:0` },
    });
    expect(revisionsOfStep0).toBe(1);
    expect(await consolidateCall(deps, callId)).toBe('already_consolidated');
  });

  it('costs no model call for a call where nobody spoke', async () => {
    const callId = await finishedCall([]);
    expect(await consolidateCall(deps, callId)).toBe('consolidated');
    expect(stub.chatRequests()).toHaveLength(0);
    const call = await db.prisma.call.findUniqueOrThrow({ where: { id: callId } });
    expect(call.summary).toBe('The caller hung up before anything was said.');
  });
});

describe('consolidation next to a live call', () => {
  it('never clobbers an edit a live call made while the review was running', async () => {
    const callId = await finishedCall(['Please note the spare key is under the blue pot.', 'I will.']);
    await memory.updateBlock({
      householdId: household.householdId,
      memberId: null,
      label: 'household',
      expectedVersion: (
        await memory.getBlock({ householdId: household.householdId, memberId: null, label: 'household' })
      ).version,
      changes: { value: 'Spare key: under the red pot.' },
      source: { source: 'admin' },
    });
    stub.queueChat(
      {
        toolCalls: [
          {
            name: 'core_memory_replace',
            arguments: { label: 'household', old_content: 'under the red pot', new_content: 'under the blue pot' },
          },
          { name: 'core_memory_append', arguments: { label: 'household', content: 'Bins go out on Tuesdays.' } },
        ],
      },
      { text: 'The spare key moved to the blue pot.' },
    );
    const call = await db.prisma.call.findUniqueOrThrow({ where: { id: callId } });
    const plan = await planConsolidation(deps, call);

    // Meanwhile another member's live call writes to the same block.
    const live = await memory.runTool({
      name: 'core_memory_append',
      arguments: { label: 'household', content: 'Chidi visits every Sunday.' },
      scope: scopeOf(household, {
        memberId: household.chidi,
        callId: await newCall(db.prisma, household, household.chidi),
      }),
    });
    expect(live.ok).toBe(true);

    await applyConsolidation(deps, call, plan);
    const value = await blockValue('household', null);
    expect(value).toContain('Chidi visits every Sunday.');
    expect(value).toContain('Spare key: under the blue pot.');
    expect(value).toContain('Bins go out on Tuesdays.');
  });
});

describe('consolidation under failure and contention', () => {
  it('lets one worker consolidate a call while another finds it busy, and asks the model once', async () => {
    const callId = await finishedCall(['Our cat is called Miso.', 'Lovely.']);
    stub.queueChat({ toolCalls: [REVIEW_EDITS[0]!], delayMs: 200 }, { text: SUMMARY });
    const outcomes = await Promise.all([consolidateCall(deps, callId), consolidateCall(deps, callId)]);
    expect(outcomes.sort()).toEqual(['busy', 'consolidated']);
    expect(stub.chatRequests()).toHaveLength(2);
    expect(await consolidationRecords(callId)).toEqual({ revisions: 1, passages: 0 });
  });

  it('does not mark a call consolidated when a step failed for a passing reason, and finishes it on retry', async () => {
    const callId = await finishedCall(['I see the dentist on 3 March.', 'Noted.']);
    stub.queueChat({ toolCalls: [REVIEW_EDITS[1]!] }, { text: SUMMARY });
    const failing: ConsolidationDeps = {
      ...deps,
      memory: { ...memory, runTool: async () => ({ ok: false, output: 'storage unavailable', retryable: true }) },
    };
    await expect(consolidateCall(failing, callId)).rejects.toThrow('storage unavailable');
    const afterFailure = await db.prisma.call.findUniqueOrThrow({ where: { id: callId } });
    expect(afterFailure.consolidatedAt).toBeNull();
    expect(afterFailure.consolidationLeaseUntil).toBeNull();

    expect(await consolidateCall(deps, callId)).toBe('consolidated');
    expect(stub.chatRequests()).toHaveLength(2);
    expect(await consolidationRecords(callId)).toEqual({ revisions: 0, passages: 1 });
  });

  it('recognises an archival fact it already stored even when the plan had surrounding white space', async () => {
    const callId = await finishedCall(['The plumber comes on Friday.', 'Noted.']);
    const fact = { name: 'archival_memory_insert', arguments: { content: '  The plumber comes on Friday.\n' } };
    stub.queueChat({ toolCalls: [fact] }, { text: 'Plumber on Friday.' });
    const call = await db.prisma.call.findUniqueOrThrow({ where: { id: callId } });
    const plan = await planConsolidation(deps, call);
    await applyConsolidation(deps, call, plan);
    expect(await consolidateCall(deps, callId)).toBe('consolidated');
    expect(await consolidationRecords(callId)).toEqual({ revisions: 0, passages: 1 });
  });
});

describe('planning a consolidation', () => {
  it('tells the model about a refused edit while it can still fix it, and builds each edit on the ones before', async () => {
    const callId = await finishedCall(['The gate code changed to 4455.', 'Noted.']);
    stub.queueChat(
      {
        toolCalls: [
          {
            name: 'core_memory_replace',
            arguments: { label: 'household', old_content: 'gate code 1234', new_content: 'x' },
          },
          { name: 'core_memory_append', arguments: { label: 'household', content: 'Gate code: 1234.' } },
          {
            name: 'core_memory_replace',
            arguments: { label: 'household', old_content: 'Gate code: 1234.', new_content: 'Gate code: 4455.' },
          },
          { name: 'core_memory_append', arguments: { label: 'persona', content: 'I love gates.' } },
        ],
      },
      { text: 'The gate code is now 4455.' },
    );
    const call = await db.prisma.call.findUniqueOrThrow({ where: { id: callId } });
    const plan = await planConsolidation(deps, call);

    // The refused steps are not in the plan; the replace of text only the plan added is.
    expect(plan.steps.map((step) => step.tool)).toEqual(['core_memory_append', 'core_memory_replace']);
    const results = (stub.chatRequests()[1]?.messages ?? []).filter((message) => message.role === 'tool');
    expect(results.map((message) => message.content)).toEqual([
      expect.stringContaining('No match for old_content in block "household"'),
      expect.stringContaining('will have'),
      expect.stringContaining('will have'),
      'Block "persona" is read-only',
    ]);

    await applyConsolidation(deps, call, plan);
    expect(await blockValue('household', null)).toContain('Gate code: 4455.');
    expect(await blockValue('household', null)).not.toContain('Gate code: 1234.');
  });
});
