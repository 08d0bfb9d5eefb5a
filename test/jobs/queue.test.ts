import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { z } from 'zod';
import { applyMigrations, type Database, openDatabase } from '../../src/db/index.js';
import { HearthError, ValidationError } from '../../src/errors.js';
import { createQueue, type JobQueue } from '../../src/jobs/index.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase } from '../support/database.js';

const logger = createLogger({ LOG_LEVEL: 'silent', LOG_FORMAT: 'json' });
const greetingSchema = z.object({ to: z.string().min(1) });
const waitLong = { timeout: 20_000, interval: 100 };

let db: Database;
const queues: JobQueue[] = [];

async function startQueue(database = db): Promise<JobQueue> {
  const queue = createQueue({ db: database, logger, pollingIntervalSeconds: 0.5, shutdownTimeoutMs: 1_000 });
  queues.push(queue);
  await queue.start();
  return queue;
}

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  for (const queue of queues.splice(0)) await queue.stop();
});
afterAll(() => db.close());

describe('the queue', () => {
  it('runs a sent job in its handler and records it as completed, next to Prisma on the same database', async () => {
    const queue = await startQueue();
    const seen: Array<{ to: string; retryCount: number }> = [];
    await queue.register({
      name: 'greet',
      schema: greetingSchema,
      handler: async (job) => {
        seen.push({ to: job.data.to, retryCount: job.retryCount });
      },
    });
    const id = await queue.send({ name: 'greet', data: { to: 'Nana' } });
    expect(id).toEqual(expect.any(String));
    await vi.waitFor(
      async () => expect((await queue.getJob({ name: 'greet', id: id! }))?.state).toBe('completed'),
      waitLong,
    );
    expect(seen).toEqual([{ to: 'Nana', retryCount: 0 }]);
    expect(await db.prisma.organization.count()).toBeGreaterThanOrEqual(0);
    expect(await queue.getJob({ name: 'greet', id: '00000000-0000-4000-8000-000000000000' })).toBeNull();
  });

  it('refuses data its schema rejects, and job types nobody registered', async () => {
    const queue = await startQueue();
    await queue.register({ name: 'greet-strict', schema: greetingSchema });
    await expect(queue.send({ name: 'greet-strict', data: { to: '' } })).rejects.toBeInstanceOf(ValidationError);
    const unknown = await queue.send({ name: 'nobody-home', data: {} }).catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(HearthError);
    expect((unknown as Error).message).toContain('register it before sending');
  });

  it('retries a failing job with backoff, then shows it as failed with the last error', async () => {
    const queue = await startQueue();
    const attempts: Array<{ retryCount: number; at: number }> = [];
    await queue.register({
      name: 'always-fails',
      schema: greetingSchema,
      retryLimit: 2,
      retryDelaySeconds: 1,
      retryBackoff: true,
      handler: async (job) => {
        attempts.push({ retryCount: job.retryCount, at: Date.now() });
        throw new Error(`the line to ${job.data.to} is busy (try ${attempts.length})`);
      },
    });
    const id = (await queue.send({ name: 'always-fails', data: { to: 'Nana' } }))!;
    await vi.waitFor(async () => expect((await queue.getJob({ name: 'always-fails', id }))?.state).toBe('failed'), {
      timeout: 30_000,
      interval: 200,
    });
    const job = await queue.getJob({ name: 'always-fails', id });
    expect(job).toMatchObject({ retryCount: 2, retryLimit: 2, error: 'the line to Nana is busy (try 3)' });
    expect(attempts.map((attempt) => attempt.retryCount)).toEqual([0, 1, 2]);
    // A retry never starts before its delay (at least retryDelaySeconds) has passed.
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(1_000);
  });

  it('re-runs a job that was running when the queue stopped', async () => {
    const first = await startQueue();
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    await first.register({
      name: 'interrupted',
      schema: greetingSchema,
      retryDelaySeconds: 0,
      handler: (job) => {
        started();
        return new Promise((resolve) => job.signal.addEventListener('abort', () => resolve()));
      },
    });
    const id = (await first.send({ name: 'interrupted', data: { to: 'Nana' } }))!;
    await running;
    await first.stop({ graceful: false });
    const second = await startQueue();
    expect((await second.getJob({ name: 'interrupted', id }))?.state).toBe('retry');
    const reruns: number[] = [];
    await second.register({
      name: 'interrupted',
      schema: greetingSchema,
      retryDelaySeconds: 0,
      handler: async (job) => {
        reruns.push(job.retryCount);
      },
    });
    await vi.waitFor(
      async () => expect((await second.getJob({ name: 'interrupted', id }))?.state).toBe('completed'),
      waitLong,
    );
    expect(reruns).toEqual([1]);
  });

  it('with the exclusive policy, refuses a second job with the same key while the first is pending', async () => {
    const queue = await startQueue();
    await queue.register({ name: 'once-per-key', schema: greetingSchema, policy: 'exclusive' });
    expect(await queue.send({ name: 'once-per-key', data: { to: 'Nana' }, singletonKey: 'call-1' })).toEqual(
      expect.any(String),
    );
    expect(await queue.send({ name: 'once-per-key', data: { to: 'Nana' }, singletonKey: 'call-1' })).toBeNull();
    expect(await queue.send({ name: 'once-per-key', data: { to: 'Nana' }, singletonKey: 'call-2' })).toEqual(
      expect.any(String),
    );
  });

  it('takes a job sent while it is still starting, and runs it once started', async () => {
    const queue = createQueue({ db, logger, pollingIntervalSeconds: 0.5, shutdownTimeoutMs: 1_000 });
    queues.push(queue);
    const seen: string[] = [];
    const started = queue.start();
    const registered = queue.register({
      name: 'greet-early',
      schema: greetingSchema,
      handler: async (job) => {
        seen.push(job.data.to);
      },
    });
    // Neither has resolved yet: the server sends such jobs while the queue comes up.
    const id = await queue.send({ name: 'greet-early', data: { to: 'Grandpa' } });
    await Promise.all([started, registered]);
    expect(id).toEqual(expect.any(String));
    await vi.waitFor(
      async () => expect((await queue.getJob({ name: 'greet-early', id: id! }))?.state).toBe('completed'),
      waitLong,
    );
    expect(seen).toEqual(['Grandpa']);
  });

  it('must be started before use, and stops once', async () => {
    const queue = createQueue({ db, logger });
    await expect(queue.send({ name: 'greet', data: { to: 'x' } })).rejects.toThrow('not started yet');
    await queue.start();
    await queue.stop();
    await queue.stop();
    await expect(queue.register({ name: 'greet', schema: greetingSchema })).rejects.toThrow('stopped');
  });
});

describe('across a restart of the embedded database', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'hearth-jobs-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('keeps a queue as it is on a restart with the same settings, and applies changed ones', async () => {
    const first = await startQueue();
    await first.register({ name: 'settle', schema: greetingSchema, retryLimit: 1, retryDelaySeconds: 7 });
    const before = (await first.send({ name: 'settle', data: { to: 'Nana' } }))!;
    expect((await first.getJob({ name: 'settle', id: before }))?.retryLimit).toBe(1);
    await first.stop();

    const same = await startQueue();
    await same.register({ name: 'settle', schema: greetingSchema, retryLimit: 1, retryDelaySeconds: 7 });
    const unchanged = (await same.send({ name: 'settle', data: { to: 'Nana' } }))!;
    expect((await same.getJob({ name: 'settle', id: unchanged }))?.retryLimit).toBe(1);
    await same.stop();

    const changed = await startQueue();
    await changed.register({ name: 'settle', schema: greetingSchema, retryLimit: 4, retryDelaySeconds: 7 });
    const after = (await changed.send({ name: 'settle', data: { to: 'Nana' } }))!;
    expect((await changed.getJob({ name: 'settle', id: after }))?.retryLimit).toBe(4);
  });

  it('runs a job sent before the restart, and leaves Prisma migrations alone', async () => {
    const template = new Blob([await readFile(inject('pgliteTemplatePath'))]);
    const before = await openDatabase({ kind: 'pglite', dataDir, template });
    const producer = await startQueue(before);
    await producer.register({ name: 'greet-later', schema: greetingSchema });
    const id = (await producer.send({ name: 'greet-later', data: { to: 'Nana' } }))!;
    await producer.stop();
    await before.close();

    const after = await openDatabase({ kind: 'pglite', dataDir });
    try {
      expect(await applyMigrations(after)).toEqual([]);
      const worker = await startQueue(after);
      expect((await worker.getJob({ name: 'greet-later', id }))?.state).toBe('created');
      const seen: string[] = [];
      await worker.register({
        name: 'greet-later',
        schema: greetingSchema,
        handler: async (job) => {
          seen.push(job.data.to);
        },
      });
      await vi.waitFor(
        async () => expect((await worker.getJob({ name: 'greet-later', id }))?.state).toBe('completed'),
        waitLong,
      );
      expect(seen).toEqual(['Nana']);
      await worker.stop();
    } finally {
      await after.close();
    }
  });
});
