/**
 * `hearth serve`: open the database, listen, migrate, seed a demo on a first embedded start, turn
 * ready and start the job queue, then serve until SIGTERM or SIGINT, and shut down gracefully.
 */

import { describeDemo, seedDemo } from './admin/index.js';
import type { Config } from './config/index.js';
import { databaseTarget, describeUrl } from './db/index.js';
import type { Logger } from './logger.js';
import { createServer } from './server.js';
import { openServices } from './services.js';

/** Runs the server; resolves once it has shut down after a signal. */
export async function serve(config: Config, logger: Logger): Promise<void> {
  const target = databaseTarget(config);
  logger.info(
    { database: target.kind === 'postgres' ? describeUrl(target.url) : config.HEARTH_DATA_DIR },
    target.kind === 'postgres' ? 'connecting to Postgres' : 'opening the embedded database',
  );
  const services = await openServices({ config, logger });
  const { db, memory, conversations, voice, escalation, health, metrics } = services;
  const server = createServer({ config, logger, db, memory, conversations, voice, escalation, health, metrics });
  const shutDown = async () => {
    await server.close();
    await services.close();
  };
  let baseUrl: string;
  try {
    baseUrl = await server.listen();
  } catch (error) {
    await services.close();
    throw error;
  }
  logger.info({ url: baseUrl }, 'listening');

  let startup: Promise<unknown> = Promise.resolve();
  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    const stop = async (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down: finishing in-flight requests');
      // Let migrations finish rather than close the database under them.
      await startup.catch(() => {});
      try {
        await shutDown();
        logger.info('stopped');
      } catch (error) {
        logger.error({ err: error }, 'shutdown did not complete cleanly');
      } finally {
        resolve();
      }
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });

  startup = (async () => {
    const applied = await services.migrate();
    if (applied.length > 0) logger.info({ migrations: applied }, 'applied migrations');
    if (db.kind === 'pglite' && config.HEARTH_DEMO_SEED && (await db.prisma.organization.count()) === 0) {
      const seed = await seedDemo({ prisma: db.prisma, memory });
      // stdout, not the log: the key must reach the person who started the server, once.
      process.stdout.write(`\n${describeDemo(seed, baseUrl)}\n\n`);
    }
  })();
  try {
    await startup;
  } catch (error) {
    await shutDown();
    throw error;
  }
  if (!services.provider.configured) {
    logger.warn('no model provider configured: set OPENAI_API_KEY (or OPENAI_BASE_URL) for the agent to answer');
  }
  if (!config.PUBLIC_URL || !config.TWILIO_AUTH_TOKEN) {
    logger.info('phone calls are off: set PUBLIC_URL and TWILIO_AUTH_TOKEN to take them (README: Phone calls)');
  }
  // Requests need the schema, not the job workers: the server answers while the queue starts
  // (measured: 0.6 s of start-up, `npm run bench -- startup`), and a job sent meanwhile waits for it.
  startup = services.startJobs({ maintenance: true });
  server.setReady(true);
  logger.info('ready');
  try {
    await startup;
  } catch (error) {
    logger.error({ err: error }, 'the job queue did not start; shutting down');
    await shutDown();
    throw error;
  }
  await stopped;
}
