/**
 * The composition root: everything a Hearth process is made of, built once from the
 * configuration — the database, the memory engine, the model provider, the job queue, and the
 * services above them. `hearth serve` and the CLI commands that need more than the database
 * start here, so there is one place that says how the parts fit.
 *
 * @example
 * const services = await openServices({ config, logger });
 * await services.start(); // migrations, then the job queue with its handlers
 * const { reply } = await services.conversations.send({ householdId, memberId, text: 'Hello' });
 * await services.close();
 */
import {
  Conversations,
  consolidationJob,
  idleConversationJob,
  type ModelProvider,
  modelProviderFromConfig,
} from './agent/index.js';
import type { Config } from './config/index.js';
import { applyMigrations, type Database, databaseTarget, openDatabase } from './db/index.js';
import { createQueue, type JobQueue } from './jobs/index.js';
import type { Logger } from './logger.js';
import {
  createEmbedder,
  createMemoryEngine,
  createMemoryEvents,
  embedderOptions,
  type MemoryEngine,
} from './memory/index.js';

export interface Services {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Database;
  readonly memory: MemoryEngine;
  readonly provider: ModelProvider;
  readonly queue: JobQueue;
  readonly conversations: Conversations;
  /** Applies pending migrations, then starts the job queue and its handlers; returns the migrations applied. */
  start(): Promise<string[]>;
  /** Stops the queue (running jobs finish or are retried later), the engine's listeners, then the database. */
  close(): Promise<void>;
}

/** Opens the database (failing fast when it cannot) and builds the services on it. */
export async function openServices({ config, logger }: { config: Config; logger: Logger }): Promise<Services> {
  const db = await openDatabase(databaseTarget(config));
  let memory: MemoryEngine | undefined;
  try {
    memory = createMemoryEngine({
      prisma: db.prisma,
      embedder: createEmbedder(embedderOptions(config)),
      // On Postgres, block changes reach the other instances' live calls through LISTEN/NOTIFY.
      events: await createMemoryEvents({ db, logger }),
      pressure: { warnTokens: config.HEARTH_MEMORY_WARN_TOKENS, evictTokens: config.HEARTH_MEMORY_EVICT_TOKENS },
      logger,
    });
    const provider = modelProviderFromConfig(config, logger);
    const queue = createQueue({ db, logger });
    const agent = { prisma: db.prisma, memory, provider, logger, maxSteps: config.HEARTH_AGENT_MAX_STEPS };
    const conversations = new Conversations({
      ...agent,
      queue,
      idleSeconds: config.HEARTH_CONVERSATION_IDLE_MINUTES * 60,
    });
    const engine = memory;
    let started = false;
    return {
      config,
      logger,
      db,
      memory,
      provider,
      queue,
      conversations,
      async start() {
        const applied = await applyMigrations(db);
        await queue.start();
        started = true;
        await queue.register(consolidationJob(agent));
        await queue.register(idleConversationJob(conversations));
        return applied;
      },
      async close() {
        if (started) await queue.stop();
        await engine.close();
        await db.close();
      },
    };
  } catch (error) {
    await memory?.close();
    await db.close();
    throw error;
  }
}
