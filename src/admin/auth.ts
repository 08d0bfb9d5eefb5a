/**
 * `Authorization: Bearer hth_…` for the admin API. The key is found by its prefix and checked
 * against its SHA-256 digest in constant time, which is as cheap as the lookup, so nothing is
 * cached: the row, and so revocation, is read on every request. A key still stored as a scrypt
 * hash is checked with scrypt once, then stored as a digest.
 */
import type { Request, RequestHandler } from 'express';
import type { PrismaClient } from '../db/index.js';
import { UnauthorizedError } from '../errors.js';
import { digestApiKey, isScryptHash, parseApiKey, verifyApiKey } from './api-keys.js';
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
  /** `lastUsedAt` is written at most this often per key. */
  lastUsedIntervalMs?: number;
  now?: () => Date;
}

function reject(res: Parameters<RequestHandler>[1], message: string, invalidToken: boolean): never {
  res.setHeader('WWW-Authenticate', invalidToken ? `${REALM}, error="invalid_token"` : REALM);
  throw new UnauthorizedError(message);
}

/** Middleware: 401 with `WWW-Authenticate` unless the request carries a live API key. */
export function requireApiKey(options: ApiKeyAuthOptions): RequestHandler {
  if (!options?.prisma) throw new Error('requireApiKey needs a Prisma client to look keys up');
  const { prisma } = options;
  const lastUsedIntervalMs = options.lastUsedIntervalMs ?? DEFAULT_LAST_USED_INTERVAL_MS;
  const now = options.now ?? (() => new Date());

  return async function bearerApiKey(req, res, next) {
    const header = req.headers.authorization;
    if (!header) reject(res, 'Send an API key: "Authorization: Bearer hth_…".', false);
    const token = BEARER_PATTERN.exec(header)?.[1];
    if (!token) reject(res, 'Use the Bearer scheme: "Authorization: Bearer hth_…".', false);
    const parsed = parseApiKey(token);
    if (!parsed) reject(res, 'The bearer token is not a Hearth API key (hth_<prefix>_<secret>).', true);
    const found = await prisma.apiKey.findUnique({ where: { prefix: parsed.prefix } });
    const row = found?.revokedAt === null ? found : null;
    const stored = row?.secretHash ?? UNKNOWN_KEY_DIGEST;
    if (!(await verifyApiKey(token, stored)) || !row) {
      reject(res, 'The API key is unknown or revoked. Create a new one with `hearth apikey create`.', true);
    }
    const at = now();
    if (isScryptHash(stored)) {
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
