import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlockOut, RevisionOut } from '../../src/admin/memory-schemas.js';
import type { Page } from '../../src/admin/pagination.js';
import type { HouseholdView, MemberView } from '../../src/admin/schemas.js';
import type { Database } from '../../src/db/index.js';
import { createTestDatabase } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { type Api, newTenant } from './support.js';

let db: Database;
let server: TestServer;
let api: Api;
let keyId: string;
let shared: string;
let member: string;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db);
  const tenant = await newTenant(db, server.url, 'Memory keepers');
  api = tenant.api;
  keyId = tenant.key.id;
  const household = (await api.post<HouseholdView>('/v1/households', { name: 'The Garcias' })).body;
  shared = `/v1/households/${household.id}/blocks`;
  const nana = (await api.post<MemberView>(`/v1/households/${household.id}/members`, { name: 'Nana' })).body;
  member = `/v1/households/${household.id}/members/${nana.id}/blocks`;
});
afterAll(async () => {
  await server.close();
  await db.close();
});

describe('reading and correcting a block', () => {
  it('answers the block with its version as ETag', async () => {
    const response = await api.get<BlockOut>(`${shared}/household`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ label: 'household', memberId: null, version: 1 });
    expect(response.headers.get('etag')).toBe('"1"');
  });

  it('needs If-Match (428), refuses a stale one (412) and a malformed one (400)', async () => {
    const missing = await api.patch(`${shared}/household`, { value: 'Lives in Seville.' });
    expect(missing.status).toBe(428);
    expect(missing.body.error.code).toBe('precondition_required');

    const malformed = await api.patch(`${shared}/household`, { value: 'x' }, { headers: { 'if-match': 'yesterday' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.details).toEqual([{ in: 'header', path: 'If-Match', message: expect.any(String) }]);

    const stale = await api.patch(`${shared}/household`, { value: 'x' }, { headers: { 'if-match': '"99"' } });
    expect(stale.status).toBe(412);
    expect(stale.body.error.code).toBe('precondition_failed');
    expect((await api.get<BlockOut>(`${shared}/household`)).body.version).toBe(1);
  });

  it('two updates naming the same version: exactly one wins, the other gets 412', async () => {
    const { body: before } = await api.get<BlockOut>(`${shared}/household`);
    const ifMatch = { headers: { 'if-match': `"${before.version}"` } };
    const results = await Promise.all([
      api.patch<BlockOut>(`${shared}/household`, { value: 'Nana prefers Spanish.' }, ifMatch),
      api.patch<BlockOut>(`${shared}/household`, { value: 'Nana takes tea at four.' }, ifMatch),
    ]);
    const statuses = results.map((result) => result.status).sort();
    expect(statuses).toEqual([200, 412]);
    const winner = results.find((result) => result.status === 200);
    expect(winner?.body.version).toBe(before.version + 1);
    expect(winner?.headers.get('etag')).toBe(`"${before.version + 1}"`);
    const after = await api.get<BlockOut>(`${shared}/household`);
    expect(after.body.value).toBe(winner?.body.value);
  });

  it('refuses a value longer than the block limit without changing it', async () => {
    const { body: block } = await api.get<BlockOut>(`${shared}/household`);
    const response = await api.patch(
      `${shared}/household`,
      { value: 'x'.repeat(block.charLimit + 1) },
      { headers: { 'if-match': String(block.version) } },
    );
    expect(response.status).toBe(400);
    expect((await api.get<BlockOut>(`${shared}/household`)).body).toEqual(block);
  });
});

describe('history and rollback', () => {
  it('lists every version with source, actor and diff, and rolls back as a new version', async () => {
    const path = `${member}/caller`;
    let version = (await api.get<BlockOut>(path)).body.version;
    for (const value of ['Call her Nana.', 'Call her Nana. Hard of hearing: speak up.']) {
      const response = await api.patch<BlockOut>(path, { value }, { headers: { 'if-match': String(version) } });
      expect(response.status).toBe(200);
      version = response.body.version;
    }

    const history = await api.get<Page<RevisionOut>>(`${path}/history`);
    expect(history.status).toBe(200);
    const [latest, previous] = history.body.data;
    expect(latest).toMatchObject({
      version,
      value: 'Call her Nana. Hard of hearing: speak up.',
      source: 'admin',
      actor: keyId,
      diff: expect.stringContaining('+Call her Nana. Hard of hearing: speak up.'),
    });
    expect(previous).toMatchObject({ version: version - 1, value: 'Call her Nana.', source: 'admin' });

    const firstPage = await api.get<Page<RevisionOut>>(`${path}/history?limit=1`);
    expect(firstPage.body.data).toHaveLength(1);
    expect(firstPage.body.nextCursor).not.toBeNull();
    const secondPage = await api.get<Page<RevisionOut>>(`${path}/history?limit=1&cursor=${firstPage.body.nextCursor}`);
    expect(secondPage.body.data[0]?.version).toBe(version - 1);

    const rolledBack = await api.post<BlockOut>(`${path}/rollback`, { toVersion: version - 1 });
    expect(rolledBack.status).toBe(200);
    expect(rolledBack.body).toMatchObject({ value: 'Call her Nana.', version: version + 1 });
    const after = await api.get<Page<RevisionOut>>(`${path}/history?limit=1`);
    expect(after.body.data[0]).toMatchObject({ version: version + 1, source: 'rollback', value: 'Call her Nana.' });

    const staleRollback = await api.post(`${path}/rollback`, { toVersion: 1 }, { headers: { 'if-match': '1' } });
    expect(staleRollback.status).toBe(412);
  });
});

describe('creating and deleting blocks', () => {
  it('creates a block (409 when the label is taken), deletes it, and refuses to delete the defaults', async () => {
    const created = await api.post<BlockOut>(shared, {
      label: 'routines',
      value: 'Walk at 10.',
      description: 'Daily routines',
      charLimit: 500,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ label: 'routines', version: 1, charLimit: 500, memberId: null });
    expect(created.headers.get('etag')).toBe('"1"');
    expect((await api.post(shared, { label: 'routines' })).status).toBe(409);
    const badLabel = await api.post(shared, { label: 'Bad label!' });
    expect(badLabel.status).toBe(400);
    expect(badLabel.body.error.message).toContain('label');

    const list = await api.get<Page<BlockOut>>(shared);
    expect(list.body.data.map((block) => block.label).sort()).toEqual(['household', 'persona', 'routines']);

    expect((await api.delete(`${shared}/routines`)).status).toBe(204);
    expect((await api.get(`${shared}/routines`)).status).toBe(404);

    for (const path of [`${shared}/persona`, `${shared}/household`, `${member}/caller`]) {
      const refused = await api.delete(path);
      expect(refused.status).toBe(409);
      expect((await api.get(path)).status).toBe(200);
    }
  });

  it("member blocks are the member's own: a shared label is not found under the member", async () => {
    const created = await api.post<BlockOut>(member, { label: 'medication', value: 'Blue pill at 8.' });
    expect(created.status).toBe(201);
    expect(created.body.memberId).not.toBeNull();
    expect((await api.get(`${member}/household`)).status).toBe(404);
    expect((await api.get(`${shared}/medication`)).status).toBe(404);
    expect((await api.get<Page<BlockOut>>(member)).body.data.map((block) => block.label)).toEqual([
      'caller',
      'medication',
    ]);
  });
});

describe('the audit row of a block write', () => {
  it('commits with the write: when it cannot be stored, the create, update, rollback or delete is undone', async () => {
    await api.post<BlockOut>(shared, { label: 'garden', value: 'Roses by the gate.' });
    const before = (await api.get<Page<BlockOut>>(shared)).body.data;
    const household = before.find((block) => block.label === 'household')!;
    // The audit log refuses every row, as a full disk or a broken constraint would.
    await db.prisma.$executeRawUnsafe(
      `CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit log unavailable'; END $$`,
    );
    await db.prisma.$executeRawUnsafe(
      'CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit()',
    );
    try {
      const ifMatch = { headers: { 'if-match': String(household.version) } };
      const writes = await Promise.all([
        api.patch(`${shared}/household`, { value: 'Unaudited.' }, ifMatch),
        api.post(`${shared}/household/rollback`, { toVersion: 1 }),
        api.post(shared, { label: 'unaudited', value: 'x' }),
        api.delete(`${shared}/garden`),
      ]);
      expect(writes.map((write) => write.status)).toEqual([500, 500, 500, 500]);
    } finally {
      await db.prisma.$executeRawUnsafe('DROP TRIGGER refuse_audit ON audit_events');
      await db.prisma.$executeRawUnsafe('DROP FUNCTION refuse_audit');
    }
    expect((await api.get<Page<BlockOut>>(shared)).body.data).toEqual(before);
    const revisions = await db.prisma.blockRevision.count({ where: { blockId: household.id } });
    expect(revisions).toBe(household.version);

    const audited = await api.patch<BlockOut>(
      `${shared}/household`,
      { value: 'Audited.' },
      { headers: { 'if-match': String(household.version) } },
    );
    expect(audited.status).toBe(200);
    const rows = await db.prisma.auditEvent.findMany({
      where: { resourceId: household.id, action: 'block.update' },
      orderBy: { createdAt: 'asc' },
    });
    expect(rows.at(-1)).toMatchObject({ actor: keyId, details: { label: 'household', fields: ['value'] } });
  });
});
