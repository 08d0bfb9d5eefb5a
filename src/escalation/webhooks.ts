/**
 * Signed webhook deliveries for escalation events, following Standard Webhooks
 * (https://github.com/standard-webhooks/standard-webhooks, spec/standard-webhooks.md): a JSON
 * `{ type, timestamp, data }` body POSTed with `webhook-id`, `webhook-timestamp` and
 * `webhook-signature` (`v1,<base64 HMAC-SHA256>` over `id.timestamp.body`, made by the
 * `standardwebhooks` package). This module makes one attempt and says whether and when to try
 * again; the durable job that calls it keeps the message id, the delivery log and the schedule.
 *
 * @example
 * const secret = generateWebhookSecret(); // stored per endpoint, shown to the receiver once
 * const payload = webhookPayload({ type: 'escalation.created', data: { escalationId }, timestamp: createdAt });
 * const attempt = await deliverWebhook({ url: endpoint.url, secret, messageId: `msg_${escalationId}_created`, payload });
 * if (!attempt.ok && attempt.retryable) {
 *   const delayMs = nextRetryDelayMs(attemptsSoFar, { retryAfterMs: attempt.retryAfterMs });
 *   // null: give up, mark the message failed, tell the organization by another channel
 * }
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import { UnavailableError, ValidationError } from '../errors.js';
import type { SecretBox } from '../secrets.js';

/** The events an organization's endpoints can receive. */
export const WEBHOOK_EVENT_TYPES = [
  'escalation.created',
  'escalation.acknowledged',
  'escalation.level_exhausted',
  'escalation.resolved',
  /** A memory probe failed twice in a row (src/health). */
  'memory.probe_failed',
] as const;

/** Random bytes in a generated secret; the spec allows 24 to 64. */
export const WEBHOOK_SECRET_BYTES = 32;
const MIN_WEBHOOK_SECRET_BYTES = 24;
const MAX_WEBHOOK_SECRET_BYTES = 64;
const WEBHOOK_SECRET_PREFIX = 'whsec_';
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// The signed content is `id.timestamp.body`, so the spec forbids `.` in the id; it is also a header value.
const MESSAGE_ID_PATTERN = /^[A-Za-z0-9_-]{1,256}$/;

/** The spec recommends a request timeout between 15 and 30 s. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 15_000;
const MAX_WEBHOOK_TIMEOUT_MS = 30_000;
/** Sent as `user-agent`, so a receiver's logs name the sender. */
export const WEBHOOK_USER_AGENT = 'Hearth-Webhooks/1.0';
// Enough of an error body to say why in the delivery log, without storing a receiver's whole page.
const MAX_ERROR_EXCERPT_BYTES = 512;
const MAX_ERROR_EXCERPT_CHARS = 200;

/**
 * Waits between attempts: the spec's example schedule ("Deliverability and reliability") cut to
 * about a day (8 attempts, the last at +24 h 35 min 5 s). The spec's runs three days; an
 * escalation older than a day is history, and its receiver learns of it from the resolution.
 */
export const WEBHOOK_RETRY_DELAYS_MS = [
  5_000, // 5 s
  5 * 60_000, // 5 min
  30 * 60_000, // 30 min
  2 * 3_600_000, // 2 h
  5 * 3_600_000, // 5 h
  8 * 3_600_000, // 8 h
  9 * 3_600_000, // 9 h
] as const;
/** Attempts in all: the first one plus one per delay. */
export const WEBHOOK_MAX_ATTEMPTS = WEBHOOK_RETRY_DELAYS_MS.length + 1;
/** Jitter only lengthens a delay, by up to this fraction, so no retry comes earlier than the schedule says. */
export const WEBHOOK_RETRY_JITTER_RATIO = 0.1;
// A receiver's Retry-After is honoured up to the longest step of the schedule; a year would park the message.
const MAX_RETRY_AFTER_MS = 9 * 3_600_000;

/** A page sent to one person's own webhook (an on-call member's `webhookUrl`), not to the organization's endpoints. */
export const PAGE_EVENT_TYPE = 'escalation.page';

/** One of `WEBHOOK_EVENT_TYPES`, or `PAGE_EVENT_TYPE`. */
export const webhookEventTypeSchema = z.enum([...WEBHOOK_EVENT_TYPES, PAGE_EVENT_TYPE]);
/** An event an organization's endpoint can subscribe to. */
export const endpointEventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES);
/** An event name, e.g. `escalation.created`. */
export type WebhookEventType = z.infer<typeof webhookEventTypeSchema>;

/** The body Standard Webhooks recommends; `timestamp` is when the event happened, not the attempt. */
export const webhookPayloadSchema = z.object({
  type: webhookEventTypeSchema.describe('Full-stop delimited event type'),
  timestamp: z.iso.datetime().describe('When the event occurred (ISO 8601), the same on every retry'),
  data: z.record(z.string(), z.unknown()).describe('The event data; keep it thin (ids), the spec suggests < 20 kB'),
});
/** A webhook body, as sent and as a receiver parses it. */
export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;

/** An endpoint URL: http or https, without credentials (fetch refuses those, and they would end up in logs). */
export const webhookUrlSchema = z
  .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
  // zod runs this even when the format check failed, hence canParse.
  .refine((url) => {
    if (!URL.canParse(url)) return true;
    const parsed = new URL(url);
    return parsed.username === '' && parsed.password === '';
  }, 'must not contain a user name or password');

/** A signing secret: `whsec_` and the base64 of 24 to 64 random bytes. */
export const webhookSecretSchema = z.string().refine((secret) => {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) return false;
  const encoded = secret.slice(WEBHOOK_SECRET_PREFIX.length);
  if (!BASE64_PATTERN.test(encoded)) return false;
  const bytes = Buffer.from(encoded, 'base64').length;
  return bytes >= MIN_WEBHOOK_SECRET_BYTES && bytes <= MAX_WEBHOOK_SECRET_BYTES;
}, `must be "${WEBHOOK_SECRET_PREFIX}" followed by the base64 of ${MIN_WEBHOOK_SECRET_BYTES} to ${MAX_WEBHOOK_SECRET_BYTES} bytes`);

const messageIdSchema = z.string().regex(MESSAGE_ID_PATTERN, 'must be 1 to 256 of A-Z, a-z, 0-9, "_" and "-"');
const timeoutMsSchema = z.number().int().min(1).max(MAX_WEBHOOK_TIMEOUT_MS);

/** What one delivery attempt came to; the job stores it in the delivery log. */
export interface WebhookAttempt {
  /** The receiver answered 2xx. */
  ok: boolean;
  /** The receiver's status; absent when no answer came (refused, reset, timed out). */
  status?: number;
  /** From sending the request to the response headers, or to the failure. */
  latencyMs: number;
  /** Why it failed: the network error, or the status and the start of the answer's body. */
  error?: string;
  /** Worth trying again later (408, 429, 5xx, network errors and timeouts). */
  retryable: boolean;
  /** The receiver's `Retry-After`, in ms from now (capped at 9 h, the schedule's longest wait); pass it to `nextRetryDelayMs`. */
  retryAfterMs?: number;
}

/** What `deliverWebhook` needs for one attempt. */
export interface DeliverWebhookInput {
  /** The endpoint, http or https. */
  url: string;
  /** The endpoint's `whsec_…` secret. */
  secret: string;
  /** The message's id, the same on every retry so receivers can drop duplicates (`[A-Za-z0-9_-]`, no `.`). */
  messageId: string;
  /** Built with `webhookPayload`. */
  payload: WebhookPayload;
  /** Default `DEFAULT_WEBHOOK_TIMEOUT_MS` (15 s); at most 30 s. */
  timeoutMs?: number;
}

/** Options for `nextRetryDelayMs`. */
export interface RetryDelayOptions {
  /** A number in [0, 1) for the jitter; default `Math.random`. Tests pass a constant. */
  random?: () => number;
  /** The last attempt's `retryAfterMs`: the next attempt waits at least that long. */
  retryAfterMs?: number | undefined;
}

/** A new signing secret for an endpoint: `whsec_` and the base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(WEBHOOK_SECRET_BYTES).toString('base64')}`;
}

/** A new secret and its sealed form for storage; 503 when the server has no key to seal it with. */
export function newSealedWebhookSecret(box: SecretBox | undefined): { secret: string; sealed: string } {
  if (!box) {
    throw new UnavailableError('This server has no secret key to seal webhook secrets with: set HEARTH_SECRET_KEY.');
  }
  const secret = generateWebhookSecret();
  return { secret, sealed: box.seal(secret) };
}

/** The body for an event; throws `ValidationError` for an unknown type or an invalid date. */
export function webhookPayload(input: {
  type: WebhookEventType;
  data: Record<string, unknown>;
  timestamp: Date;
}): WebhookPayload {
  if (!(input.timestamp instanceof Date) || Number.isNaN(input.timestamp.getTime())) {
    throw new ValidationError('Webhook payload timestamp must be a valid Date', { details: { field: 'timestamp' } });
  }
  const parsed = webhookPayloadSchema.safeParse({
    type: input.type,
    timestamp: input.timestamp.toISOString(),
    data: input.data,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'payload';
    throw new ValidationError(`Webhook payload ${field} is invalid: ${issue?.message}`, { details: { field } });
  }
  return parsed.data;
}

/**
 * Makes one signed delivery attempt. Bad input (url, secret, id, timeout, a payload that is not
 * JSON) throws `ValidationError` at once; whatever the receiver or the network does resolves to a
 * `WebhookAttempt`, never a rejection.
 */
export function deliverWebhook(input: DeliverWebhookInput): Promise<WebhookAttempt> {
  const url = check(webhookUrlSchema, input.url, 'url');
  const secret = check(webhookSecretSchema, input.secret, 'secret');
  const messageId = check(messageIdSchema, input.messageId, 'messageId');
  const timeoutMs = check(timeoutMsSchema, input.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS, 'timeoutMs');
  let body: string;
  try {
    body = JSON.stringify(check(webhookPayloadSchema, input.payload, 'payload'));
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError('Webhook payload cannot be serialized as JSON', {
      details: { field: 'payload' },
      cause: error,
    });
  }
  // The attempt's own time (the spec's replay guard), not the event's: a retry is signed afresh.
  const attemptedAt = new Date();
  const headers = {
    'content-type': 'application/json',
    'user-agent': WEBHOOK_USER_AGENT,
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(attemptedAt.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(messageId, attemptedAt, body),
  };
  return attempt(url, headers, body, timeoutMs);
}

/**
 * How long to wait before the next attempt, given how many attempts have been made (1 after the
 * first failure), or `null` once `WEBHOOK_MAX_ATTEMPTS` have been made. The delay is the spec's
 * schedule plus up to 10 % jitter, and never shorter than the receiver's `Retry-After`.
 */
export function nextRetryDelayMs(attempt: number, options: RetryDelayOptions = {}): number | null {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new ValidationError('attempt counts the attempts made so far: a whole number from 1', {
      details: { field: 'attempt' },
    });
  }
  const base = WEBHOOK_RETRY_DELAYS_MS[attempt - 1];
  if (base === undefined) return null;
  const random = Math.min(Math.max((options.random ?? Math.random)(), 0), 1);
  const delayMs = Math.round(base * (1 + WEBHOOK_RETRY_JITTER_RATIO * random));
  return Math.max(delayMs, options.retryAfterMs ?? 0);
}

function check<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = [field, ...(issue?.path ?? [])].join('.');
  // The message names the field, never the value: a URL may carry a token, and a secret is a secret.
  throw new ValidationError(`Webhook ${where} is invalid: ${issue?.message ?? 'unreadable'}`, {
    details: { field: where },
  });
}

async function attempt(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<WebhookAttempt> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    // Redirects are not followed: the spec counts a 3xx as a failure (the endpoint's URL should be
    // updated), and following one would let a receiver point Hearth at an internal address.
    response = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal });
  } catch (error) {
    return { ok: false, latencyMs: elapsed(), error: describeNetworkError(error, timeoutMs), retryable: true };
  }
  const latencyMs = elapsed();
  const { status } = response;
  if (status >= 200 && status < 300) {
    await response.body?.cancel().catch(() => undefined);
    return { ok: true, status, latencyMs, retryable: false };
  }
  const excerpt = await readExcerpt(response);
  const result: WebhookAttempt = {
    ok: false,
    status,
    latencyMs,
    error: excerpt ? `HTTP ${status}: ${excerpt}` : `HTTP ${status}`,
    retryable: isRetryableStatus(status),
  };
  const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'));
  if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs;
  return result;
}

/**
 * 408, 429 and 5xx are the receiver's passing trouble; any other status (3xx, 4xx) will come back
 * the same on a retry. 410 Gone is the receiver saying it wants no more webhooks: the spec says
 * to disable the endpoint, which is the job's call (it owns the endpoint row), not this module's.
 */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** `Retry-After` as delta-seconds or an HTTP date, in ms from now, capped; `undefined` if absent or unreadable. */
function parseRetryAfterMs(value: string | null): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - Date.now();
  if (Number.isNaN(ms)) return undefined;
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

function describeNetworkError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  // fetch says only "fetch failed"; the cause has the useful part, e.g. "connect ECONNREFUSED 127.0.0.1:4000".
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** The start of an error answer's body on one line, read only as far as the excerpt needs. */
async function readExcerpt(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_ERROR_EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body cut off (or timed out) part-way: the status alone still says what happened.
  } finally {
    reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks).toString('utf8').replace(/\s+/g, ' ').trim();
  return text.length > MAX_ERROR_EXCERPT_CHARS ? `${text.slice(0, MAX_ERROR_EXCERPT_CHARS)}…` : text;
}
