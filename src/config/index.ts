/**
 * Environment → typed configuration, validated with zod once at start-up. Every default
 * lives here; the README's configuration table mirrors `configSchema`.
 */
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const booleanFromString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
    HEARTH_DATA_DIR: z.string().min(1).default('./data'),
    HEARTH_DEMO_SEED: booleanFromString.default(true),
    HEARTH_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1_048_576),
    /** Admin API requests each key may make per minute (429 with Retry-After beyond). */
    HEARTH_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(600),
    /** Failed API-key attempts per minute, per client address and per key prefix, before failures get 429s. */
    HEARTH_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().positive().default(30),
    /**
     * Express's `trust proxy`: behind a reverse proxy, say how many hops (e.g. 1) or which
     * addresses to trust, so rate limits see the client's address rather than the proxy's.
     */
    HEARTH_TRUST_PROXY: z
      .string()
      .min(1)
      .transform((value): boolean | number | string => {
        if (value === 'true' || value === 'false') return value === 'true';
        return /^\d+$/.test(value) ? Number(value) : value;
      })
      .optional(),
    HEARTH_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
    LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
    /** Key for OpenAI or an OpenAI-compatible server; unset (and no base URL): no model provider. */
    OPENAI_API_KEY: z.string().min(1).optional(),
    /** Any OpenAI-compatible server, e.g. http://localhost:11434/v1; unset: api.openai.com. */
    OPENAI_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** Chat model the agent uses unless a household's agentSettings.model names another. */
    HEARTH_MODEL: z.string().min(1).default('gpt-4.1-mini'),
    HEARTH_MODEL_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
    /** Retries (exponential backoff) on 408/409/429/5xx, timeouts and connection errors. */
    HEARTH_MODEL_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
    /** A text conversation quiet this long is ended and consolidated, even if nobody ends it. */
    HEARTH_CONVERSATION_IDLE_MINUTES: z.coerce.number().positive().max(10_080).default(30),
    /** Model calls one agent turn may make before it ends with a message. */
    HEARTH_AGENT_MAX_STEPS: z.coerce.number().int().min(1).max(50).default(8),
    /**
     * The realtime speech model's WebSocket, e.g. ws://localhost:8080/v1/realtime; unset: derived
     * from OPENAI_BASE_URL (http→ws, https→wss, then /realtime).
     */
    OPENAI_REALTIME_URL: z.url({ protocol: /^wss?$/ }).optional(),
    /** Realtime speech model for phone calls unless a household's agentSettings.realtimeModel names another. */
    HEARTH_REALTIME_MODEL: z.string().min(1).default('gpt-realtime'),
    /** The voice the agent speaks with on calls unless a household's agentSettings.voice names another. */
    HEARTH_REALTIME_VOICE: z.string().min(1).default('marin'),
    /** The model that transcribes callers into recall. */
    HEARTH_TRANSCRIPTION_MODEL: z.string().min(1).default('gpt-4o-mini-transcribe'),
    /** The provider's cap on one realtime session (OpenAI: 60 minutes); a longer call rolls over to a new one before it. */
    HEARTH_REALTIME_SESSION_LIMIT_SECONDS: z.coerce.number().positive().max(86_400).default(3600),
    /** Calls a household may have at once unless its agentSettings.maxConcurrentCalls says otherwise. */
    HEARTH_MAX_CONCURRENT_CALLS: z.coerce.number().int().min(1).max(100).default(3),
    /** Signs and verifies Twilio's webhooks and Media Streams; unset: the /twilio routes answer 503. */
    TWILIO_AUTH_TOKEN: z.string().min(1).optional(),
    /** Pages on-call staff by SMS and voice call, with TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER. */
    TWILIO_ACCOUNT_SID: z
      .string()
      .regex(/^AC[0-9a-fA-F]{32}$/, 'must be AC followed by 32 hex digits (your Twilio account SID)')
      .optional(),
    /** The Twilio number pages come from (E.164); it must send SMS and place calls. */
    TWILIO_FROM_NUMBER: z
      .string()
      .regex(/^\+[1-9]\d{1,14}$/, 'must be a phone number in E.164 form, like +15551234567')
      .optional(),
    /** Another origin for Twilio's REST API (a local stand-in); unset: https://api.twilio.com. */
    TWILIO_API_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
    /**
     * Signs acknowledgement links and seals webhook secrets; every instance must share it. Unset on
     * the embedded database: generated once into HEARTH_DATA_DIR.
     */
    HEARTH_SECRET_KEY: z.string().min(32, 'must be at least 32 characters (e.g. openssl rand -base64 32)').optional(),
    /** How often job workers look for due jobs (paging timeouts, retries); new jobs start at once. */
    HEARTH_JOB_POLL_SECONDS: z.coerce.number().min(0.5).max(60).default(2),
    /** Embedding model used when OPENAI_API_KEY is set (asked for 512 dimensions); without a key the local model is used. */
    HEARTH_EMBEDDING_MODEL: z.string().min(1).default('text-embedding-3-small'),
    /** Estimated tokens of a session's live context past which the model is told to save what matters. */
    HEARTH_MEMORY_WARN_TOKENS: z.coerce.number().int().positive().default(20_000),
    /** Past this many, the oldest turns are summarized and dropped from the live context (must exceed the warning). */
    HEARTH_MEMORY_EVICT_TOKENS: z.coerce.number().int().positive().default(26_000),
  })
  .refine((config) => config.HEARTH_MEMORY_EVICT_TOKENS > config.HEARTH_MEMORY_WARN_TOKENS, {
    message: 'must be greater than HEARTH_MEMORY_WARN_TOKENS',
    path: ['HEARTH_MEMORY_EVICT_TOKENS'],
  });

export type Config = Omit<z.infer<typeof configSchema>, 'HEARTH_DATA_DIR' | 'LOG_FORMAT'> & {
  /** Absolute path of the embedded database's directory. */
  HEARTH_DATA_DIR: string;
  LOG_FORMAT: 'json' | 'pretty';
};

/** Reads the environment; a bad value throws a `ConfigError` that names the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set", as in most shells' `FOO= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const variable = issue.path.join('.');
      const value = env[variable];
      return `${variable}${value === undefined ? '' : `=${JSON.stringify(value)}`}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration. ${problems.join('; ')}`, {
      details: parsed.error.issues,
    });
  }
  const config = parsed.data;
  const isProduction = config.NODE_ENV === 'production';
  return {
    ...config,
    HEARTH_DATA_DIR: path.resolve(config.HEARTH_DATA_DIR),
    LOG_FORMAT: config.LOG_FORMAT ?? (process.stdout.isTTY && !isProduction ? 'pretty' : 'json'),
  };
}
