/**
 * Two organizations on one server: every route the OpenAPI document lists is tried with the
 * other organization's ids (404, worded exactly as for an id that never existed, nothing
 * written), and no list or search shows the other's rows.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallOut } from '../../src/admin/activity-schemas.js';
import type { ProbeView } from '../../src/admin/health-schemas.js';
import type { BlockOut, PassageOut } from '../../src/admin/memory-schemas.js';
import type { OpenApiDocument } from '../../src/admin/openapi.js';
import type { PolicyView, ShiftView, StaffView } from '../../src/admin/roster-schemas.js';
import type { HouseholdView, MemberView, PhoneLineView } from '../../src/admin/schemas.js';
import type { Database } from '../../src/db/index.js';
import { createTestDatabase } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { Api, newTenant, snapshot } from './support.js';

type Ids = Record<
  | 'householdId'
  | 'memberId'
  | 'label'
  | 'callId'
  | 'passageId'
  | 'phoneLineId'
  | 'keyId'
  | 'staffId'
  | 'shiftId'
  | 'policyId'
  | 'escalationId'
  | 'endpointId'
  | 'deliveryId'
  | 'probeId',
  string
>;

const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** A valid body (and query) per operation, so a 404 is about the ids, never about bad input. */
const VALID_INPUT: Record<string, { body?: unknown; query?: string; ifMatch?: boolean }> = {
  'PATCH /v1/households/{householdId}': { body: { name: 'Taken over' } },
  'POST /v1/households/{householdId}/members': { body: { name: 'Intruder' } },
  'PATCH /v1/households/{householdId}/members/{memberId}': { body: { name: 'Renamed' } },
  'PUT /v1/households/{householdId}/members/{memberId}/pin': { body: { pin: '1234' } },
  'POST /v1/households/{householdId}/blocks': { body: { label: 'planted' } },
  'POST /v1/households/{householdId}/members/{memberId}/blocks': { body: { label: 'planted' } },
  'PATCH /v1/households/{householdId}/blocks/{label}': { body: { value: 'overwritten' }, ifMatch: true },
  'PATCH /v1/households/{householdId}/members/{memberId}/blocks/{label}': {
    body: { value: 'overwritten' },
    ifMatch: true,
  },
  'POST /v1/households/{householdId}/blocks/{label}/rollback': { body: { toVersion: 1 } },
  'POST /v1/households/{householdId}/members/{memberId}/blocks/{label}/rollback': { body: { toVersion: 1 } },
  'POST /v1/households/{householdId}/passages': { body: { text: 'Planted fact.' } },
  'GET /v1/households/{householdId}/passages/search': { query: '?q=penicillin' },
  'GET /v1/households/{householdId}/recall': { query: '?q=penicillin' },
  'PATCH /v1/phone-lines/{phoneLineId}': { body: { label: 'Hijacked' } },
  'PATCH /v1/on-call-staff/{staffId}': { body: { name: 'Impostor' } },
  'PATCH /v1/escalation-policies/{policyId}': { body: { name: 'Rewritten' } },
  'POST /v1/escalations/{escalationId}/resolve': { body: { outcome: 'Closed by a stranger' } },
  'PATCH /v1/webhook-endpoints/{endpointId}': { body: { enabled: false } },
  'POST /v1/households/{householdId}/probes': { body: { question: 'Planted?', kind: 'retrieval', expectedFact: 'x' } },
  'PATCH /v1/households/{householdId}/probes/{probeId}': { body: { question: 'Rewritten?' } },
};

let db: Database;
let server: TestServer;
let document: OpenApiDocument;
const tenants: { api: Api; ids: Ids; organizationId: string }[] = [];

async function populate(name: string, phone: string, line: string) {
  const tenant = await newTenant(db, server.url, name);
  const { api } = tenant;
  const household = (await api.post<HouseholdView>('/v1/households', { name: `${name} household` })).body;
  const base = `/v1/households/${household.id}`;
  const member = (await api.post<MemberView>(`${base}/members`, { name: `${name} member`, phone })).body;
  const block = (await api.post<BlockOut>(`${base}/members/${member.id}/blocks`, { label: 'notes', value: 'x' })).body;
  await api.post<BlockOut>(`${base}/blocks`, { label: 'notes', value: 'x' });
  const passage = (
    await api.post<PassageOut>(`${base}/passages`, { text: `${name}: allergic to penicillin.`, memberId: member.id })
  ).body;
  const phoneLine = (await api.post<PhoneLineView>('/v1/phone-lines', { number: line, householdId: household.id }))
    .body;
  const call = await db.prisma.call.create({
    data: {
      organizationId: tenant.organizationId,
      householdId: household.id,
      memberId: member.id,
      status: 'completed',
    },
  });
  await server.memory.appendMessage({
    scope: {
      organizationId: tenant.organizationId,
      householdId: household.id,
      memberId: member.id,
      callId: call.id,
      callerVerified: true,
    },
    role: 'user',
    content: 'Remember my penicillin allergy.',
  });
  const staff = (await api.post<StaffView>('/v1/on-call-staff', { name: `${name} nurse`, phone: line })).body;
  const shift = (
    await api.post<ShiftView>('/v1/on-call-shifts', {
      staffId: staff.id,
      startsAt: '2026-12-01T18:00:00Z',
      endsAt: '2026-12-02T08:00:00Z',
    })
  ).body;
  const policy = (
    await api.post<PolicyView>('/v1/escalation-policies', {
      name: `${name} nights`,
      levels: [{ targets: [{ onCall: true }], channels: ['sms'], ackTimeoutSeconds: 300 }],
    })
  ).body;
  const escalation = await db.prisma.escalation.create({
    data: {
      organizationId: tenant.organizationId,
      householdId: household.id,
      severity: 'high',
      reason: 'Breathing trouble',
      ackCode: '1234',
    },
  });
  // Written directly: this server has no secret key to seal an endpoint's secret with.
  const endpoint = await db.prisma.webhookEndpoint.create({
    data: { organizationId: tenant.organizationId, url: 'https://example.com/hooks', secretEncrypted: 'sealed' },
  });
  const delivery = await db.prisma.webhookDelivery.create({
    data: {
      organizationId: tenant.organizationId,
      endpointId: endpoint.id,
      eventType: 'escalation.created',
      payload: { type: 'escalation.created', timestamp: new Date().toISOString(), data: {} },
      status: 'failed',
    },
  });
  const probe = (
    await api.post<ProbeView>(`${base}/probes`, {
      question: 'What is the allergy?',
      kind: 'retrieval',
      expectedFact: 'penicillin',
    })
  ).body;
  const ids: Ids = {
    probeId: probe.id,
    endpointId: endpoint.id,
    deliveryId: delivery.id,
    escalationId: escalation.id,
    staffId: staff.id,
    shiftId: shift.id,
    policyId: policy.id,
    householdId: household.id,
    memberId: member.id,
    label: block.label,
    callId: call.id,
    passageId: passage.id,
    phoneLineId: phoneLine.id,
    keyId: tenant.key.id,
  };
  tenants.push({ api, ids, organizationId: tenant.organizationId });
}

function operations(): { method: string; path: string }[] {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    HTTP_METHODS.filter((method) => item[method]).map((method) => ({ method: method.toUpperCase(), path })),
  );
}

function fill(path: string, ids: Partial<Ids>): string {
  return path.replace(/\{(\w+)\}/g, (_match, name: keyof Ids) => ids[name] ?? 'missing');
}

async function attempt(api: Api, method: string, path: string, ids: Partial<Ids>) {
  const input = VALID_INPUT[`${method} ${path}`] ?? {};
  return api.request(method, `${fill(path, ids)}${input.query ?? ''}`, {
    json: input.body,
    headers: input.ifMatch ? { 'if-match': '1' } : {},
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db);
  await populate('Alpha', '+15555550111', '+15555550181');
  await populate('Beta', '+15555550222', '+15555550182');
  document = (await new Api(server.url).get<OpenApiDocument>('/v1/openapi.json')).body;
});
afterAll(async () => {
  await server.close();
  await db.close();
});

describe("another organization's ids", () => {
  it('every route with path parameters answers 404, worded as for an id that never existed, and writes nothing', async () => {
    const [alpha, beta] = tenants;
    if (!alpha || !beta) throw new Error('tenants missing');
    const routes = operations().filter((operation) => operation.path.includes('{'));
    expect(routes.length).toBeGreaterThan(25);
    const before = await snapshot(db);
    for (const { method, path } of routes) {
      const theirs = await attempt(alpha.api, method, path, beta.ids);
      expect(theirs.status, `${method} ${path}`).toBe(404);
      // A sub-resource of theirs under our own household: still 404.
      const nested = [...path.matchAll(/\{(\w+)\}/g)].filter(([, name]) => name !== 'householdId' && name !== 'label');
      if (path.includes('{householdId}') && nested.length > 0) {
        const mixed = await attempt(alpha.api, method, path, { ...beta.ids, householdId: alpha.ids.householdId });
        expect(mixed.status, `${method} ${path} (our household, their ids)`).toBe(404);
      }
      const made = Object.fromEntries(Object.keys(beta.ids).map((name) => [name, randomUUID()])) as Ids;
      const neverExisted = await attempt(alpha.api, method, path, { ...made, label: beta.ids.label });
      const wording = (message: string, ids: Ids) =>
        Object.entries(ids).reduce((text, [name, id]) => text.replaceAll(id, `<${name}>`), message);
      expect(wording(theirs.body.error.message, beta.ids), `${method} ${path}`).toBe(
        wording(neverExisted.body.error.message, made),
      );
    }
    expect(await snapshot(db)).toEqual(before);
  });

  it('query and body references to their members and households are 404 too', async () => {
    const [alpha, beta] = tenants;
    if (!alpha || !beta) throw new Error('tenants missing');
    const ours = `/v1/households/${alpha.ids.householdId}`;
    for (const path of [
      `${ours}/passages?memberId=${beta.ids.memberId}`,
      `${ours}/passages/search?q=penicillin&memberId=${beta.ids.memberId}`,
      `${ours}/recall?q=penicillin&memberId=${beta.ids.memberId}`,
      `${ours}/calls?memberId=${beta.ids.memberId}`,
    ]) {
      expect((await alpha.api.get(path)).status, path).toBe(404);
    }
    const passage = await alpha.api.post(`${ours}/passages`, { text: 'x', memberId: beta.ids.memberId });
    expect(passage.status).toBe(404);
    const line = await alpha.api.post('/v1/phone-lines', { number: '+15555550199', householdId: beta.ids.householdId });
    expect(line.status).toBe(404);
    const reroute = await alpha.api.patch(`/v1/phone-lines/${alpha.ids.phoneLineId}`, {
      householdId: beta.ids.householdId,
    });
    expect(reroute.status).toBe(404);
  });
});

describe('their phone numbers', () => {
  it('are "already in use", worded as for one of our own', async () => {
    const [alpha, beta] = tenants;
    if (!alpha || !beta) throw new Error('tenants missing');
    const before = await snapshot(db);
    const theirs = await alpha.api.post('/v1/phone-lines', { number: '+15555550182' });
    const ours = await alpha.api.post('/v1/phone-lines', { number: '+15555550181' });
    expect([theirs.status, ours.status]).toEqual([409, 409]);
    expect(theirs.body.error.message).toBe('Phone number +15555550182 is already in use.');
    expect(ours.body.error.message).toBe('Phone number +15555550181 is already in use.');
    expect(await snapshot(db)).toEqual(before);
  });
});

describe('lists and searches', () => {
  it("never show the other organization's rows", async () => {
    const [alpha, beta] = tenants;
    if (!alpha || !beta) throw new Error('tenants missing');
    const ours = `/v1/households/${alpha.ids.householdId}`;
    const listings = [
      '/v1/households',
      '/v1/phone-lines',
      '/v1/api-keys',
      '/v1/audit?limit=200',
      `${ours}/members`,
      `${ours}/blocks`,
      `${ours}/members/${alpha.ids.memberId}/blocks`,
      `${ours}/passages`,
      `${ours}/passages/search?q=penicillin%20allergy`,
      `${ours}/recall?q=penicillin%20allergy`,
      `${ours}/calls`,
    ];
    const theirIds = Object.values(beta.ids).filter((id) => id !== beta.ids.label);
    for (const path of listings) {
      const response = await alpha.api.get<{ data: unknown[] }>(path);
      expect(response.status, path).toBe(200);
      expect(response.body.data.length, path).toBeGreaterThan(0);
      const text = JSON.stringify(response.body);
      for (const id of theirIds) expect(text, `${path} leaks ${id}`).not.toContain(id);
      expect(text, path).not.toContain('Beta');
      expect(text, path).not.toContain(beta.organizationId);
    }
    const calls = await alpha.api.get<{ data: CallOut[] }>(`${ours}/calls`);
    expect(calls.body.data.map((call) => call.id)).toEqual([alpha.ids.callId]);
  });
});
