import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import {
  deliverWebhook,
  generateWebhookSecret,
  nextRetryDelayMs,
  WEBHOOK_MAX_ATTEMPTS,
  WEBHOOK_RETRY_DELAYS_MS,
  WEBHOOK_USER_AGENT,
  type WebhookPayload,
  webhookPayload,
} from '../../src/escalation/webhooks.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const HOUR_MS = 3_600_000;
const EVENT_AT = new Date('2025-03-01T22:14:05.250Z');
const payload: WebhookPayload = webhookPayload({
  type: 'escalation.created',
  data: { escalationId: '4f0c1d6e-5b7a-4c8e-9d21-3a6f8b2e7c10', severity: 'high', level: 1 },
  timestamp: EVENT_AT,
});

describe('deliverWebhook', () => {
  let secret: string;
  let receiver: WebhookReceiver;

  beforeEach(async () => {
    secret = generateWebhookSecret();
    receiver = await startWebhookReceiver({ secret });
  });
  afterEach(async () => {
    vi.useRealTimers();
    await receiver.close();
  });

  it('delivers a message that verifies at the receiver with the standardwebhooks package', async () => {
    const attempt = await deliverWebhook({ url: receiver.url, secret, messageId: 'msg_created_1', payload });

    expect(attempt).toMatchObject({ ok: true, status: 204, retryable: false });
    expect(attempt.error).toBeUndefined();
    expect(attempt.latencyMs).toBeGreaterThanOrEqual(0);
    expect(receiver.rejected).toEqual([]);
    expect(receiver.messages).toEqual([expect.objectContaining({ id: 'msg_created_1', payload, deliveries: 1 })]);
    // Checked here too, from the raw request, so the test does not rest on the stand-in alone.
    const [request] = receiver.requests;
    expect(new Webhook(secret).verify(request!.body, request!.headers)).toEqual(payload);
    expect(JSON.parse(request!.body)).toEqual({
      type: 'escalation.created',
      timestamp: '2025-03-01T22:14:05.250Z',
      data: payload.data,
    });
  });

  it('sends the Standard Webhooks headers; a retry keeps the id and is signed afresh at its own time', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2025-03-01T22:14:06Z'));
    await receiver.down();
    const first = await deliverWebhook({ url: receiver.url, secret, messageId: 'msg_stable', payload });
    vi.setSystemTime(Date.now() + nextRetryDelayMs(1, { random: () => 0 })!);
    await receiver.up();
    const second = await deliverWebhook({ url: receiver.url, secret, messageId: 'msg_stable', payload });

    expect([first.status, second.status]).toEqual([503, 204]);
    const [a, b] = receiver.requests.map((request) => request.headers);
    for (const headers of [a!, b!]) {
      expect(headers).toMatchObject({
        'content-type': 'application/json',
        'user-agent': WEBHOOK_USER_AGENT,
        'webhook-id': 'msg_stable',
      });
      expect(headers['user-agent']).toMatch(/^Hearth/);
      expect(headers['webhook-timestamp']).toMatch(/^\d+$/);
      expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    }
    expect(Number(a!['webhook-timestamp'])).toBe(Date.parse('2025-03-01T22:14:06Z') / 1000);
    expect(Number(b!['webhook-timestamp']) - Number(a!['webhook-timestamp'])).toBe(5);
    expect(b!['webhook-signature']).not.toBe(a!['webhook-signature']);
    // The event's own time is in the body and does not move with the attempts.
    expect(receiver.requests.map((request) => JSON.parse(request.body).timestamp)).toEqual([
      EVENT_AT.toISOString(),
      EVENT_AT.toISOString(),
    ]);
  });

  it('a receiver that answers 503 gets a retryable attempt; once up, the message arrives once', async () => {
    await receiver.down();
    const failed = await deliverWebhook({ url: receiver.url, secret, messageId: 'msg_outage', payload });

    expect(failed).toMatchObject({
      ok: false,
      status: 503,
      retryable: true,
      error: 'HTTP 503: {"error":"receiver is down"}',
    });
    expect(failed.latencyMs).toEqual(expect.any(Number));
    expect(failed.retryAfterMs).toBeUndefined();
    expect(receiver.messages).toEqual([]);

    await receiver.up();
    const delivered = await deliverWebhook({ url: receiver.url, secret, messageId: 'msg_outage', payload });

    expect(delivered).toMatchObject({ ok: true, status: 204, retryable: false });
    expect(receiver.requests.map((request) => request.status)).toEqual([503, 204]);
    expect(receiver.messages).toHaveLength(1);
    expect(receiver.messages[0]).toMatchObject({ id: 'msg_outage', deliveries: 1 });
  });

  it('a message sent again after it arrived is acknowledged and still counted once', async () => {
    await deliverWebhook({ url: receiver.url, secret, messageId: 'msg_twice', payload });
    const again = await deliverWebhook({ url: receiver.url, secret, messageId: 'msg_twice', payload });
    await deliverWebhook({ url: receiver.url, secret, messageId: 'msg_other', payload });

    expect(again.ok).toBe(true);
    expect(receiver.messages.map(({ id, deliveries }) => ({ id, deliveries }))).toEqual([
      { id: 'msg_twice', deliveries: 2 },
      { id: 'msg_other', deliveries: 1 },
    ]);
  });

  it('returns Retry-After in ms, given in seconds or as an HTTP date', async () => {
    await receiver.down({ status: 429, retryAfter: '120' });
    const inSeconds = await deliverWebhook({ url: receiver.url, secret, messageId: 'msg_throttled', payload });
    expect(inSeconds).toMatchObject({ ok: false, status: 429, retryable: true, retryAfterMs: 120_000 });

    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2025-03-01T22:15:00Z'));
    await receiver.down({ status: 503, retryAfter: 'Sat, 01 Mar 2025 22:16:30 GMT' });
    const asDate = await deliverWebhook({ url: receiver.url, secret, messageId: 'msg_throttled', payload });
    expect(asDate).toMatchObject({ status: 503, retryable: true, retryAfterMs: 90_000 });
    expect(nextRetryDelayMs(1, { random: () => 0, retryAfterMs: asDate.retryAfterMs })).toBe(90_000);
  });

  it('does not retry a 400, nor a redirect, but does retry a 408', async () => {
    await receiver.down({ status: 400 });
    const badRequest = await deliverWebhook({ url: receiver.url, secret, messageId: 'msg_400', payload });
    await receiver.down({ status: 301 });
    const moved = await deliverWebhook({ url: receiver.url, secret, messageId: 'msg_301', payload });
    await receiver.down({ status: 408 });
    const slow = await deliverWebhook({ url: receiver.url, secret, messageId: 'msg_408', payload });

    expect(badRequest).toMatchObject({ ok: false, status: 400, retryable: false });
    expect(moved).toMatchObject({ ok: false, status: 301, retryable: false });
    expect(slow).toMatchObject({ ok: false, status: 408, retryable: true });
  });

  it('a delivery signed with another secret is refused by the receiver: 403 "No matching signature found"', async () => {
    const attempt = await deliverWebhook({
      url: receiver.url,
      secret: generateWebhookSecret(),
      messageId: 'msg_wrong_key',
      payload,
    });

    expect(attempt).toMatchObject({
      ok: false,
      status: 403,
      retryable: false,
      error: 'HTTP 403: {"error":"No matching signature found"}',
    });
    expect(receiver.rejected).toEqual([{ id: 'msg_wrong_key', status: 403, reason: 'No matching signature found' }]);
    expect(receiver.messages).toEqual([]);
  });

  it('a refused connection is a retryable attempt with the network error and no status', async () => {
    await receiver.down({ refuse: true });
    const attempt = await deliverWebhook({ url: receiver.url, secret, messageId: 'msg_refused', payload });

    expect(attempt).toMatchObject({ ok: false, retryable: true });
    expect(attempt.status).toBeUndefined();
    expect(attempt.error).toMatch(/ECONNREFUSED/);
    expect(attempt.latencyMs).toEqual(expect.any(Number));

    await receiver.up();
    expect(await deliverWebhook({ url: receiver.url, secret, messageId: 'msg_refused', payload })).toMatchObject({
      ok: true,
    });
    expect(receiver.messages).toHaveLength(1);
  });

  it('a receiver that never answers times out, retryably', async () => {
    await receiver.down({ hang: true });
    const attempt = await deliverWebhook({
      url: receiver.url,
      secret,
      messageId: 'msg_hung',
      payload,
      timeoutMs: 50,
    });

    expect(attempt).toMatchObject({ ok: false, retryable: true, error: 'no answer within 50 ms' });
    expect(attempt.status).toBeUndefined();
    expect(attempt.latencyMs).toBeGreaterThanOrEqual(40);
  });

  it('refuses a bad url, secret, message id or timeout before sending anything', () => {
    const valid = { url: receiver.url, secret, messageId: 'msg_ok', payload };
    const refusals: [Partial<typeof valid> & { timeoutMs?: number }, string][] = [
      [{ url: 'ftp://hooks.example.org/hearth' }, 'url'],
      [{ url: 'javascript:alert(1)' }, 'url'],
      [{ url: 'not a url' }, 'url'],
      [{ url: 'https://user:pass@hooks.example.org/' }, 'url'],
      [{ secret: 'c2VjcmV0' }, 'secret'],
      [{ secret: 'whsec_c2VjcmV0' }, 'secret'], // 6 bytes: too short
      [{ secret: 'whsec_not base64!!' }, 'secret'],
      [{ messageId: 'msg.1' }, 'messageId'],
      [{ messageId: '' }, 'messageId'],
      [{ timeoutMs: 0 }, 'timeoutMs'],
      [{ timeoutMs: 60_000 }, 'timeoutMs'],
    ];
    for (const [change, field] of refusals) {
      let thrown: unknown;
      try {
        void deliverWebhook({ ...valid, ...change });
      } catch (error) {
        thrown = error;
      }
      expect(thrown, JSON.stringify(change)).toBeInstanceOf(ValidationError);
      expect((thrown as ValidationError).details).toEqual({ field });
      expect((thrown as ValidationError).message).toContain(`Webhook ${field} is invalid`);
    }
    const secretError = (() => {
      try {
        void deliverWebhook({ ...valid, secret: 'whsec_c2VjcmV0' });
      } catch (error) {
        return error as Error;
      }
    })();
    expect(secretError?.message).not.toContain('c2VjcmV0');
    expect(receiver.requests).toEqual([]);
  });
});

describe('nextRetryDelayMs', () => {
  it("follows the spec's schedule cut to about a day, increasing, then null", () => {
    const delays = Array.from({ length: WEBHOOK_MAX_ATTEMPTS }, (_, i) => nextRetryDelayMs(i + 1, { random: () => 0 }));

    expect(delays).toEqual([5_000, 5 * 60_000, 30 * 60_000, 2 * HOUR_MS, 5 * HOUR_MS, 8 * HOUR_MS, 9 * HOUR_MS, null]);
    const waits = delays.filter((delay) => delay !== null);
    for (let i = 1; i < waits.length; i++) expect(waits[i]).toBeGreaterThan(waits[i - 1]!);
    // About a day: the last attempt at 24:35:05 after the first.
    expect(waits.reduce((sum, delay) => sum + delay, 0)).toBe(24 * HOUR_MS + 35 * 60_000 + 5_000);
    expect(nextRetryDelayMs(WEBHOOK_MAX_ATTEMPTS + 5)).toBeNull();
  });

  it('adds up to 10 % jitter from the injected random function, and stays increasing at the extreme', () => {
    const most = WEBHOOK_RETRY_DELAYS_MS.map((_, i) => nextRetryDelayMs(i + 1, { random: () => 0.999_999 })!);

    expect(nextRetryDelayMs(1, { random: () => 0.5 })).toBe(5_250);
    most.forEach((delay, i) => {
      expect(delay).toBeGreaterThan(WEBHOOK_RETRY_DELAYS_MS[i]!);
      expect(delay).toBeLessThanOrEqual(WEBHOOK_RETRY_DELAYS_MS[i]! * 1.1);
      if (i > 0) expect(delay).toBeGreaterThan(most[i - 1]!);
    });
  });

  it("waits at least the receiver's Retry-After, and refuses an attempt count below 1", () => {
    expect(nextRetryDelayMs(1, { random: () => 0, retryAfterMs: 60_000 })).toBe(60_000);
    expect(nextRetryDelayMs(4, { random: () => 0, retryAfterMs: 60_000 })).toBe(2 * HOUR_MS);
    expect(() => nextRetryDelayMs(0)).toThrow(ValidationError);
    expect(() => nextRetryDelayMs(1.5)).toThrow(ValidationError);
  });
});

describe('generateWebhookSecret and webhookPayload', () => {
  it('makes distinct whsec_ secrets of 32 random bytes that the package accepts', () => {
    const secret = generateWebhookSecret();

    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(secret);
    const signature = new Webhook(secret).sign('msg_1', new Date(), '{}');
    expect(signature).toMatch(/^v1,/);
  });

  it('builds { type, timestamp, data } and refuses an unknown type or an invalid date', () => {
    expect(
      webhookPayload({ type: 'escalation.resolved', data: { escalationId: 'e1' }, timestamp: new Date(0) }),
    ).toEqual({ type: 'escalation.resolved', timestamp: '1970-01-01T00:00:00.000Z', data: { escalationId: 'e1' } });
    expect(() =>
      webhookPayload({ type: 'escalation.deleted' as 'escalation.created', data: {}, timestamp: new Date() }),
    ).toThrow(/Webhook payload type is invalid/);
    expect(() => webhookPayload({ type: 'escalation.created', data: {}, timestamp: new Date('nope') })).toThrow(
      ValidationError,
    );
  });
});
