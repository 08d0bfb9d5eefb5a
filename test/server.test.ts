import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Database } from '../src/db/index.js';
import { createTestDatabase } from './support/database.js';
import { startTestServer, type TestServer } from './support/server.js';

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

let db: Database;
let server: TestServer;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db, { HEARTH_BODY_LIMIT_BYTES: '1024' });
});
afterAll(async () => {
  await server.close();
  await db.close();
});

describe('health and readiness', () => {
  it('GET /healthz answers 200 {"status":"ok"}', async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200 once ready, 503 with the reason before', async () => {
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    server.server.setReady(false, 'applying database migrations');
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'unavailable', reason: 'applying database migrations' });
    const blocked = await fetch(`${server.url}/v1/anything`);
    expect(blocked.status).toBe(503);
    expect(((await blocked.json()) as ErrorBody).error.message).toContain('applying database migrations');
    server.server.setReady(true);
  });

  it('echoes a well-formed X-Request-Id, and makes one up otherwise', async () => {
    const echoed = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'req-123' } });
    expect(echoed.headers.get('x-request-id')).toBe('req-123');
    const made = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('bad input gets a JSON error, never a stack trace', () => {
  async function errorOf(response: Response) {
    expect(response.headers.get('content-type')).toContain('application/json');
    const body = (await response.json()) as ErrorBody;
    expect(JSON.stringify(body)).not.toMatch(/at .+\.(ts|js):\d+/);
    return body.error;
  }

  it('an unknown route is a 404', async () => {
    const response = await fetch(`${server.url}/no/such/route`);
    expect(response.status).toBe(404);
    expect(await errorOf(response)).toEqual({
      code: 'not_found',
      message: expect.stringContaining('GET /no/such/route'),
    });
  });

  it('malformed JSON is a 400 that says so', async () => {
    const response = await fetch(`${server.url}/v1/households`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name": ',
    });
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({
      code: 'invalid_request',
      message: expect.stringContaining('not valid JSON'),
    });
  });

  it('a body over the limit is a 413 naming the limit', async () => {
    const response = await fetch(`${server.url}/v1/households`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(2000) }),
    });
    expect(response.status).toBe(413);
    expect(await errorOf(response)).toMatchObject({
      code: 'payload_too_large',
      message: expect.stringContaining('1024 bytes'),
    });
  });

  it('a body that is not JSON is a 415', async () => {
    const response = await fetch(`${server.url}/v1/households`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=x',
    });
    expect(response.status).toBe(415);
    expect(await errorOf(response)).toMatchObject({ code: 'unsupported_media_type' });
  });

  it('a WebSocket upgrade to an unknown path is refused with 404', async () => {
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/nowhere`);
    const status = await new Promise<number | undefined>((resolve) => {
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      socket.on('open', () => resolve(101));
      socket.on('error', () => {});
    });
    expect(status).toBe(404);
  });
});
