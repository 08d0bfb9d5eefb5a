/** Every class of bad input gets its 4xx in the error shape, and the database is left exactly as it was. */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HouseholdView, MemberView } from '../../src/admin/schemas.js';
import type { Database } from '../../src/db/index.js';
import { MEMORY_LIMITS } from '../../src/memory/index.js';
import { createTestDatabase } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { type Api, newTenant, type RequestOptions, snapshot } from './support.js';

// Above the engine's largest text (a 4,000-character passage), so those limits are reached first.
const BODY_LIMIT_BYTES = 8192;

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
  /** What the message must say, when it matters. */
  message?: unknown;
  /** The field-level detail expected, when there is one. */
  detail?: { in: string; path: string; message?: unknown };
}

const cursor = (payload: unknown) => Buffer.from(JSON.stringify(payload)).toString('base64url');
const wrongShapeCursor = cursor({ page: 2 });
/** Beyond a Postgres integer (int4): Prisma refuses it with an error that used to become a 500. */
const HUGE = 2 ** 40;
const NUL = '\u0000';

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
    name: 'a body whose Content-Encoding says gzip but is not',
    method: 'POST',
    path: () => '/v1/households',
    options: { raw: JSON.stringify({ name: 'X' }), headers: { 'content-encoding': 'gzip' } },
    status: 400,
    code: 'invalid_request',
    message: expect.stringContaining('gzip'),
  },
  {
    name: 'a gzip body cut short',
    method: 'POST',
    path: () => '/v1/households',
    options: {
      raw: gzipSync(JSON.stringify({ name: 'X' })).subarray(0, 12),
      headers: { 'content-encoding': 'gzip' },
    },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'a Content-Encoding the server does not decode',
    method: 'POST',
    path: () => '/v1/households',
    options: { raw: JSON.stringify({ name: 'X' }), headers: { 'content-encoding': 'compress' } },
    status: 415,
    code: 'unsupported_media_type',
    message: expect.stringMatching(/"compress".*gzip, deflate, br/),
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

/** Input the database cannot hold: numbers beyond int4, NUL characters, dates outside years 0001–9999. */
const unstorable: Case[] = [
  {
    name: 'a rollback version beyond a database integer',
    method: 'POST',
    path: () => `${household}/blocks/household/rollback`,
    options: { json: { toVersion: HUGE } },
    status: 400,
    code: 'invalid_request',
    detail: { in: 'body', path: 'toVersion' },
  },
  {
    name: 'a history cursor beyond a database integer',
    method: 'GET',
    path: () => `${household}/blocks/household/history?cursor=${cursor({ before: HUGE })}`,
    status: 400,
    code: 'invalid_request',
    detail: { in: 'query', path: 'cursor' },
  },
  {
    name: 'a search page beyond a database integer',
    method: 'GET',
    path: () => `${household}/recall?q=tea&cursor=${cursor({ page: HUGE })}`,
    status: 400,
    code: 'invalid_request',
    detail: { in: 'query', path: 'cursor' },
  },
  {
    name: 'a block charLimit beyond a database integer',
    method: 'POST',
    path: () => `${household}/blocks`,
    options: { json: { label: 'huge', charLimit: HUGE } },
    status: 400,
    code: 'invalid_request',
    detail: { in: 'body', path: 'charLimit' },
  },
  {
    name: 'a date in year 0000',
    method: 'GET',
    path: () => `${household}/calls?from=0000-01-01T00:00:00Z`,
    status: 400,
    code: 'invalid_request',
    detail: { in: 'query', path: 'from' },
  },
  {
    name: 'a date whose offset puts it in year 0000 (UTC)',
    method: 'GET',
    path: () => `${household}/passages?to=0001-01-01T00:00:00%2B01:00`,
    status: 400,
    code: 'invalid_request',
    detail: { in: 'query', path: 'to' },
  },
  {
    name: 'a date in year 300000',
    method: 'GET',
    path: () => `${household}/recall?q=tea&from=%2B300000-01-01T00:00:00Z`,
    status: 400,
    code: 'invalid_request',
    detail: { in: 'query', path: 'from' },
  },
  {
    name: 'a list cursor dated year 0000',
    method: 'GET',
    path: () =>
      `/v1/households?cursor=${cursor({ at: '0000-01-01T00:00:00Z', id: '00000000-0000-4000-8000-000000000000' })}`,
    status: 400,
    code: 'invalid_request',
    detail: { in: 'query', path: 'cursor' },
  },
  {
    name: 'a NUL character in a household name',
    method: 'POST',
    path: () => '/v1/households',
    options: { json: { name: `The ${NUL}Smiths` } },
    status: 400,
    code: 'invalid_request',
    detail: { in: 'body', path: 'name', message: expect.stringContaining('NUL') },
  },
  {
    name: 'a NUL character in agent settings',
    method: 'PATCH',
    path: () => household,
    options: { json: { agentSettings: { instructions: `Be kind.${NUL}` } } },
    status: 400,
    code: 'invalid_request',
    detail: { in: 'body', path: 'agentSettings.instructions' },
  },
  {
    name: 'a NUL character in a member update',
    method: 'PATCH',
    path: () => member,
    options: { json: { relationship: `son${NUL}` } },
    status: 400,
    code: 'invalid_request',
    detail: { in: 'body', path: 'relationship' },
  },
  {
    name: 'a NUL character in a phone line label',
    method: 'POST',
    path: () => '/v1/phone-lines',
    options: { json: { number: '+15555550142', label: `Home${NUL}` } },
    status: 400,
    code: 'invalid_request',
    detail: { in: 'body', path: 'label' },
  },
  {
    name: 'a NUL character in an API key name',
    method: 'POST',
    path: () => '/v1/api-keys',
    options: { json: { name: `laptop${NUL}` } },
    status: 400,
    code: 'invalid_request',
    detail: { in: 'body', path: 'name' },
  },
  {
    name: 'a NUL character in a passage tag',
    method: 'POST',
    path: () => `${household}/passages`,
    options: { json: { text: 'Tea at four.', tags: [`routine${NUL}`] } },
    status: 400,
    code: 'invalid_request',
    detail: { in: 'body', path: 'tags.0' },
  },
  {
    name: 'a NUL character in a block value',
    method: 'PATCH',
    path: () => `${household}/blocks/household`,
    options: { json: { value: `x${NUL}y` }, headers: { 'if-match': '1' } },
    status: 400,
    code: 'invalid_request',
    detail: { in: 'body', path: 'value', message: expect.stringContaining('NUL') },
  },
  {
    name: 'a NUL character in a new block',
    method: 'POST',
    path: () => `${household}/blocks`,
    options: { json: { label: 'routines', value: 'Walk.', description: `Daily${NUL}` } },
    status: 400,
    code: 'invalid_request',
    detail: { in: 'body', path: 'description', message: expect.stringContaining('NUL') },
  },
  {
    name: 'a NUL character in a passage text',
    method: 'POST',
    path: () => `${household}/passages`,
    options: { json: { text: `x${NUL}y` } },
    status: 400,
    code: 'invalid_request',
    detail: { in: 'body', path: 'text', message: expect.stringContaining('NUL') },
  },
  {
    name: 'a NUL character in a passage search',
    method: 'GET',
    path: () => `${household}/passages/search?q=tea%00`,
    status: 400,
    code: 'invalid_request',
    detail: { in: 'query', path: 'q', message: expect.stringContaining('NUL') },
  },
  {
    name: 'a NUL character in a recall search',
    method: 'GET',
    path: () => `${household}/recall?q=tea%00`,
    status: 400,
    code: 'invalid_request',
    detail: { in: 'query', path: 'q', message: expect.stringContaining('NUL') },
  },
  {
    name: 'a NUL character in a tag filter',
    method: 'GET',
    path: () => `${household}/passages?tags=health%00`,
    status: 400,
    code: 'invalid_request',
    detail: { in: 'query', path: 'tags.0' },
  },
  {
    name: 'a NUL character in an audit filter',
    method: 'GET',
    path: () => '/v1/audit?resourceType=member%00',
    status: 400,
    code: 'invalid_request',
    detail: { in: 'query', path: 'resourceType' },
  },
];

/** The memory engine's limits, refused at the edge with a field-level detail (as the OpenAPI document says). */
const beyondEngine: Case[] = [
  {
    name: 'a search limit above the engine maximum',
    method: 'GET',
    path: () => `${household}/passages/search?q=tea&limit=${MEMORY_LIMITS.searchLimitMax + 1}`,
    status: 400,
    code: 'invalid_request',
    detail: { in: 'query', path: 'limit' },
  },
  {
    name: 'a history limit above the engine maximum',
    method: 'GET',
    path: () => `${household}/blocks/household/history?limit=${MEMORY_LIMITS.historyLimitMax + 1}`,
    status: 400,
    code: 'invalid_request',
    detail: { in: 'query', path: 'limit' },
  },
  {
    name: 'a passage longer than the engine allows',
    method: 'POST',
    path: () => `${household}/passages`,
    options: { json: { text: 'x'.repeat(MEMORY_LIMITS.passageTextMaxLength + 1) } },
    status: 400,
    code: 'invalid_request',
    detail: { in: 'body', path: 'text' },
  },
  {
    name: 'a tag longer than the engine allows',
    method: 'POST',
    path: () => `${household}/passages`,
    options: { json: { text: 'Tea at four.', tags: ['t'.repeat(MEMORY_LIMITS.tagMaxLength + 1)] } },
    status: 400,
    code: 'invalid_request',
    detail: { in: 'body', path: 'tags.0' },
  },
  {
    name: 'more tags than the engine allows',
    method: 'POST',
    path: () => `${household}/passages`,
    options: {
      json: { text: 'Tea at four.', tags: Array.from({ length: MEMORY_LIMITS.tagsMax + 1 }, (_, i) => `tag${i}`) },
    },
    status: 400,
    code: 'invalid_request',
    detail: { in: 'body', path: 'tags' },
  },
];

describe('bad input', () => {
  it.each([...cases, ...unstorable, ...beyondEngine])(
    '$name: $status, database unchanged',
    async ({ method, path, options, status, code, message, detail }) => {
      const before = await snapshot(db);
      const response = await api.request(method, path(), options);
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toContain('application/json');
      expect(response.body.error).toMatchObject({ code, message: message ?? expect.any(String) });
      if (detail) expect(response.body.error.details).toContainEqual(expect.objectContaining(detail));
      expect(await snapshot(db)).toEqual(before);
    },
  );
});
