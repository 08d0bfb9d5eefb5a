/** Per-key request limits for the admin API (express-rate-limit, in-process window). */
import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { RateLimitedError } from '../errors.js';
import { principalOf } from './auth.js';

const WINDOW_MS = 60_000;

/** Middleware (after `requireApiKey`): beyond `limitPerMinute` requests a key gets 429 with `Retry-After`. */
export function rateLimitPerKey(options: { limitPerMinute: number }): RequestHandler {
  const { limitPerMinute } = options;
  if (!Number.isInteger(limitPerMinute) || limitPerMinute < 1) {
    throw new RangeError(`rateLimitPerKey needs a positive whole limitPerMinute, got ${limitPerMinute}`);
  }
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
