/** Every class of bad input gets its 4xx in the error shape, and the database is left exactly as it was. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HouseholdView, MemberView } from '../../src/admin/schemas.js';
import type { Database } from '../../src/db/index.js';
import { createTestDatabase } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { type Api, newTenant, type RequestOptions, snapshot } from './support.js';

const BODY_LIMIT_BYTES = 2048;

let db: Database;
let server: TestServer;
let api: Api;
let household: string;
let member: string;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db, { HEARTH_BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES) });
  ({ api } = await newTenant(db, server.url, 'Careful'));
  household = `/v1/households/${(await api.post<HouseholdView>('/v1/households', { name: 'Target' })).body.id}`;
  member = `${household}/members/${(await api.post<MemberView>(`${household}/members`, { name: 'M' })).body.id}`;
});
afterAll(async () => {
  await server.close();
  await db.close();
});

interface Case {
  name: string;
  method: string;
  path: () => string;
  options?: RequestOptions;
  status: number;
  code: string;
  /** The field-level detail expected, when there is one. */
  detail?: { in: string; path: string; message?: unknown };
}

const wrongShapeCursor = Buffer.from(JSON.stringify({ page: 2 })).toString('base64url');

const cases: Case[] = [
  {
    name: 'malformed JSON',
    method: 'POST',
    path: () => '/v1/households',
    options: { raw: '{"name": ' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'a wrong type',
    method: 'POST',
    path: () => '/v1/households',
    options: { json: { name: 42 } },
    status: 400,
    code: 'invalid_request',
    detail: { in: 'body', path: 'name' },
  },
  {
    name: 'an unknown body field',
    method: 'POST',
    path: () => '/v1/households',
    options: { json: { name: 'X', colour: 'red' } },
    status: 400,
    code: 'invalid_request',
    detail: { in: 'body', path: '', message: expect.stringContaining('colour') },
  },
  {
    name: 'an unknown nested field',
    method: 'PATCH',
    path: () => household,
    options: { json: { agentSettings: { temperature: 2 } } },
    status: 400,
    code: 'invalid_request',
    detail: { in: 'body', path: 'agentSettings', message: expect.stringContaining('temperature') },
  },
  {
    name: 'an unknown query parameter',
    method: 'GET',
    path: () => '/v1/households?sort=name',
    status: 400,
    code: 'invalid_request',
    detail: { in: 'query', path: '', message: expect.stringContaining('sort') },
  },
  {
    name: 'a body over the limit',
    method: 'POST',
    path: () => '/v1/households',
    options: { json: { name: 'x'.repeat(BODY_LIMIT_BYTES * 2) } },
    status: 413,
    code: 'payload_too_large',
  },
  {
    name: 'a body that is not JSON',
    method: 'POST',
    path: () => '/v1/households',
    options: { raw: 'name=X', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'a phone number that is not E.164',
    method: 'POST',
    path: () => `${household}/members`,
    options: { json: { name: 'N', phone: '(555) 555-0100' } },
    status: 400,
    code: 'invalid_request',
    detail: { in: 'body', path: 'phone', message: expect.stringContaining('E.164') },
  },
  {
    name: 'a bad phone number in an update',
    method: 'PATCH',
    path: () => member,
    options: { json: { phone: '+0123' } },
    status: 400,
    code: 'invalid_request',
    detail: { in: 'body', path: 'phone' },
  },
  {
    name: 'a cursor that is not ours',
    method: 'GET',
    path: () => '/v1/households?cursor=not-a-cursor',
    status: 400,
    code: 'invalid_request',
    detail: { in: 'query', path: 'cursor' },
  },
  {
    name: "another list's cursor",
    method: 'GET',
    path: () => `/v1/households?cursor=${wrongShapeCursor}`,
    status: 400,
    code: 'invalid_request',
    detail: { in: 'query', path: 'cursor' },
  },
  {
    name: 'a limit above 200',
    method: 'GET',
    path: () => '/v1/households?limit=201',
    status: 400,
    code: 'invalid_request',
    detail: { in: 'query', path: 'limit' },
  },
  {
    name: 'a malformed uuid in the path',
    method: 'GET',
    path: () => '/v1/households/not-a-uuid',
    status: 400,
    code: 'invalid_request',
    detail: { in: 'path', path: 'householdId' },
  },
  {
    name: 'a malformed uuid in a delete',
    method: 'DELETE',
    path: () => `${household}/members/1234`,
    status: 400,
    code: 'invalid_request',
    detail: { in: 'path', path: 'memberId' },
  },
  {
    name: 'a date filter that is not a date',
    method: 'GET',
    path: () => `${household}/calls?from=yesterday`,
    status: 400,
    code: 'invalid_request',
    detail: { in: 'query', path: 'from' },
  },
  {
    name: 'a body on a route that takes none',
    method: 'DELETE',
    path: () => household,
    options: { json: { force: true } },
    status: 400,
    code: 'invalid_request',
    detail: { in: 'body', path: '' },
  },
  {
    name: 'a wrong type in a block update',
    method: 'PATCH',
    path: () => `${household}/blocks/household`,
    options: { json: { value: 5 }, headers: { 'if-match': '1' } },
    status: 400,
    code: 'invalid_request',
    detail: { in: 'body', path: 'value' },
  },
  {
    name: 'a PIN that is not digits',
    method: 'PUT',
    path: () => `${member}/pin`,
    options: { json: { pin: 'abcd' } },
    status: 400,
    code: 'invalid_request',
    detail: { in: 'body', path: 'pin' },
  },
];

describe('bad input', () => {
  it.each(cases)('$name: $status, database unchanged', async ({ method, path, options, status, code, detail }) => {
    const before = await snapshot(db);
    const response = await api.request(method, path(), options);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.body.error).toMatchObject({ code, message: expect.any(String) });
    if (detail) expect(response.body.error.details).toContainEqual(expect.objectContaining(detail));
    expect(await snapshot(db)).toEqual(before);
  });
});
