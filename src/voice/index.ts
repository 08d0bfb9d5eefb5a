/**
 * Phone calls (DESIGN.md §5): Twilio's incoming-call webhook answers `<Connect><Stream>`, the
 * media stream arrives at `/twilio/media`, and each call is bridged to the realtime speech model
 * with the household's memory live in it. A call enters at `routes.ts` (the webhook), is started
 * by `incoming-call.ts` through the call lifecycle, attaches its stream in `media-streams.ts`, and
 * runs in `voice-call.ts`, which writes its transcript to recall and ends it in the lifecycle.
 *
 * @example
 * const voice = createVoice({ config, prisma: db.prisma, calls, memory, provider, logger });
 * app.use(voice.router); // POST /twilio/voice, POST /twilio/status
 * httpServer.on('upgrade', (req, socket, head) => voice.handleUpgrade(req, socket, head)); // /twilio/media
 * await voice.close(); // on shutdown: ends live calls, saving their transcripts
 */

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type express from 'express';
import { type AgentTool, createSummarizer, type ExtraContext, type ModelProvider } from '../agent/index.js';
import type { CallLifecycle } from '../calls/index.js';
import type { Config } from '../config/index.js';
import type { PrismaClient } from '../db/index.js';
import type { Logger } from '../logger.js';
import type { MemoryEngine } from '../memory/index.js';
import type { CallStats, Metrics } from '../metrics.js';
import { twilioWebhookSettings } from '../twilio-webhooks.js';
import { answerIncomingCall } from './incoming-call.js';
import { MediaStreams } from './media-streams.js';
import { OpenAIRealtimeWebSocket, realtimeUrl } from './openai-realtime.js';
import { twilioRoutes } from './routes.js';

export { MEDIA_STREAM_PATH } from './routes.js';
export type { RealtimeTransport } from './transport.js';

export interface Voice {
  /** `POST /twilio/voice` and `POST /twilio/status`. */
  readonly router: express.Router;
  /** Takes a WebSocket upgrade to `MEDIA_STREAM_PATH`. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Calls live in this process, and the media frames in, out and dropped of every stream it has taken. */
  readonly stats: CallStats;
  /** Ends every live call, saving its transcript and queueing its consolidation. */
  close(): Promise<void>;
}

/** Builds the voice edge from the configuration. */
export function createVoice(deps: {
  config: Config;
  prisma: PrismaClient;
  calls: CallLifecycle;
  memory: MemoryEngine;
  /** The chat model, which summarises a long call's oldest turns. */
  provider: ModelProvider;
  /** The agent's tools beyond memory and `end_call` (the seam for `escalate`). */
  extraTools?: AgentTool[];
  /** Context beyond memory (the household's escalations). */
  extraContext?: ExtraContext;
  logger: Logger;
  metrics?: Metrics;
}): Voice {
  const { config, prisma, calls, memory, logger } = deps;
  const twilio = twilioWebhookSettings(config);
  const defaults = {
    realtimeModel: config.HEARTH_REALTIME_MODEL,
    voice: config.HEARTH_REALTIME_VOICE,
    maxConcurrentCalls: config.HEARTH_MAX_CONCURRENT_CALLS,
  };
  const streams = new MediaStreams({
    prisma,
    calls,
    memory,
    logger,
    twilio,
    defaults,
    summarizer: createSummarizer({ provider: deps.provider, model: config.HEARTH_MODEL }),
    extraTools: deps.extraTools,
    extraContext: deps.extraContext,
    metrics: deps.metrics,
    realtime: {
      url: (model) => realtimeUrl({ baseUrl: config.OPENAI_BASE_URL, realtimeUrl: config.OPENAI_REALTIME_URL, model }),
      apiKey: config.OPENAI_API_KEY,
      transcriptionModel: config.HEARTH_TRANSCRIPTION_MODEL,
      sessionLimitMs: config.HEARTH_REALTIME_SESSION_LIMIT_SECONDS * 1000,
      createTransport: () => new OpenAIRealtimeWebSocket(),
    },
  });
  const router = twilioRoutes({
    twilio,
    answer: (incoming) => answerIncomingCall({ prisma, calls, logger, defaults }, incoming),
    endCall: (callSid) => streams.endByCallSid(callSid),
  });
  return {
    router,
    handleUpgrade: (request, socket, head) => streams.handleUpgrade(request, socket, head),
    get stats() {
      return streams.stats;
    },
    close: () => streams.close(),
  };
}
