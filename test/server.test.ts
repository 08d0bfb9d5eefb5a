import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { loadConfig } from '../src/config/index.js';
import type { Database } from '../src/db/index.js';
import { errorHandler, requestLogging } from '../src/http.js';
import { createEmbedder, createMemoryEngine } from '../src/memory/index.js';
import { createServer } from '../src/server.js';
import { newTenant } from './admin/support.js';
import { createTestDatabase } from './support/database.js';
import { startTestServer, type TestServer } from './support/server.js';

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

let db: Database;
let server: TestServer;
/** Bodies are read only for authenticated requests. */
let authorization: string;

/** The status a WebSocket upgrade to `url` is answered with (101 when it opens). */
function upgradeStatus(url: string): Promise<number | undefined> {
  const socket = new WebSocket(url);
  return new Promise((resolve) => {
    socket.on('unexpected-response', (_req, res) => resolve(res.statusCode));
    socket.on('open', () => resolve(101));
    socket.on('error', () => {});
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db, { HEARTH_BODY_LIMIT_BYTES: '1024' });
  authorization = `Bearer ${(await newTenant(db, server.url, 'Bad input')).key.key}`;
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
      headers: { authorization, 'content-type': 'application/json' },
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
      headers: { authorization, 'content-type': 'application/json' },
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
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=x',
    });
    expect(response.status).toBe(415);
    expect(await errorOf(response)).toMatchObject({ code: 'unsupported_media_type' });
  });

  it('a WebSocket upgrade to an unknown path is refused with 404', async () => {
    expect(await upgradeStatus(`${server.url.replace('http', 'ws')}/nowhere`)).toBe(404);
  });
});

/** A pino logger whose JSON lines are kept in memory. */
function capturedLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('logs carry ids, not content', () => {
  it('logs the path of a request, never its query', async () => {
    const { logger, lines } = capturedLogger();
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', LOG_FORMAT: 'json' });
    const memory = createMemoryEngine({ prisma: db.prisma, embedder: createEmbedder({}) });
    const logged = createServer({ config, logger, db, memory });
    const url = await logged.listen();
    logged.setReady(true);
    try {
      const path = `/v1/households/${randomUUID()}/recall`;
      const response = await fetch(`${url}${path}?q=my%20inhaler%20is%20empty`, {
        headers: { 'x-request-id': 'req-logged' },
      });
      expect(response.status).toBe(401);
      expect(await upgradeStatus(`${url.replace('http', 'ws')}/nowhere?token=spoken-secret`)).toBe(404);
    } finally {
      await logged.close();
      await memory.close();
    }
    const entries = lines.map((line) => JSON.parse(line) as { req?: { id: string; path: string }; path?: string });
    expect(entries.find((entry) => entry.req?.id === 'req-logged')?.req).toMatchObject({
      path: expect.stringMatching(/^\/v1\/households\/[0-9a-f-]{36}\/recall$/),
    });
    expect(entries.some((entry) => entry.path === '/nowhere')).toBe(true);
    const text = lines.join('\n');
    expect(text).not.toMatch(/inhaler|q=/);
    expect(text).not.toContain('spoken-secret');
  });
});

describe('readiness while starting', () => {
  it('logs the 503 at info, once, without a stack trace', async () => {
    const { logger, lines } = capturedLogger();
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', LOG_FORMAT: 'json' });
    const memory = createMemoryEngine({ prisma: db.prisma, embedder: createEmbedder({}) });
    const starting = createServer({ config, logger, db, memory });
    const url = await starting.listen();
    try {
      for (let probe = 0; probe < 3; probe++) expect((await fetch(`${url}/readyz`)).status).toBe(503);
    } finally {
      await starting.close();
      await memory.close();
    }
    const entries = lines.map((line) => JSON.parse(line) as { level: number; msg: string; reason?: string });
    expect(entries.filter((entry) => entry.level >= 40)).toEqual([]);
    expect(lines.join('\n')).not.toContain('stack');
    const notReady = entries.filter((entry) => entry.reason === 'applying database migrations');
    expect(notReady).toEqual([expect.objectContaining({ level: 30 })]);
  });
});

describe('an error after the response has started', () => {
  it('is handed to express, which closes the half-sent response instead of leaving it open', async () => {
    const app = express();
    app.use(requestLogging(pino({ level: 'silent' })));
    app.get('/stream', (_req, res, next) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('the first half');
      next(new Error('the stream broke'));
    });
    app.use(errorHandler);
    const listening = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => listening.once('listening', resolve));
    try {
      const { port } = listening.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/stream`);
      expect(response.status).toBe(200);
      // Left open, reading the body would never end; closed, the client sees the cut.
      await expect(response.text()).rejects.toThrow();
    } finally {
      listening.closeAllConnections();
      await new Promise((resolve) => listening.close(resolve));
    }
  }, 10_000);
});
