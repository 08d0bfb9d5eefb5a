/**
 * The durable queue: pg-boss on Hearth's own database, in its own `pgboss` schema (Prisma's
 * migrations and drift check only look at `public`). Embedded, pg-boss drives the same PGlite
 * instance Prisma uses through its PGlite backend, with in-process LISTEN/NOTIFY; on Postgres it
 * opens its own pool from the connection string. Jobs are rows, so they survive a restart.
 */
import type { PgBoss } from 'pg-boss';
import { z } from 'zod';
import type { Database } from '../db/index.js';
import { HearthError, ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics, QueueDepth } from '../metrics.js';

const DEFAULT_POLLING_INTERVAL_SECONDS = 2;
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
const JOB_NAME = /^[a-z][a-z0-9-]{0,62}$/;
/** No cron schedules are used: without the scheduler, start-up skips its queries (~0.2 s on PGlite). */
const BOSS_OPTIONS = { useListenNotify: true, schedule: false } as const;

/** A job as its handler gets it. `signal` aborts when the queue stops or the job expires. */
export interface QueuedJob<T> {
  id: string;
  data: T;
  /** 0 on the first try. */
  retryCount: number;
  signal: AbortSignal;
}

export interface JobType<T extends object> {
  /** Lower-case words joined by dashes, e.g. `consolidate-call`. */
  name: string;
  /** Checked on `send` and again before the handler runs. */
  schema: z.ZodType<T>;
  /** Runs the jobs in this process; without it the type is declared for `send` only. */
  handler?: (job: QueuedJob<T>) => Promise<void>;
  /** Retries after the first try (default 3); after the last, the job stays `failed`. */
  retryLimit?: number;
  /** Delay before a retry, in whole seconds (default 5); doubled per retry with `retryBackoff`. */
  retryDelaySeconds?: number;
  /** Exponential backoff with jitter (default true). */
  retryBackoff?: boolean;
  /** A try still running after this long is failed (and retried); default 15 minutes. */
  expireInSeconds?: number;
  /**
   * pg-boss's queue policy. `exclusive`: at most one queued-or-running job per `singletonKey`
   * (a second send returns null). Fixed when the queue is first created.
   */
  policy?: 'standard' | 'exclusive' | 'singleton' | 'stately' | 'short';
}

export interface SendInput {
  name: string;
  data: unknown;
  /** Deduplicates under the `exclusive`, `singleton`, `stately` and `short` policies. */
  singletonKey?: string;
  /** Run no earlier than this many seconds from now. */
  startAfterSeconds?: number;
}

/** A job's state, for tests and the admin API. */
export interface JobView {
  id: string;
  name: string;
  state: 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';
  data: unknown;
  retryCount: number;
  retryLimit: number;
  /** The last failure's message, once a try has failed. */
  error: string | null;
  createdOn: Date;
  startedOn: Date | null;
  completedOn: Date | null;
}

export interface JobQueue {
  /** Installs or upgrades the `pgboss` schema and starts maintenance. */
  start(): Promise<void>;
  /**
   * Declares a job type (creating its queue) and, with a handler, works it here. Callable once
   * `start` is called, before it resolves: the type is known at once, and its queue is created
   * when the queue has started.
   */
  register<T extends object>(type: JobType<T>): Promise<void>;
  /** Enqueues a job, once its type's queue exists; null when a `singletonKey` policy refused a duplicate. */
  send(input: SendInput): Promise<string | null>;
  getJob(input: { name: string; id: string }): Promise<JobView | null>;
  /** Each queue's waiting and running jobs, across every instance. */
  depths(): Promise<QueueDepth[]>;
  /** Stops working and releases timers and connections (never the database itself). */
  stop(options?: { graceful?: boolean }): Promise<void>;
}

export interface QueueOptions {
  db: Database;
  logger: Logger;
  /** How often workers look for due jobs (retries, delayed jobs); new jobs also wake them at once. */
  pollingIntervalSeconds?: number;
  /** How long a graceful `stop` waits for running jobs before failing them (they are retried). */
  shutdownTimeoutMs?: number;
  metrics?: Metrics;
}

/** Creates the queue on `db`; call `start()` before `register` and `send`. */
export function createQueue(options: QueueOptions): JobQueue {
  return new PgBossQueue(options);
}

const failureOutputSchema = z.object({ message: z.string() });
/** The queue settings a job type sets, compared with a queue that exists already. */
const RETRY_SETTINGS = ['retryLimit', 'retryDelay', 'retryBackoff', 'expireInSeconds'] as const;

class PgBossQueue implements JobQueue {
  readonly #db: Database;
  readonly #logger: Logger;
  readonly #pollingIntervalSeconds: number;
  readonly #shutdownTimeoutMs: number;
  readonly #metrics: Metrics | undefined;
  readonly #schemas = new Map<string, z.ZodType<object>>();
  /** Each registered type's queue, created once the queue has started. */
  readonly #declared = new Map<string, Promise<void>>();
  #state: 'new' | 'started' | 'stopped' = 'new';
  #boss: Promise<PgBoss> | undefined;
  #queues: Promise<Map<string, Partial<Record<(typeof RETRY_SETTINGS)[number], unknown>>>> | undefined;

  constructor(options: QueueOptions) {
    this.#db = options.db;
    this.#logger = options.logger.child({ component: 'jobs' });
    this.#pollingIntervalSeconds = options.pollingIntervalSeconds ?? DEFAULT_POLLING_INTERVAL_SECONDS;
    this.#shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    this.#metrics = options.metrics;
    if (this.#pollingIntervalSeconds < 0.5) {
      throw new RangeError(`pollingIntervalSeconds must be at least 0.5, got ${this.#pollingIntervalSeconds}`);
    }
    const { db } = options;
    if (db.kind === 'pglite' && !db.pglite) {
      throw new RangeError('An embedded database must expose its PGlite instance');
    }
    if (db.kind === 'postgres' && !db.url) {
      throw new RangeError('A Postgres database must expose its connection string');
    }
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') throw new HearthError(`The job queue cannot start: it is ${this.#state}.`);
    this.#state = 'started';
    this.#boss = this.#startBoss();
    await this.#boss;
  }

  // pg-boss and its dependencies are some 180 modules: loaded when the queue starts, not by
  // every command that opens the database.
  async #startBoss(): Promise<PgBoss> {
    const { fromPglite, PgBoss } = await import('pg-boss');
    const db = this.#db;
    const boss =
      db.kind === 'pglite' && db.pglite
        ? new PgBoss({ db: fromPglite(db.pglite), backend: 'pglite', ...BOSS_OPTIONS })
        : new PgBoss({ connectionString: db.url, backend: 'postgres', ...BOSS_OPTIONS });
    // pg-boss is an EventEmitter: an 'error' without a listener would crash the process.
    boss.on('error', (error) => this.#logger.error({ err: error }, 'job queue error'));
    boss.on('warning', (warning) => this.#logger.warn({ warning: warning.data }, warning.message));
    await boss.start();
    return boss;
  }

  async register<T extends object>(type: JobType<T>): Promise<void> {
    const started = this.#started();
    if (!JOB_NAME.test(type.name)) {
      throw new RangeError(`Job name "${type.name}" must be lower-case words joined by dashes`);
    }
    this.#schemas.set(type.name, type.schema);
    const declared = this.#declare(started, type);
    this.#declared.set(type.name, declared);
    await declared;
  }

  async #declare<T extends object>(started: Promise<PgBoss>, type: JobType<T>): Promise<void> {
    const boss = await started;
    const retry = {
      retryLimit: type.retryLimit ?? 3,
      retryDelay: type.retryDelaySeconds ?? 5,
      retryBackoff: type.retryBackoff ?? true,
      expireInSeconds: type.expireInSeconds ?? 900,
      notify: true,
    };
    // Each create or update is two queries on the thread that also answers /readyz: a restart,
    // where every queue exists with the same settings, makes none (one read of them all instead).
    const existing = (await this.#existingQueues(boss)).get(type.name);
    if (!existing) await boss.createQueue(type.name, { ...retry, policy: type.policy ?? 'standard' });
    else if (RETRY_SETTINGS.some((key) => existing[key] !== retry[key])) await boss.updateQueue(type.name, retry);
    const { handler } = type;
    if (!handler) return;
    const polling = {
      pollingIntervalSeconds: this.#pollingIntervalSeconds,
      // Retries and delayed jobs send no notification: poll for them as often as without NOTIFY.
      notifyPollingIntervalSeconds: this.#pollingIntervalSeconds,
    };
    await boss.work<unknown>(type.name, { batchSize: 1, ...polling }, async (jobs) => {
      for (const job of jobs) {
        const parsed = type.schema.safeParse(job.data);
        const log = this.#logger.child({ job: { name: type.name, id: job.id, retryCount: job.retryCount } });
        log.debug('job started');
        try {
          if (!parsed.success) throw new ValidationError(`Job data is invalid: ${z.prettifyError(parsed.error)}`);
          await handler({ id: job.id, data: parsed.data, retryCount: job.retryCount, signal: job.signal });
        } catch (error) {
          this.#metrics?.jobFailed(type.name);
          const last = job.retryCount >= retry.retryLimit;
          log.warn({ err: error }, last ? 'job failed; no retries left' : 'job failed; it will be retried');
          throw error;
        }
        log.debug('job completed');
      }
    });
  }

  /** The queues that exist already, read once per start. */
  #existingQueues(boss: PgBoss) {
    this.#queues ??= boss.getQueues().then((queues) => new Map(queues.map((queue) => [queue.name, queue])));
    return this.#queues;
  }

  async send(input: SendInput): Promise<string | null> {
    const started = this.#started();
    const schema = this.#schemas.get(input.name);
    const declared = this.#declared.get(input.name);
    if (!schema || !declared) {
      throw new HearthError(`No job type "${input.name}" is registered: register it before sending.`);
    }
    const parsed = schema.safeParse(input.data);
    if (!parsed.success) {
      throw new ValidationError(`Invalid data for job "${input.name}": ${z.prettifyError(parsed.error)}`);
    }
    const boss = await started;
    await declared;
    return boss.send(input.name, parsed.data, {
      ...(input.singletonKey ? { singletonKey: input.singletonKey } : {}),
      ...(input.startAfterSeconds ? { startAfter: input.startAfterSeconds } : {}),
    });
  }

  async getJob(input: { name: string; id: string }): Promise<JobView | null> {
    const boss = await this.#started();
    const [job] = await boss.findJobs<unknown>(input.name, { id: input.id });
    if (!job) return null;
    const output = failureOutputSchema.safeParse(job.output);
    const failed = job.state === 'failed' || job.state === 'retry' || job.retryCount > 0;
    return {
      id: job.id,
      name: job.name,
      state: job.state,
      data: job.data,
      retryCount: job.retryCount,
      retryLimit: job.retryLimit,
      error: failed && output.success ? output.data.message : null,
      createdOn: job.createdOn,
      startedOn: job.startedOn ?? null,
      completedOn: job.completedOn ?? null,
    };
  }

  async depths(): Promise<QueueDepth[]> {
    await this.#started();
    // Counted now: pg-boss's own counts are refreshed by its monitor, up to a minute late.
    const rows = await this.#db.prisma.$queryRaw<{ name: string; queued: number; active: number }[]>`
      SELECT name,
             count(*) FILTER (WHERE state IN ('created', 'retry'))::int AS queued,
             count(*) FILTER (WHERE state = 'active')::int AS active
        FROM pgboss.job WHERE state IN ('created', 'retry', 'active') GROUP BY name ORDER BY name`;
    const counts = new Map(rows.map((row) => [row.name, row]));
    return [...this.#schemas.keys()].sort().map((queue) => ({
      queue,
      queued: counts.get(queue)?.queued ?? 0,
      active: counts.get(queue)?.active ?? 0,
    }));
  }

  async stop(options: { graceful?: boolean } = {}): Promise<void> {
    if (this.#state !== 'started' || !this.#boss) return;
    this.#state = 'stopped';
    // A queue that failed to start has nothing to stop.
    const boss = await this.#boss.catch(() => undefined);
    await boss?.stop({ graceful: options.graceful ?? true, timeout: this.#shutdownTimeoutMs });
  }

  /** pg-boss once started; throws at once when `start` was never called or the queue stopped. */
  #started(): Promise<PgBoss> {
    if (this.#state !== 'started' || !this.#boss) {
      throw new HearthError(`The job queue is ${this.#state === 'new' ? 'not started yet' : 'stopped'}.`);
    }
    return this.#boss;
  }
}
