/** Deleting a member or a household erases everything of theirs, in every table. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlockOut, PassageOut } from '../../src/admin/memory-schemas.js';
import type { HouseholdView, MemberView, PhoneLineView } from '../../src/admin/schemas.js';
import type { Database } from '../../src/db/index.js';
import type { Embedder } from '../../src/memory/index.js';
import { hashEmbedder } from '../memory/helpers.js';
import { createTestDatabase } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { type Api, applicationTables, countWhere, newTenant, tablesWithColumn } from './support.js';

let db: Database;
let server: TestServer;
let api: Api;
let organizationId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db);
  ({ api, organizationId } = await newTenant(db, server.url, 'Forgetful'));
});
afterAll(async () => {
  await server.close();
  await db.close();
});

/** A member with calls, transcript, agent and admin edits, own blocks and passages. */
async function memberWithHistory(householdId: string, name: string, phone: string) {
  const base = `/v1/households/${householdId}`;
  const member = (await api.post<MemberView>(`${base}/members`, { name, phone })).body;
  await api.post<BlockOut>(`${base}/members/${member.id}/blocks`, { label: 'health', value: `${name} has asthma.` });
  await api.patch(
    `${base}/members/${member.id}/blocks/caller`,
    { value: `${name} likes jazz.` },
    {
      headers: { 'if-match': '1' },
    },
  );
  await api.post<PassageOut>(`${base}/passages`, { text: `${name} was born in 1941.`, memberId: member.id });
  const call = await db.prisma.call.create({
    data: { organizationId, householdId, memberId: member.id, fromNumber: phone, status: 'completed' },
  });
  const scope = { organizationId, householdId, memberId: member.id, callId: call.id, callerVerified: true };
  await server.memory.appendMessage({ scope, role: 'user', content: `This is ${name}, my inhaler is empty.` });
  for (const label of ['caller', 'household']) {
    const result = await server.memory.runTool({
      name: 'core_memory_append',
      arguments: { label, content: `${name} needs a new inhaler.` },
      scope,
    });
    expect(result.ok).toBe(true);
  }
  await server.memory.insertPassage({
    organizationId,
    householdId,
    memberId: member.id,
    text: `${name} uses a blue inhaler.`,
    sourceCallId: call.id,
  });
  return { member, callId: call.id };
}

/** Rows anywhere in the database whose text mentions `needle`, by table. */
async function mentions(needle: string): Promise<Record<string, number>> {
  const found: Record<string, number> = {};
  for (const table of await applicationTables(db)) {
    const [row] = await db.prisma.$queryRawUnsafe<{ rows: bigint }[]>(
      `SELECT count(*) AS rows FROM "${table}" t WHERE (to_jsonb(t) - 'embedding')::text LIKE '%' || $1 || '%'`,
      needle,
    );
    if (Number(row?.rows) > 0) found[table] = Number(row?.rows);
  }
  return found;
}

async function rowsReferencing(columns: string[], id: string): Promise<Record<string, number>> {
  const found: Record<string, number> = {};
  for (const column of columns) {
    for (const table of await tablesWithColumn(db, column)) {
      const rows = await countWhere(db, table, column, id);
      if (rows > 0) found[`${table}.${column}`] = rows;
    }
  }
  return found;
}

describe('erasure', () => {
  it('deleting a member removes their calls, transcripts, blocks, revisions and passages, and nothing of others', async () => {
    const household = (await api.post<HouseholdView>('/v1/households', { name: 'Two members' })).body;
    const leaving = await memberWithHistory(household.id, 'Zebedee Quill', '+15555550987');
    const staying = await memberWithHistory(household.id, 'Ottoline Marsh', '+15555550988');
    expect(await rowsReferencing(['member_id'], leaving.member.id)).not.toEqual({});

    const response = await api.delete(`/v1/households/${household.id}/members/${leaving.member.id}`);
    expect(response.status).toBe(204);

    expect(await rowsReferencing(['member_id', 'id'], leaving.member.id)).toEqual({});
    expect(await rowsReferencing(['call_id', 'source_call_id', 'id'], leaving.callId)).toEqual({});
    expect(await mentions('+15555550987')).toEqual({});
    // Only the shared household block (and its history) keeps what the household was told: that
    // memory is the household's, and operators correct it through the block routes.
    const left = await mentions('Zebedee Quill');
    expect(Object.keys(left).sort()).toEqual(['block_revisions', 'memory_blocks']);
    expect(left.memory_blocks).toBe(1);

    const kept = await rowsReferencing(['member_id'], staying.member.id);
    expect(kept).toMatchObject({
      'calls.member_id': 1,
      'messages.member_id': 1,
      'memory_blocks.member_id': 2,
      'passages.member_id': 2,
    });
    expect(await db.prisma.household.count({ where: { id: household.id } })).toBe(1);
  });

  it('deleting a household removes everything of it in every table; its phone line stays, unrouted', async () => {
    const household = (await api.post<HouseholdView>('/v1/households', { name: 'Erasable household' })).body;
    const first = await memberWithHistory(household.id, 'Perpetua Vane', '+15555550989');
    const second = await memberWithHistory(household.id, 'Horatio Vane', '+15555550990');
    const line = (
      await api.post<PhoneLineView>('/v1/phone-lines', { number: '+15555550991', householdId: household.id })
    ).body;
    const householdTables = await tablesWithColumn(db, 'household_id');
    expect(householdTables).toEqual(expect.arrayContaining(['memory_blocks', 'block_revisions', 'calls', 'messages']));
    expect(await rowsReferencing(['household_id'], household.id)).not.toEqual({});

    expect((await api.delete(`/v1/households/${household.id}`)).status).toBe(204);

    expect(await rowsReferencing(['household_id', 'id'], household.id)).toEqual({});
    for (const { member, callId } of [first, second]) {
      expect(await rowsReferencing(['member_id', 'id'], member.id)).toEqual({});
      expect(await rowsReferencing(['call_id', 'source_call_id', 'id'], callId)).toEqual({});
    }
    for (const needle of ['Erasable household', 'Perpetua Vane', 'Horatio Vane', '+15555550989', '+15555550990']) {
      expect(await mentions(needle), needle).toEqual({});
    }
    expect(await db.prisma.phoneLine.findUniqueOrThrow({ where: { id: line.id } })).toMatchObject({
      householdId: null,
    });
    expect((await api.get(`/v1/households/${household.id}`)).status).toBe(404);
  });

  it('deleting a household takes its blocks out of the other households they are attached to, and tells their live calls', async () => {
    const [leaving, staying] = await Promise.all(
      ['Leaving household', 'Staying household'].map(
        async (name) => (await api.post<HouseholdView>('/v1/households', { name })).body,
      ),
    );
    const block = (
      await api.post<BlockOut>(`/v1/households/${leaving!.id}/blocks`, { label: 'care_plan', value: 'Shared plan.' })
    ).body;
    await server.memory.attachBlock({ organizationId, householdId: staying!.id, blockId: block.id });
    const changes: { householdId: string; blockId: string; deleted: boolean }[] = [];
    const stop = server.memory.onBlockChange((change) => changes.push(change));
    try {
      expect((await api.delete(`/v1/households/${leaving!.id}`)).status).toBe(204);
      expect(changes).toContainEqual(
        expect.objectContaining({ householdId: staying!.id, blockId: block.id, deleted: true }),
      );
    } finally {
      stop();
    }
    const left = (await api.get<{ data: BlockOut[] }>(`/v1/households/${staying!.id}/blocks`)).body.data;
    expect(left.map((each) => each.label)).toEqual(['persona', 'household']);
  });
});

describe('deletes racing writes', () => {
  let racing: TestServer;
  let tenant: Api;
  /** Runs once, inside the next embedding: after the route checked the household, before the insert. */
  let meanwhile: (() => Promise<unknown>) | undefined;

  beforeAll(async () => {
    const hashing = hashEmbedder();
    const embedder: Embedder = {
      model: hashing.model,
      dimensions: hashing.dimensions,
      async embed(texts) {
        const step = meanwhile;
        meanwhile = undefined;
        await step?.();
        return hashing.embed(texts);
      },
    };
    racing = await startTestServer(db, {}, { embedder });
    ({ api: tenant } = await newTenant(db, racing.url, 'Racing'));
  });
  afterAll(() => racing.close());

  it('a passage for a household deleted meanwhile is a 404, and nothing of it is left', async () => {
    const household = (await tenant.post<HouseholdView>('/v1/households', { name: 'Vanishing' })).body;
    meanwhile = () => tenant.delete(`/v1/households/${household.id}`);
    const response = await tenant.post(`/v1/households/${household.id}/passages`, { text: 'Tea at four.' });
    expect(response.status).toBe(404);
    expect(response.body.error).toEqual({
      code: 'not_found',
      message: `No household ${household.id} in this organization.`,
    });
    expect(await rowsReferencing(['household_id', 'id'], household.id)).toEqual({});
  });

  it('a passage for a member deleted meanwhile is a 404 naming the member', async () => {
    const household = (await tenant.post<HouseholdView>('/v1/households', { name: 'Staying' })).body;
    const base = `/v1/households/${household.id}`;
    const member = (await tenant.post<MemberView>(`${base}/members`, { name: 'Leaving' })).body;
    meanwhile = () => tenant.delete(`${base}/members/${member.id}`);
    const response = await tenant.post(`${base}/passages`, { text: 'Plays chess.', memberId: member.id });
    expect(response.status).toBe(404);
    expect(response.body.error).toEqual({
      code: 'not_found',
      message: `No member ${member.id} in household ${household.id}.`,
    });
    expect(await rowsReferencing(['member_id', 'id'], member.id)).toEqual({});
  });
});
