/**
 * The composition root: everything a Hearth process is made of, built once from the
 * configuration — the database, the memory engine, the model provider, the job queue, the call
 * lifecycle and the text channel on it. `hearth serve` and the CLI commands that need more than the database
 * start here, so there is one place that says how the parts fit.
 *
 * @example
 * const services = await openServices({ config, logger });
 * await services.start(); // migrations, then the job queue with its handlers
 * const { reply } = await services.conversations.send({ householdId, memberId, text: 'Hello' });
 * await services.close();
 */
import {
  consolidationJob,
  enqueueUnconsolidated,
  lookupAccountTool,
  type ModelProvider,
  modelProviderFromConfig,
} from './agent/index.js';
import { CallLifecycle, idleCallJob, TextChannel } from './calls/index.js';
import type { Config } from './config/index.js';
import { applyMigrations, type Database, databaseTarget, openDatabase } from './db/index.js';
import { createEscalationDesk, createTwilioPager, type EscalationDesk, escalationContext } from './escalation/index.js';
import { createMemoryHealth, type MemoryHealth, PROBE_SWEEP_MS } from './health/index.js';
import { createQueue, type JobQueue } from './jobs/index.js';
import type { Logger } from './logger.js';
import {
  createEmbedder,
  createMemoryEngine,
  createMemoryEvents,
  embedderOptions,
  type MemoryEngine,
} from './memory/index.js';
import { Metrics } from './metrics.js';
import { createSecretBox, loadServerSecret } from './secrets.js';
import { createVoice, type Voice } from './voice/index.js';

/** How often the embedded database refreshes its planner statistics. */
const ANALYZE_EVERY_MS = 10 * 60_000;

export interface Services {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Database;
  readonly memory: MemoryEngine;
  readonly provider: ModelProvider;
  readonly queue: JobQueue;
  readonly calls: CallLifecycle;
  readonly conversations: TextChannel;
  /** Phone calls: Twilio's webhooks and media streams, bridged to the realtime model. */
  readonly voice: Voice;
  /** Escalation: the agent's `escalate` tool, paging, acknowledgements and webhooks. */
  readonly escalation: EscalationDesk;
  /** Memory health: probes run on schedule (and on demand), and the reports. */
  readonly health: MemoryHealth;
  /** What `/metrics` serves: calls, frames, model and tool latency, jobs, pages, memory pressure. */
  readonly metrics: Metrics;
  /** Applies pending migrations; returns the names of those applied. */
  migrate(): Promise<string[]>;
  /**
   * Starts the job queue with its handlers and queues any ended call still waiting for
   * consolidation. The job types are declared at once, so a job sent while the queue starts
   * waits for it. `maintenance` (for the long-running server) looks for due memory probes every
   * minute, and refreshes the embedded database's planner statistics now and every ten minutes.
   */
  startJobs(options?: { maintenance?: boolean }): Promise<void>;
  /** `migrate`, then, unless `jobs` is false (a command that needs only the database and memory), `startJobs`. */
  start(options?: { jobs?: boolean }): Promise<string[]>;
  /** Stops the queue (running jobs finish or are retried later), the engine's listeners, then the database. */
  close(): Promise<void>;
}

/** Opens the database (failing fast when it cannot) and builds the services on it. */
export async function openServices({ config, logger }: { config: Config; logger: Logger }): Promise<Services> {
  const db = await openDatabase(databaseTarget(config));
  let events: Awaited<ReturnType<typeof createMemoryEvents>>;
  try {
    // On Postgres, block changes reach the other instances' live calls through LISTEN/NOTIFY.
    events = await createMemoryEvents({ db, logger });
  } catch (error) {
    await db.close();
    throw error;
  }
  const memory = createMemoryEngine({
    prisma: db.prisma,
    embedder: createEmbedder(embedderOptions(config)),
    events,
    pressure: { warnTokens: config.HEARTH_MEMORY_WARN_TOKENS, evictTokens: config.HEARTH_MEMORY_EVICT_TOKENS },
    logger,
  });
  const provider = modelProviderFromConfig(config, logger);
  const metrics = new Metrics();
  const queue = createQueue({ db, logger, metrics, pollingIntervalSeconds: config.HEARTH_JOB_POLL_SECONDS });
  const escalation = createEscalationDesk({
    prisma: db.prisma,
    memory,
    queue,
    logger,
    pager: twilioPager(config, logger),
    publicUrl: config.PUBLIC_URL,
    secret: serverSecret(config),
    metrics,
  });
  // Every call and conversation of a household knows its escalation rule and recent episodes, and can escalate.
  const extraContext = (scope: { householdId: string }) =>
    escalationContext(db.prisma, { householdId: scope.householdId });
  const extraTools = [escalation.tool, lookupAccountTool(db.prisma)];
  const agent = { prisma: db.prisma, memory, provider, logger, metrics, maxSteps: config.HEARTH_AGENT_MAX_STEPS };
  const calls = new CallLifecycle({
    prisma: db.prisma,
    memory,
    queue,
    logger,
    idleSeconds: config.HEARTH_CONVERSATION_IDLE_MINUTES * 60,
  });
  const conversations = new TextChannel({ ...agent, calls, extraContext, extraTools });
  // A probe asks through the same loop and context as a conversation, without the escalate tool.
  const health = createMemoryHealth({
    ...agent,
    queue,
    extraContext,
    dispatchWebhooks: (ids) => escalation.dispatchWebhooks(ids),
  });
  const voice = createVoice({
    config,
    prisma: db.prisma,
    calls,
    memory,
    provider,
    logger,
    metrics,
    extraContext,
    extraTools,
  });
  metrics.watchCalls(() => voice.stats);
  metrics.watchQueues(() => queue.depths());
  let maintenance: NodeJS.Timeout | undefined;
  let probeSweep: NodeJS.Timeout | undefined;
  let analyzing: Promise<unknown> = Promise.resolve();
  const migrate = () => applyMigrations(db);
  const startJobs = async ({ maintenance: maintain = false } = {}) => {
    await Promise.all([
      queue.start(),
      queue.register(consolidationJob(agent)),
      queue.register(idleCallJob(calls)),
      escalation.registerJobs(),
      health.registerJobs(),
    ]);
    const waiting = await enqueueUnconsolidated({ prisma: db.prisma, queue });
    if (waiting > 0) logger.info({ calls: waiting }, 'queued consolidation of ended calls that had none');
    await escalation.recover();
    if (maintain) {
      const sweep = () => {
        health.sweep().catch((error: unknown) => logger.warn({ err: error }, 'memory probe sweep failed'));
      };
      sweep();
      probeSweep = setInterval(sweep, PROBE_SWEEP_MS).unref();
    }
    if (maintain && db.kind === 'pglite') {
      // PGlite has no autovacuum: without fresh statistics the planner skips the vector
      // indexes and scans every message (measured: recall search 3x slower; npm run bench).
      // Not awaited: statistics persist in the data directory, so start-up need not wait for new ones.
      const analyze = () => {
        analyzing = db.prisma.$executeRaw`ANALYZE`.catch((error: unknown) =>
          logger.warn({ err: error }, 'ANALYZE failed'),
        );
      };
      analyze();
      maintenance = setInterval(analyze, ANALYZE_EVERY_MS).unref();
    }
  };
  return {
    config,
    logger,
    db,
    memory,
    provider,
    queue,
    calls,
    conversations,
    voice,
    escalation,
    health,
    metrics,
    migrate,
    startJobs,
    async start({ jobs = true } = {}) {
      const applied = await migrate();
      if (jobs) await startJobs();
      return applied;
    },
    async close() {
      clearInterval(maintenance);
      clearInterval(probeSweep);
      await analyzing;
      try {
        await queue.stop();
      } finally {
        try {
          await memory.close();
        } finally {
          await db.close();
        }
      }
    },
  };
}

/** Twilio's REST API for pages, once the account, its token and a number to page from are set. */
function twilioPager(config: Config, logger: Logger) {
  const { TWILIO_ACCOUNT_SID: accountSid, TWILIO_AUTH_TOKEN: authToken, TWILIO_FROM_NUMBER: from } = config;
  if (!accountSid || !authToken || !from) return undefined;
  return createTwilioPager({ accountSid, authToken, from, apiBaseUrl: config.TWILIO_API_BASE_URL, logger });
}

/** HEARTH_SECRET_KEY (or, embedded, the key kept in the data directory) and the box it seals with. */
function serverSecret(config: Config) {
  const key = loadServerSecret({
    configured: config.HEARTH_SECRET_KEY,
    dataDir: config.HEARTH_DATA_DIR,
    embedded: !config.DATABASE_URL,
  });
  return key ? { key, box: createSecretBox(key) } : undefined;
}
