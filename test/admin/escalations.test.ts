import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EscalationDetailOut, EscalationOut } from '../../src/admin/escalation-schemas.js';
import type { Page } from '../../src/admin/pagination.js';
import type { HouseholdView } from '../../src/admin/schemas.js';
import type { Database } from '../../src/db/index.js';
import { createTestDatabase } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { type Api, type ErrorBody, newTenant } from './support.js';

let db: Database;
let server: TestServer;
let api: Api;
let organizationId: string;
let householdId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db);
  ({ api, organizationId } = await newTenant(db, server.url, 'Sunrise Care'));
  householdId = (await api.post<HouseholdView>('/v1/households', { name: 'The Okafors' })).body.id;
});
afterAll(async () => {
  await server.close();
  await db.close();
});

function openEscalation(reason = 'Breathing trouble at night') {
  return db.prisma.escalation.create({
    data: { organizationId, householdId, severity: 'high', reason, ackCode: '4821' },
  });
}

describe('escalations in the admin API', () => {
  it('are acknowledged once by a key, with a later acknowledgement recorded, then resolved with instructions', async () => {
    const escalation = await openEscalation();
    const first = await api.post<{ first: boolean; escalation: EscalationOut }>(`/v1/escalations/${escalation.id}/ack`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ first: true, escalation: { status: 'acknowledged' } });
    const again = await api.post<{ first: boolean }>(`/v1/escalations/${escalation.id}/ack`);
    expect(again.body.first).toBe(false);

    const resolved = await api.post<EscalationOut>(`/v1/escalations/${escalation.id}/resolve`, {
      outcome: 'Visited; oxygen fine by midnight.',
      instructions: 'If the breathing worsens again, call 999 and then me.',
    });
    expect(resolved.body).toMatchObject({ status: 'resolved', instructions: expect.stringContaining('call 999') });
    const twice = await api.post<ErrorBody>(`/v1/escalations/${escalation.id}/resolve`, { outcome: 'again' });
    expect(twice.status).toBe(409);

    const detail = await api.get<EscalationDetailOut>(`/v1/escalations/${escalation.id}`);
    expect(detail.body.acks.map((ack) => [ack.via, ack.first])).toEqual([
      ['admin', true],
      ['admin', false],
    ]);
    const audit = await db.prisma.auditEvent.findMany({ where: { resourceId: escalation.id } });
    expect(audit.map((event) => event.action).sort()).toEqual([
      'escalation.acknowledge',
      'escalation.acknowledge',
      'escalation.resolve',
    ]);
  });

  it('list newest first, filtered by status', async () => {
    const older = await openEscalation('A fall');
    const newer = await openEscalation('Chest pain');
    await api.post(`/v1/escalations/${older.id}/ack`);
    const open = await api.get<Page<EscalationOut>>('/v1/escalations?status=open');
    const ids = open.body.data.map((escalation) => escalation.id);
    expect(ids).toContain(newer.id);
    expect(ids).not.toContain(older.id);
  });

  it('say what is wrong with a resolution they cannot take', async () => {
    const escalation = await openEscalation();
    const empty = await api.post<ErrorBody>(`/v1/escalations/${escalation.id}/resolve`, {});
    expect(empty.status).toBe(400);
    expect(JSON.stringify(empty.body)).toContain('outcome');
    const unknown = await api.post<ErrorBody>(`/v1/escalations/${escalation.id}/resolve`, { outcome: 'ok', by: 'me' });
    expect(unknown.status).toBe(400);
    const untouched = await db.prisma.escalation.findUniqueOrThrow({ where: { id: escalation.id } });
    expect(untouched.status).toBe('open');
  });
});
