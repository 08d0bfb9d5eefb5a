import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventOut } from '../../src/admin/activity-schemas.js';
import type { BlockOut } from '../../src/admin/memory-schemas.js';
import type { Page } from '../../src/admin/pagination.js';
import type { HouseholdView, MemberView, PhoneLineView } from '../../src/admin/schemas.js';
import type { Database } from '../../src/db/index.js';
import { createTestDatabase } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { type Api, type ApiResponse, type ErrorBody, newTenant } from './support.js';

let db: Database;
let server: TestServer;
let api: Api;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db);
  ({ api } = await newTenant(db, server.url, 'Sunrise Care'));
});
afterAll(async () => {
  await server.close();
  await db.close();
});

describe('households', () => {
  it('create, read, update, list and delete', async () => {
    const created = await api.post<HouseholdView>('/v1/households', {
      name: 'The Patels',
      timezone: 'Asia/Kolkata',
      locale: 'en-IN',
      agentSettings: { voice: 'alloy', instructions: 'Speak slowly.' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'The Patels',
      timezone: 'Asia/Kolkata',
      locale: 'en-IN',
      agentSettings: { voice: 'alloy', instructions: 'Speak slowly.' },
    });
    const id = created.body.id;

    const blocks = await api.get<Page<BlockOut>>(`/v1/households/${id}/blocks`);
    expect(blocks.body.data.map((block) => block.label).sort()).toEqual(['household', 'persona']);

    const read = await api.get<HouseholdView>(`/v1/households/${id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);

    const updated = await api.patch<HouseholdView>(`/v1/households/${id}`, {
      timezone: 'Europe/Paris',
      agentSettings: { model: 'gpt-4.1' },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      name: 'The Patels',
      timezone: 'Europe/Paris',
      agentSettings: { model: 'gpt-4.1' },
    });

    const list = await api.get<Page<HouseholdView>>('/v1/households');
    expect(list.body.data.map((household) => household.id)).toContain(id);

    expect((await api.delete(`/v1/households/${id}`)).status).toBe(204);
    const gone = await api.get(`/v1/households/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('not_found');
  });

  it('defaults timezone and locale, and rejects an unknown time zone with a field-level detail', async () => {
    const created = await api.post<HouseholdView>('/v1/households', { name: 'Defaults' });
    expect(created.body).toMatchObject({ timezone: 'UTC', locale: 'en-US', agentSettings: {} });
    const bad = await api.post('/v1/households', { name: 'X', timezone: 'Mars/Olympus' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([
      { in: 'body', path: 'timezone', message: expect.stringContaining('IANA time zone') },
    ]);
  });

  it('an empty update is refused rather than silently ignored', async () => {
    const created = await api.post<HouseholdView>('/v1/households', { name: 'Unchanged' });
    const response = await api.patch(`/v1/households/${created.body.id}`, {});
    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('at least one field');
  });

  it('pages through more households than one page, in a stable order, without repeats', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push((await api.post<HouseholdView>('/v1/households', { name: `Paged ${i}` })).body.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: ApiResponse<Page<HouseholdView>> = await api.get(
        `/v1/households?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.data.map((household) => household.id));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(new Set(seen).size).toBe(seen.length);
    // Creation order is the listing order.
    expect(seen.filter((id) => ids.includes(id))).toEqual(ids);
  });
});

describe('members', () => {
  let householdId: string;

  beforeAll(async () => {
    householdId = (await api.post<HouseholdView>('/v1/households', { name: 'The Okafors' })).body.id;
  });

  it('create (with a caller block), read, update, list and delete', async () => {
    const path = `/v1/households/${householdId}/members`;
    const created = await api.post<MemberView>(path, {
      name: 'Adaeze',
      relationship: 'grandmother',
      phone: '+15555550101',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Adaeze', phone: '+15555550101', role: 'member', hasPin: false });
    const memberId = created.body.id;

    const blocks = await api.get<Page<BlockOut>>(`${path}/${memberId}/blocks`);
    expect(blocks.body.data.map((block) => block.label)).toEqual(['caller']);

    const updated = await api.patch<MemberView>(`${path}/${memberId}`, { relationship: null, role: 'caregiver' });
    expect(updated.body).toMatchObject({ relationship: null, role: 'caregiver', phone: '+15555550101' });
    expect((await api.get<MemberView>(`${path}/${memberId}`)).body).toEqual(updated.body);
    expect((await api.get<Page<MemberView>>(path)).body.data.map((member) => member.id)).toContain(memberId);

    expect((await api.delete(`${path}/${memberId}`)).status).toBe(204);
    expect((await api.get(`${path}/${memberId}`)).status).toBe(404);
  });

  it('phone numbers are unique within the organization (409) and must be E.164 (400)', async () => {
    const path = `/v1/households/${householdId}/members`;
    expect((await api.post(path, { name: 'First', phone: '+442071234567' })).status).toBe(201);
    const other = (await api.post<HouseholdView>('/v1/households', { name: 'Elsewhere' })).body.id;
    const duplicate = await api.post(`/v1/households/${other}/members`, { name: 'Second', phone: '+442071234567' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.message).toContain('+442071234567');

    const bad = await api.post(path, { name: 'Bad', phone: '020 7123 4567' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details?.[0]).toMatchObject({ in: 'body', path: 'phone' });
  });

  it('sets and resets a PIN, stored hashed and never returned', async () => {
    const path = `/v1/households/${householdId}/members`;
    const member = (await api.post<MemberView>(path, { name: 'Pinned' })).body;
    expect((await api.put(`${path}/${member.id}/pin`, { pin: '4821' })).status).toBe(204);
    const read = await api.get<MemberView>(`${path}/${member.id}`);
    expect(read.body.hasPin).toBe(true);
    expect(JSON.stringify(read.body)).not.toContain('4821');

    const row = await db.prisma.member.findUniqueOrThrow({ where: { id: member.id } });
    expect(row.pinHash).toMatch(/^scrypt\$/);
    expect(row.pinHash).not.toContain('4821');

    expect((await api.put(`${path}/${member.id}/pin`, { pin: '12' })).status).toBe(400);
    expect((await api.put(`${path}/${member.id}/pin`, { pin: '99887766' })).status).toBe(204);
    const reset = await db.prisma.member.findUniqueOrThrow({ where: { id: member.id } });
    expect(reset.pinHash).not.toBe(row.pinHash);

    expect((await api.delete(`${path}/${member.id}/pin`)).status).toBe(204);
    expect((await api.get<MemberView>(`${path}/${member.id}`)).body.hasPin).toBe(false);
  });
});

describe('phone lines', () => {
  it('create, read, re-route, list and delete; numbers are unique', async () => {
    const householdId = (await api.post<HouseholdView>('/v1/households', { name: 'Lined' })).body.id;
    const created = await api.post<PhoneLineView>('/v1/phone-lines', {
      number: '+15555550150',
      householdId,
      label: 'Home',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ number: '+15555550150', householdId, label: 'Home' });
    const path = `/v1/phone-lines/${created.body.id}`;
    expect((await api.get<PhoneLineView>(path)).body).toEqual(created.body);

    const rerouted = await api.patch<PhoneLineView>(path, { householdId: null });
    expect(rerouted.body).toMatchObject({ householdId: null, label: 'Home' });
    expect((await api.get<Page<PhoneLineView>>('/v1/phone-lines')).body.data.map((line) => line.id)).toContain(
      created.body.id,
    );
    expect((await api.post('/v1/phone-lines', { number: '+15555550150' })).status).toBe(409);

    expect((await api.delete(path)).status).toBe(204);
    expect((await api.get(path)).status).toBe(404);
  });
});

describe('audit log', () => {
  it('records who did what to which resource, newest first, without personal data', async () => {
    const household = (await api.post<HouseholdView>('/v1/households', { name: 'Audited' })).body;
    await api.post<MemberView>(`/v1/households/${household.id}/members`, {
      name: 'Secret Name',
      phone: '+15555550177',
    });
    await api.patch(`/v1/households/${household.id}`, { name: 'Audited again' });

    const audit = await api.get<Page<AuditEventOut>>('/v1/audit?limit=3');
    expect(audit.status).toBe(200);
    const [latest, member, created] = audit.body.data;
    expect(latest).toMatchObject({
      action: 'household.update',
      resourceType: 'household',
      resourceId: household.id,
      details: { fields: ['name'] },
      actorPrefix: expect.stringMatching(/^hth_/),
    });
    expect(member).toMatchObject({ action: 'member.create', resourceType: 'member' });
    expect(created).toMatchObject({ action: 'household.create', resourceId: household.id });
    expect(latest?.actor).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(audit.body)).not.toContain('Secret Name');
    expect(JSON.stringify(audit.body)).not.toContain('+15555550177');

    const members = await api.get<Page<AuditEventOut>>('/v1/audit?resourceType=member');
    expect(members.body.data.every((event) => event.resourceType === 'member')).toBe(true);
  });

  it('a failed write leaves no audit row', async () => {
    const before = await db.prisma.auditEvent.count();
    const response = await api.post<ErrorBody>('/v1/households', { name: '' });
    expect(response.status).toBe(400);
    expect(await db.prisma.auditEvent.count()).toBe(before);
  });
});

/** The status of a request with an empty JSON body and `Content-Length: 0`, as curl sends `-d ''` (fetch drops the header). */
function emptyJsonBody(method: string, path: string, key: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': '0' },
    });
    request.on('response', (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('error', reject);
    request.end();
  });
}

describe('request edges', () => {
  it('an empty body means "no fields", with or without Content-Type: application/json', async () => {
    const { api, key } = await newTenant(db, server.url, 'Terse');
    const household = (await api.post<HouseholdView>('/v1/households', { name: 'Short-lived' })).body;
    expect(await emptyJsonBody('DELETE', `/v1/households/${household.id}`, key.key)).toBe(204);

    for (const options of [{ raw: '' }, {}]) {
      const created = await api.request('POST', '/v1/households', options);
      expect(created.status).toBe(400);
      expect(created.body.error.details).toEqual([{ in: 'body', path: 'name', message: expect.any(String) }]);
    }
  });

  it('accepts a gzip-compressed JSON body', async () => {
    const created = await api.request<HouseholdView>('POST', '/v1/households', {
      raw: gzipSync(JSON.stringify({ name: 'Compressed' })),
      headers: { 'content-encoding': 'gzip' },
    });
    expect(created.status).toBe(201);
    expect(created.body.name).toBe('Compressed');
  });

  it('reads an id in upper case as the same id, and records it in lower case', async () => {
    const household = (await api.post<HouseholdView>('/v1/households', { name: 'Upper' })).body;
    const upper = `/v1/households/${household.id.toUpperCase()}`;
    const renamed = await api.patch<HouseholdView>(upper, { name: 'Upper, renamed' });
    expect(renamed.status).toBe(200);
    const member = await api.post<MemberView>(`${upper}/members`, { name: 'Ada' });
    expect(member.status).toBe(201);
    const line = await api.post<PhoneLineView>('/v1/phone-lines', {
      number: '+15555550160',
      householdId: household.id.toUpperCase(),
    });
    expect(line.body.householdId).toBe(household.id);

    const audit = await api.get<Page<AuditEventOut>>('/v1/audit?limit=3');
    expect(audit.body.data.map((event) => [event.action, event.resourceId, event.details.householdId])).toEqual([
      ['phone_line.create', line.body.id, undefined],
      ['member.create', member.body.id, household.id],
      ['household.update', household.id, undefined],
    ]);
  });
});
