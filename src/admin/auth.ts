/**
 * `Authorization: Bearer hth_…` for the admin API. The key is found by its prefix and checked
 * against its SHA-256 digest in constant time, which is as cheap as the lookup, so nothing is
 * cached: the row, and so revocation, is read on every request. A key still stored as a scrypt
 * hash is checked with scrypt once, then stored as a digest. Failures are counted, per address and
 * per presented prefix, only once the key has been checked: a valid key is never refused.
 */
import type { Request, RequestHandler } from 'express';
import type { PrismaClient } from '../db/index.js';
import { UnauthorizedError } from '../errors.js';
import { isSecretHash } from '../secrets.js';
import { digestApiKey, parseApiKey, verifyApiKey } from './api-keys.js';
import type { FailedAuthLimit } from './rate-limit.js';
import type { Principal } from './scope/index.js';

const REALM = 'Bearer realm="hearth"';
const BEARER_PATTERN = /^Bearer +(\S+) *$/i;
const DEFAULT_LAST_USED_INTERVAL_MS = 60_000;
// Compared against when no row has the prefix, so an unknown prefix costs what a wrong secret does.
const UNKNOWN_KEY_DIGEST = digestApiKey('hth_unknown');

const principals = new WeakMap<Request, Principal>();

/** The principal `requireApiKey` authenticated for this request; throws if the route skipped it. */
export function principalOf(req: Request): Principal {
  const principal = principals.get(req);
  if (!principal) throw new UnauthorizedError('This route needs an API key, but none was checked.');
  return principal;
}

export interface ApiKeyAuthOptions {
  prisma: PrismaClient;
  /** Counts failures, and answers 429 instead of 401 past its limit. */
  failures: FailedAuthLimit;
  /** `lastUsedAt` is written at most this often per key. */
  lastUsedIntervalMs?: number;
  now?: () => Date;
}

/** Middleware: 401 with `WWW-Authenticate` unless the request carries a live API key (429 past the failure limit). */
export function requireApiKey(options: ApiKeyAuthOptions): RequestHandler {
  if (!options?.prisma) throw new Error('requireApiKey needs a Prisma client to look keys up');
  if (!options.failures) throw new Error('requireApiKey needs a failed-authentication limit (limitFailedAuth)');
  const { prisma, failures } = options;
  const lastUsedIntervalMs = options.lastUsedIntervalMs ?? DEFAULT_LAST_USED_INTERVAL_MS;
  const now = options.now ?? (() => new Date());

  return async function bearerApiKey(req, res, next) {
    function reject(message: string, invalidToken: boolean, prefix?: string): never {
      const limited = failures.recordFailure(req, res, prefix);
      if (limited) throw limited;
      res.setHeader('WWW-Authenticate', invalidToken ? `${REALM}, error="invalid_token"` : REALM);
      throw new UnauthorizedError(message);
    }

    const header = req.headers.authorization;
    if (!header) reject('Send an API key: "Authorization: Bearer hth_…".', false);
    const token = BEARER_PATTERN.exec(header)?.[1];
    if (!token) reject('Use the Bearer scheme: "Authorization: Bearer hth_…".', false);
    const parsed = parseApiKey(token);
    if (!parsed) reject('The bearer token is not a Hearth API key (hth_<prefix>_<secret>).', true);
    const { prefix } = parsed;
    const found = await prisma.apiKey.findUnique({ where: { prefix } });
    const row = found?.revokedAt === null ? found : null;
    const stored = row?.secretHash ?? UNKNOWN_KEY_DIGEST;
    if (isSecretHash(stored)) {
      // Until its first use rewrites it, an old key costs a scrypt (~100 ms of CPU) per check: once its
      // prefix is being guessed, stop paying for guesses. Only this key, and only until the minute ends.
      const limited = failures.refusalForPrefix(res, prefix);
      if (limited) throw limited;
    }
    if (!(await verifyApiKey(token, stored)) || !row) {
      reject('The API key is unknown or revoked. Create a new one with `hearth apikey create`.', true, prefix);
    }
    const at = now();
    if (isSecretHash(stored)) {
      // Conditional on the old hash, so a concurrent rotation or rewrite is never overwritten.
      await prisma.apiKey.updateMany({
        where: { id: row.id, secretHash: stored },
        data: { secretHash: digestApiKey(token), lastUsedAt: at },
      });
    } else if (!row.lastUsedAt || at.getTime() - row.lastUsedAt.getTime() >= lastUsedIntervalMs) {
      const stale = new Date(at.getTime() - lastUsedIntervalMs);
      await prisma.apiKey.updateMany({
        where: { id: row.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lte: stale } }] },
        data: { lastUsedAt: at },
      });
    }
    principals.set(req, { organizationId: row.organizationId, keyId: row.id, keyPrefix: row.prefix });
    next();
  };
}
