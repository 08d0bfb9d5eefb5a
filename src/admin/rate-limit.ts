/**
 * Request limits for the admin API, in-process windows: per API key for authenticated requests
 * (express-rate-limit), and per client address and per key prefix for failed authentication.
 */
import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { RateLimitedError } from '../errors.js';
import { principalOf } from './auth.js';

const WINDOW_MS = 60_000;

function requirePositiveWhole(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive whole number, got ${value}`);
}

/** Middleware (after `requireApiKey`): beyond `limitPerMinute` requests a key gets 429 with `Retry-After`. */
export function rateLimitPerKey(options: { limitPerMinute: number }): RequestHandler {
  const { limitPerMinute } = options;
  requirePositiveWhole('rateLimitPerKey limitPerMinute', limitPerMinute);
  return rateLimit({
    windowMs: WINDOW_MS,
    limit: limitPerMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (req) => principalOf(req).keyId ?? 'system',
    handler(_req, res, next) {
      next(
        new RateLimitedError(
          `This API key made more than ${limitPerMinute} requests in a minute. Retry after ${res.getHeader('Retry-After')} s.`,
        ),
      );
    },
  });
}

/** Failures per subject (an address or a key prefix) in one-minute windows, in process. */
class FailureCounts {
  readonly #counts = new Map<string, { failures: number; resetAt: number }>();
  #sweepAt = 0;

  /** The subject's window, if it has failed in the current one. */
  get(subject: string, at: number): { failures: number; resetAt: number } | undefined {
    const entry = this.#counts.get(subject);
    return entry && entry.resetAt > at ? entry : undefined;
  }

  add(subject: string, at: number): { failures: number; resetAt: number } {
    // Expired windows are dropped once a window, so the map holds at most a minute of failures.
    if (at >= this.#sweepAt) {
      for (const [key, entry] of this.#counts) if (entry.resetAt <= at) this.#counts.delete(key);
      this.#sweepAt = at + WINDOW_MS;
    }
    const entry = this.get(subject, at) ?? { failures: 0, resetAt: at + WINDOW_MS };
    entry.failures += 1;
    this.#counts.set(subject, entry);
    return entry;
  }
}

/** What `requireApiKey` asks about failed authentication; see `limitFailedAuth`. */
export interface FailedAuthLimit {
  /** The 429 for a key prefix that already failed too often this minute; counts nothing. */
  refusalForPrefix(res: Response, prefix: string): RateLimitedError | undefined;
  /** Counts a failure against the address and the presented prefix; the 429 to answer once either is over. */
  recordFailure(req: Request, res: Response, prefix: string | undefined): RateLimitedError | undefined;
}

/**
 * Limits failed authentication, per client address (IPv6 by /56 subnet) and per presented key
 * prefix whatever the address, so a new `X-Forwarded-For` on each request does not reset the count.
 * Beyond `failuresPerMinute` failures, further *failures* are answered 429 with `Retry-After`
 * instead of 401. A valid key is not refused: the key is checked first, since checking costs one
 * digest (only a key still stored as scrypt is refused unchecked, once its prefix is over the limit).
 */
export function limitFailedAuth(options: { failuresPerMinute: number }): FailedAuthLimit {
  const { failuresPerMinute } = options;
  requirePositiveWhole('limitFailedAuth failuresPerMinute', failuresPerMinute);
  const now = Date.now;
  const counts = new FailureCounts();

  function refuse(res: Response, resetAt: number, at: number, who: string): RateLimitedError {
    const retryAfterSeconds = Math.max(1, Math.ceil((resetAt - at) / 1000));
    res.setHeader('Retry-After', String(retryAfterSeconds));
    return new RateLimitedError(
      `More than ${failuresPerMinute} requests ${who} failed authentication in a minute. ` +
        `Check the API key, then retry after ${retryAfterSeconds} s.`,
    );
  }

  return {
    refusalForPrefix(res, prefix) {
      const at = now();
      const entry = counts.get(`prefix ${prefix}`, at);
      return entry && entry.failures >= failuresPerMinute ? refuse(res, entry.resetAt, at, 'with this key') : undefined;
    },
    recordFailure(req, res, prefix) {
      const at = now();
      const address = ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown', 56);
      const byAddress = counts.add(`address ${address}`, at);
      const byPrefix = prefix === undefined ? undefined : counts.add(`prefix ${prefix}`, at);
      if (byPrefix && byPrefix.failures > failuresPerMinute) return refuse(res, byPrefix.resetAt, at, 'with this key');
      if (byAddress.failures > failuresPerMinute) return refuse(res, byAddress.resetAt, at, 'from this address');
      return undefined;
    },
  };
}
