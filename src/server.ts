/**
 * Composes Hearth's HTTP and WebSocket edges on one server: health and readiness, the
 * admin API under /v1 (with /v1/openapi.json and /docs), the Letta-compatible API beside it,
 * and the Twilio routes and media streams. The edges validate and call modules; no business logic lives here.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createAdminRouter } from './admin/index.js';
import type { TextChannel } from './calls/index.js';
import type { Config } from './config/index.js';
import type { Database } from './db/index.js';
import { UnavailableError } from './errors.js';
import { type EscalationDesk, escalationRoutes } from './escalation/index.js';
import type { MemoryHealth } from './health/index.js';
import { errorHandler, pathOf, requestLogging, unknownRoute } from './http.js';
import { createLettaRouter } from './letta/index.js';
import type { Logger } from './logger.js';
import { LOCAL_EMBEDDING_MODEL, type MemoryEngine } from './memory/index.js';
import type { Metrics } from './metrics.js';
import { twilioWebhookSettings } from './twilio-webhooks.js';
import { MEDIA_STREAM_PATH, type Voice } from './voice/index.js';

const READINESS_PING_TIMEOUT_MS = 2000;

export interface ServerOptions {
  config: Config;
  logger: Logger;
  db: Database;
  memory: MemoryEngine;
  /** The text channel the `/v1` messages routes talk to; without it they are not served. */
  conversations?: TextChannel;
  /** Phone calls: the `/twilio` routes and media streams; without it they are not served. */
  voice?: Voice;
  /** Escalation: SMS replies, paging keypresses and acknowledgement links; webhooks for admin changes. */
  escalation?: EscalationDesk;
  /** Memory health: the admin API runs probes on demand through it. */
  health?: MemoryHealth;
  /** Served at `/metrics` for Prometheus; without it there is no `/metrics`. */
  metrics?: Metrics;
}

export interface HearthServer {
  readonly app: express.Express;
  readonly httpServer: http.Server;
  /** Starts listening; resolves with the base URL (`http://host:port`). */
  listen(): Promise<string>;
  /** Marks the server ready (migrations applied) or not, with the reason shown by /readyz. */
  setReady(ready: true): void;
  setReady(ready: false, reason: string): void;
  /** Stops accepting, lets in-flight requests finish (up to the shutdown timeout), closes sockets. */
  close(): Promise<void>;
}

/** Builds the server around an opened database; it is not ready until `setReady(true)`. */
export function createServer(options: ServerOptions): HearthServer {
  const { config, logger, db, memory, conversations, voice, escalation, health, metrics } = options;
  let notReadyReason: string | undefined = 'applying database migrations';

  const app = express();
  app.disable('x-powered-by');
  if (config.HEARTH_TRUST_PROXY !== undefined) app.set('trust proxy', config.HEARTH_TRUST_PROXY);

  // Ahead of the request log: orchestrators poll it every few seconds, and its 503 while starting
  // is expected, not a failed request. What it answers is logged when the answer changes.
  let reportedReason: string | undefined;
  app.get('/readyz', async (_req, res) => {
    const reason = notReadyReason ?? (await databaseProblem(db));
    if (reason !== reportedReason) {
      if (reason === undefined) logger.info('readiness: ready');
      // Starting or stopping is the server's own doing; a database that stops answering is not.
      else if (reason === notReadyReason) logger.info({ reason }, 'readiness: not ready');
      else logger.warn({ reason }, 'readiness: not ready');
      reportedReason = reason;
    }
    if (reason) res.status(503).json({ status: 'unavailable', reason });
    else res.json({ status: 'ready' });
  });

  // Also ahead of the log: Prometheus scrapes it every few seconds. Keep it off the public proxy.
  if (metrics) {
    app.get('/metrics', async (_req, res) => {
      const { contentType, body } = await metrics.render();
      res.type(contentType).send(body);
    });
  }

  app.use(requestLogging(logger));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.use(function requireReady(_req, _res, next) {
    if (notReadyReason) throw new UnavailableError(`Hearth is not ready yet: ${notReadyReason}. Retry shortly.`);
    next();
  });
  if (voice) app.use(voice.router);
  if (escalation) {
    const twilio = twilioWebhookSettings(config);
    app.use(escalationRoutes({ desk: escalation, twilio, bodyLimitBytes: config.HEARTH_BODY_LIMIT_BYTES }));
  }
  const admin = createAdminRouter({
    prisma: db.prisma,
    memory,
    bodyLimitBytes: config.HEARTH_BODY_LIMIT_BYTES,
    rateLimitPerMinute: config.HEARTH_RATE_LIMIT_PER_MINUTE,
    authFailuresPerMinute: config.HEARTH_AUTH_FAILURES_PER_MINUTE,
    conversations,
    escalation,
    health,
  });
  app.use(admin.router);
  if (conversations) {
    app.use(
      createLettaRouter({
        prisma: db.prisma,
        access: admin.access,
        conversations,
        logger,
        embedding: config.OPENAI_API_KEY
          ? { model: config.HEARTH_EMBEDDING_MODEL, endpointType: 'openai' }
          : { model: LOCAL_EMBEDDING_MODEL, endpointType: 'local' },
        defaultModel: config.HEARTH_MODEL,
        contextWindow: config.HEARTH_MEMORY_EVICT_TOKENS,
      }),
    );
  }
  app.use(unknownRoute);
  app.use(errorHandler);

  const httpServer = http.createServer(app);
  httpServer.on('upgrade', (req, socket, head) => {
    if (voice && pathOf(req.url) === MEDIA_STREAM_PATH) {
      voice.handleUpgrade(req, socket, head);
      return;
    }
    // Refuse cleanly rather than leave the socket hanging.
    logger.warn({ path: pathOf(req.url) }, 'websocket upgrade to an unknown path');
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });

  return {
    app,
    httpServer,
    listen() {
      return new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.PORT, config.HOST, () => {
          httpServer.off('error', reject);
          const { port } = httpServer.address() as AddressInfo;
          const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
          resolve(`http://${host}:${port}`);
        });
      });
    },
    setReady(ready: boolean, reason?: string) {
      notReadyReason = ready ? undefined : (reason ?? 'not ready');
    },
    async close() {
      notReadyReason = 'shutting down';
      // Live calls end first, so their transcripts are saved while the database is still open.
      await voice?.close();
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      httpServer.closeIdleConnections();
      const timeout = setTimeout(() => {
        logger.warn('shutdown timeout reached; closing the connections still open');
        httpServer.closeAllConnections();
      }, config.HEARTH_SHUTDOWN_TIMEOUT_MS);
      await closed;
      clearTimeout(timeout);
    },
  };
}

async function databaseProblem(db: Database): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(
      () => resolve(`the database did not answer within ${READINESS_PING_TIMEOUT_MS} ms`),
      READINESS_PING_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([db.ping().then(() => undefined), timeout]);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}
