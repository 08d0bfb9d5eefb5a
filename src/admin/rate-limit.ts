/**
 * Request limits for the admin API (express-rate-limit, in-process windows): per API key for
 * authenticated requests, and per client address for failed authentication.
 */
import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
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

/**
 * Middleware (before `requireApiKey`): once a client address has failed authentication
 * `failuresPerMinute` times, its requests get 429 with `Retry-After` until the minute is over.
 * Only 401s count, and the address is refused before any key is hashed, so guessing keys
 * costs neither tries nor CPU.
 */
export function limitFailedAuth(options: { failuresPerMinute: number }): RequestHandler {
  const { failuresPerMinute } = options;
  requirePositiveWhole('limitFailedAuth failuresPerMinute', failuresPerMinute);
  return rateLimit({
    windowMs: WINDOW_MS,
    limit: failuresPerMinute,
    // Keyed by req.ip (IPv6 by /56 subnet). Every request is counted, then given back unless it was a 401.
    skipSuccessfulRequests: true,
    requestWasSuccessful: (_req, res) => res.statusCode !== 401,
    // Authenticated responses carry the per-key limiter's headers, which overwrite these.
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler(_req, res, next) {
      next(
        new RateLimitedError(
          `More than ${failuresPerMinute} requests from this address failed authentication in a minute. ` +
            `Check the API key, then retry after ${res.getHeader('Retry-After')} s.`,
        ),
      );
    },
  });
}
