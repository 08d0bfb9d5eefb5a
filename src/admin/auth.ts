/**
 * `Authorization: Bearer hth_…` for the admin API. The key is found by its prefix and checked
 * against its scrypt hash in constant time; a verified key is remembered briefly (as a SHA-256
 * digest, never in clear) to spare the hash on every request, but the row, and so revocation,
 * is read from the database every time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { PrismaClient } from '../db/index.js';
import { UnauthorizedError } from '../errors.js';
import { parseApiKey, verifySecret } from './api-keys.js';
import type { Principal } from './scope/index.js';

const REALM = 'Bearer realm="hearth"';
const BEARER_PATTERN = /^Bearer +(\S+) *$/i;
const DEFAULT_VERIFIED_TTL_MS = 5 * 60_000;
const DEFAULT_LAST_USED_INTERVAL_MS = 60_000;
const MAX_VERIFIED_KEYS = 1000;

const principals = new WeakMap<Request, Principal>();

/** The principal `requireApiKey` authenticated for this request; throws if the route skipped it. */
export function principalOf(req: Request): Principal {
  const principal = principals.get(req);
  if (!principal) throw new UnauthorizedError('This route needs an API key, but none was checked.');
  return principal;
}

export interface ApiKeyAuthOptions {
  prisma: PrismaClient;
  /** How long a verified key skips the scrypt check (revocation is still read every request). */
  verifiedTtlMs?: number;
  /** `lastUsedAt` is written at most this often per key. */
  lastUsedIntervalMs?: number;
  now?: () => Date;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function reject(res: Parameters<RequestHandler>[1], message: string, invalidToken: boolean): never {
  res.setHeader('WWW-Authenticate', invalidToken ? `${REALM}, error="invalid_token"` : REALM);
  throw new UnauthorizedError(message);
}

/** Middleware: 401 with `WWW-Authenticate` unless the request carries a live API key. */
export function requireApiKey(options: ApiKeyAuthOptions): RequestHandler {
  if (!options?.prisma) throw new Error('requireApiKey needs a Prisma client to look keys up');
  const { prisma } = options;
  const verifiedTtlMs = options.verifiedTtlMs ?? DEFAULT_VERIFIED_TTL_MS;
  const lastUsedIntervalMs = options.lastUsedIntervalMs ?? DEFAULT_LAST_USED_INTERVAL_MS;
  const now = options.now ?? (() => new Date());
  // prefix → digest of the whole key and the hash it was verified against, until expiresAt.
  const verified = new Map<string, { digest: Buffer; secretHash: string; expiresAt: number }>();

  async function matches(key: string, prefix: string, secretHash: string, at: number): Promise<boolean> {
    const cached = verified.get(prefix);
    if (cached && cached.secretHash === secretHash && cached.expiresAt > at) {
      return timingSafeEqual(cached.digest, sha256(key));
    }
    if (!(await verifySecret(key, secretHash))) return false;
    verified.delete(prefix);
    if (verified.size >= MAX_VERIFIED_KEYS) verified.delete(verified.keys().next().value as string);
    verified.set(prefix, { digest: sha256(key), secretHash, expiresAt: at + verifiedTtlMs });
    return true;
  }

  return async function bearerApiKey(req, res, next) {
    const header = req.headers.authorization;
    if (!header) reject(res, 'Send an API key: "Authorization: Bearer hth_…".', false);
    const token = BEARER_PATTERN.exec(header)?.[1];
    if (!token) reject(res, 'Use the Bearer scheme: "Authorization: Bearer hth_…".', false);
    const parsed = parseApiKey(token);
    if (!parsed) reject(res, 'The bearer token is not a Hearth API key (hth_<prefix>_<secret>).', true);
    const row = await prisma.apiKey.findUnique({ where: { prefix: parsed.prefix } });
    const at = now();
    if (!row || row.revokedAt || !(await matches(token, parsed.prefix, row.secretHash, at.getTime()))) {
      reject(res, 'The API key is unknown or revoked. Create a new one with `hearth apikey create`.', true);
    }
    if (!row.lastUsedAt || at.getTime() - row.lastUsedAt.getTime() >= lastUsedIntervalMs) {
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
