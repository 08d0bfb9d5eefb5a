import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallDetailOut, CallOut } from '../../src/admin/activity-schemas.js';
import type { PassageHitOut, PassageOut, RecallHitOut } from '../../src/admin/memory-schemas.js';
import type { Page } from '../../src/admin/pagination.js';
import type { HouseholdView, MemberView } from '../../src/admin/schemas.js';
import type { Database } from '../../src/db/index.js';
import type { SessionScope } from '../../src/memory/index.js';
import { createTestDatabase } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { type Api, newTenant } from './support.js';

let db: Database;
let server: TestServer;
let api: Api;
let organizationId: string;
let household: HouseholdView;
let nana: MemberView;
let base: string;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db);
  const tenant = await newTenant(db, server.url, 'Archivists');
  ({ api, organizationId } = tenant);
  household = (await api.post<HouseholdView>('/v1/households', { name: 'The Nakamuras' })).body;
  base = `/v1/households/${household.id}`;
  nana = (await api.post<MemberView>(`${base}/members`, { name: 'Nana', phone: '+15555550123' })).body;
});
afterAll(async () => {
  await server.close();
  await db.close();
});

describe('archival passages', () => {
  let passages: PassageOut[];

  beforeAll(async () => {
    const inputs = [
      { text: 'Nana is allergic to penicillin.', tags: ['health'], memberId: nana.id },
      { text: 'The bins go out on Tuesday evenings.', tags: ['routine'] },
      { text: 'Dr Ito is the family doctor, reachable on weekdays.', tags: ['health', 'contacts'] },
    ];
    passages = [];
    for (const input of inputs) {
      const response = await api.post<PassageOut>(`${base}/passages`, input);
      expect(response.status).toBe(201);
      passages.push(response.body);
    }
  });

  it('stores passages with their tags, member scope and embedding model', () => {
    expect(passages[0]).toMatchObject({
      text: 'Nana is allergic to penicillin.',
      tags: ['health'],
      memberId: nana.id,
      householdId: household.id,
      embeddingModel: expect.any(String),
    });
    expect(passages[1]?.memberId).toBeNull();
  });

  it('lists with tag, member and date filters', async () => {
    const all = await api.get<Page<PassageOut>>(`${base}/passages`);
    expect(all.body.data.map((passage) => passage.id)).toEqual(passages.map((passage) => passage.id));
    const health = await api.get<Page<PassageOut>>(`${base}/passages?tags=health`);
    expect(health.body.data.map((passage) => passage.text)).toEqual([passages[0]?.text, passages[2]?.text]);
    const nanas = await api.get<Page<PassageOut>>(`${base}/passages?memberId=${nana.id}`);
    expect(nanas.body.data.map((passage) => passage.id)).toEqual([passages[0]?.id]);
    const future = await api.get<Page<PassageOut>>(`${base}/passages?from=2999-01-01T00:00:00Z`);
    expect(future.body.data).toEqual([]);
    const past = await api.get<Page<PassageOut>>(`${base}/passages?to=2000-01-01T00:00:00Z`);
    expect(past.body.data).toEqual([]);
  });

  it('searches with the hybrid ranking, best first, with tag filters', async () => {
    const response = await api.get<Page<PassageHitOut>>(`${base}/passages/search?q=penicillin%20allergy`);
    expect(response.status).toBe(200);
    expect(response.body.data[0]).toMatchObject({ id: passages[0]?.id, score: expect.any(Number) });
    const routine = await api.get<Page<PassageHitOut>>(`${base}/passages/search?q=bins&tags=routine`);
    expect(routine.body.data.map((hit) => hit.id)).toEqual([passages[1]?.id]);
    expect((await api.get(`${base}/passages/search`)).status).toBe(400);
  });

  it('deletes a passage (then 404)', async () => {
    const created = await api.post<PassageOut>(`${base}/passages`, { text: 'Temporary fact.' });
    expect((await api.delete(`${base}/passages/${created.body.id}`)).status).toBe(204);
    expect((await api.delete(`${base}/passages/${created.body.id}`)).status).toBe(404);
    const all = await api.get<Page<PassageOut>>(`${base}/passages`);
    expect(all.body.data.map((passage) => passage.id)).not.toContain(created.body.id);
  });
});

describe('calls, transcripts and recall', () => {
  let callId: string;

  beforeAll(async () => {
    const call = await db.prisma.call.create({
      data: {
        organizationId,
        householdId: household.id,
        memberId: nana.id,
        fromNumber: '+15555550123',
        toNumber: '+15555550100',
        status: 'completed',
        startedAt: new Date('2025-03-01T10:00:00Z'),
        endedAt: new Date('2025-03-01T10:05:00Z'),
        summary: 'Nana asked about the pharmacy; she is out of her blood-pressure tablets.',
      },
    });
    callId = call.id;
    await db.prisma.call.create({
      data: {
        organizationId,
        householdId: household.id,
        status: 'failed',
        startedAt: new Date('2025-03-02T09:00:00Z'),
      },
    });
    const scope: SessionScope = {
      organizationId,
      householdId: household.id,
      memberId: nana.id,
      callId,
      callerVerified: true,
    };
    await server.memory.appendMessage({ scope, role: 'user', content: 'I ran out of my blood pressure tablets.' });
    await server.memory.appendMessage({ scope, role: 'assistant', content: 'I will note that and remind your son.' });
    const tool = await server.memory.runTool({
      name: 'core_memory_append',
      arguments: { label: 'caller', content: 'Out of blood-pressure tablets on 1 March.' },
      scope,
    });
    expect(tool.ok).toBe(true);
    await server.memory.appendMessage({
      scope,
      role: 'tool',
      content: tool.output,
      toolName: 'core_memory_append',
      toolArgs: { label: 'caller', content: 'Out of blood-pressure tablets on 1 March.' },
      toolCallId: 'call_1',
    });
  });

  it('lists calls newest first, filtered by member, status and start time', async () => {
    const all = await api.get<Page<CallOut>>(`${base}/calls`);
    expect(all.body.data.map((call) => call.status)).toEqual(['failed', 'completed']);
    const nanas = await api.get<Page<CallOut>>(`${base}/calls?memberId=${nana.id}`);
    expect(nanas.body.data.map((call) => call.id)).toEqual([callId]);
    const failed = await api.get<Page<CallOut>>(`${base}/calls?status=failed`);
    expect(failed.body.data.map((call) => call.status)).toEqual(['failed']);
    const window = await api.get<Page<CallOut>>(`${base}/calls?from=2025-03-01T00:00:00Z&to=2025-03-02T00:00:00Z`);
    expect(window.body.data.map((call) => call.id)).toEqual([callId]);
    expect((await api.get(`${base}/calls?status=ringing-ish`)).status).toBe(400);
  });

  it('shows one call with its transcript, tool calls, summary and memory edits', async () => {
    const response = await api.get<CallDetailOut>(`${base}/calls/${callId}`);
    expect(response.status).toBe(200);
    const call = response.body;
    expect(call.summary).toContain('blood-pressure');
    expect(call.transcript.map((message) => message.role)).toEqual(['user', 'assistant', 'tool']);
    expect(call.transcript[0]?.content).toBe('I ran out of my blood pressure tablets.');
    expect(call.toolCalls).toEqual([
      expect.objectContaining({ toolName: 'core_memory_append', toolCallId: 'call_1', toolArgs: expect.any(Object) }),
    ]);
    expect(call.memoryEdits).toEqual([
      expect.objectContaining({ label: 'caller', memberId: nana.id, version: 2, source: 'agent_tool' }),
    ]);
  });

  it('searches recall across the household, and by member', async () => {
    const response = await api.get<Page<RecallHitOut>>(`${base}/recall?q=blood%20pressure%20tablets`);
    expect(response.status).toBe(200);
    expect(response.body.data.length).toBeGreaterThan(0);
    expect(response.body.data[0]).toMatchObject({ callId, content: expect.stringContaining('tablets') });
    const assistantOnly = await api.get<Page<RecallHitOut>>(`${base}/recall?q=remind&roles=assistant`);
    expect(assistantOnly.body.data.every((hit) => hit.role === 'assistant')).toBe(true);
    expect((await api.get(`${base}/recall?q=x&roles=robot`)).status).toBe(400);
  });
});
