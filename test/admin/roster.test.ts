import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from '../../src/admin/pagination.js';
import type { PolicyView, ShiftView, StaffView } from '../../src/admin/roster-schemas.js';
import type { HouseholdView } from '../../src/admin/schemas.js';
import type { Database } from '../../src/db/index.js';
import { createTestDatabase } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { type Api, type ErrorBody, newTenant } from './support.js';

let db: Database;
let server: TestServer;
let api: Api;
let other: Api;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db);
  ({ api } = await newTenant(db, server.url, 'Sunrise Care'));
  ({ api: other } = await newTenant(db, server.url, 'Elsewhere Care'));
});
afterAll(async () => {
  await server.close();
  await db.close();
});

const nurse = { name: 'Nurse Joy', phone: '+15555550150', timezone: 'Europe/London' };

describe('the on-call roster', () => {
  it('keeps staff and their shifts, and says who is on call at a moment', async () => {
    const joy = await api.post<StaffView>('/v1/on-call-staff', nurse);
    expect(joy.status).toBe(201);
    expect(joy.body).toMatchObject({ ...nurse, email: null, webhookUrl: null, householdId: null });
    const shift = await api.post<ShiftView>('/v1/on-call-shifts', {
      staffId: joy.body.id,
      startsAt: '2026-12-01T18:00:00Z',
      endsAt: '2026-12-02T08:00:00Z',
    });
    expect(shift.status).toBe(201);
    const night = await api.get<Page<ShiftView>>('/v1/on-call-shifts?at=2026-12-01T23:00:00Z');
    expect(night.body.data.map((s) => s.staffId)).toEqual([joy.body.id]);
    const morning = await api.get<Page<ShiftView>>('/v1/on-call-shifts?at=2026-12-02T09:00:00Z');
    expect(morning.body.data).toEqual([]);
    const renamed = await api.patch<StaffView>(`/v1/on-call-staff/${joy.body.id}`, { email: 'joy@example.org' });
    expect(renamed.body.email).toBe('joy@example.org');
  });

  it('says what is wrong with a member of staff or a shift it cannot take', async () => {
    const unreachable = await api.post<ErrorBody>('/v1/on-call-staff', { name: 'Nobody' });
    expect(unreachable.status).toBe(400);
    expect(JSON.stringify(unreachable.body)).toContain('at least one way to reach them');
    const badPhone = await api.post<ErrorBody>('/v1/on-call-staff', { ...nurse, phone: '07700 900123' });
    expect(badPhone.status).toBe(400);
    expect(JSON.stringify(badPhone.body)).toContain('E.164');
    const badZone = await api.post<ErrorBody>('/v1/on-call-staff', { ...nurse, timezone: 'Mars/Olympus' });
    expect(JSON.stringify(badZone.body)).toContain('IANA time zone');

    const joy = await api.post<StaffView>('/v1/on-call-staff', nurse);
    const backwards = await api.post<ErrorBody>('/v1/on-call-shifts', {
      staffId: joy.body.id,
      startsAt: '2026-12-02T08:00:00Z',
      endsAt: '2026-12-01T18:00:00Z',
    });
    expect(backwards.status).toBe(400);
    expect(JSON.stringify(backwards.body)).toContain('must be after startsAt');
    const endless = await api.post<ErrorBody>('/v1/on-call-shifts', {
      staffId: joy.body.id,
      startsAt: '2026-12-01T00:00:00Z',
      endsAt: '2027-03-01T00:00:00Z',
    });
    expect(JSON.stringify(endless.body)).toContain('at most 31 days');
  });
});

describe('escalation policies', () => {
  it('keeps ordered levels that name the organization’s staff or whoever is on call', async () => {
    const household = await api.post<HouseholdView>('/v1/households', { name: 'The Okafors' });
    const joy = await api.post<StaffView>('/v1/on-call-staff', nurse);
    const levels = [
      { targets: [{ onCall: true }], channels: ['sms', 'voice'], ackTimeoutSeconds: 300 },
      { targets: [{ staffId: joy.body.id }], channels: ['voice'], ackTimeoutSeconds: 600, repeat: 1 },
    ];
    const created = await api.post<PolicyView>('/v1/escalation-policies', {
      name: 'Nights',
      householdId: household.body.id,
      levels,
    });
    expect(created.status).toBe(201);
    expect(created.body.levels).toEqual([{ ...levels[0], repeat: 0 }, levels[1]]);

    // Someone a policy names cannot be removed from under it.
    const removal = await api.delete<ErrorBody>(`/v1/on-call-staff/${joy.body.id}`);
    expect(removal.status).toBe(400);
    expect(removal.body.error.message).toContain(created.body.id);
    await api.patch(`/v1/escalation-policies/${created.body.id}`, { levels: [levels[0]] });
    expect((await api.delete(`/v1/on-call-staff/${joy.body.id}`)).status).toBe(204);
  });

  it('refuses levels that page nobody, repeat a channel, or name a stranger', async () => {
    const empty = await api.post<ErrorBody>('/v1/escalation-policies', { name: 'x', levels: [] });
    expect(empty.status).toBe(400);
    const twice = await api.post<ErrorBody>('/v1/escalation-policies', {
      name: 'x',
      levels: [{ targets: [{ onCall: true }], channels: ['sms', 'sms'], ackTimeoutSeconds: 300 }],
    });
    expect(JSON.stringify(twice.body)).toContain('must not repeat a channel');
    const hasty = await api.post<ErrorBody>('/v1/escalation-policies', {
      name: 'x',
      levels: [{ targets: [{ onCall: true }], channels: ['sms'], ackTimeoutSeconds: 5 }],
    });
    expect(hasty.status).toBe(400);
    const stranger = await other.post<StaffView>('/v1/on-call-staff', nurse);
    const foreign = await api.post<ErrorBody>('/v1/escalation-policies', {
      name: 'x',
      levels: [{ targets: [{ staffId: stranger.body.id }], channels: ['sms'], ackTimeoutSeconds: 300 }],
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.message).toBe(`No on-call staff ${stranger.body.id} in this organization.`);
  });

  it('are invisible to another organization, as are its staff and shifts', async () => {
    const joy = await api.post<StaffView>('/v1/on-call-staff', nurse);
    const policy = await api.post<PolicyView>('/v1/escalation-policies', {
      name: 'Days',
      levels: [{ targets: [{ staffId: joy.body.id }], channels: ['sms'], ackTimeoutSeconds: 300 }],
    });
    expect((await other.get(`/v1/on-call-staff/${joy.body.id}`)).status).toBe(404);
    expect((await other.get(`/v1/escalation-policies/${policy.body.id}`)).status).toBe(404);
    expect((await other.delete(`/v1/escalation-policies/${policy.body.id}`)).status).toBe(404);
    const theirs = await other.get<Page<StaffView>>('/v1/on-call-staff');
    expect(theirs.body.data.map((staff) => staff.id)).not.toContain(joy.body.id);
  });
});
