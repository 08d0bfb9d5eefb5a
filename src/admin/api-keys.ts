/**
 * Admin API keys: `hth_<id>_<secret>`. The `hth_<id>` prefix is stored in clear to find the
 * row and to show operators which key is which; the whole key is stored only as its SHA-256
 * digest, and shown once, when created. Keys issued before digests were stored as scrypt
 * hashes; those still verify, and are rewritten as digests on their next use.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Prisma, PrismaClient } from '../db/index.js';
import { NotFoundError } from '../errors.js';
import { isSecretHash, verifySecret } from '../secrets.js';

const KEY_SCHEME = 'hth';
const PREFIX_ID_LENGTH = 12;
const SECRET_BYTES = 32;
const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const API_KEY_PATTERN = /^(hth_[a-z2-7]{12})_([A-Za-z0-9_-]{43})$/;
const DIGEST_SCHEME = 'sha256';
/**
 * Unrevoked keys an organization may create through the API, so a key cannot multiply its own rate
 * limit. The CLI is not limited: whoever runs it holds the database, and may need a key to revoke others.
 */
export const MAX_LIVE_API_KEYS = 50;

function randomBase32(length: number): string {
  return Array.from(randomBytes(length), (byte) => BASE32_ALPHABET[byte % 32]).join('');
}

/**
 * `sha256$<base64url digest>` of a whole key. A key holds 256 random bits, so it cannot be guessed
 * and needs neither salt nor stretching; a slow hash would only hand attackers a CPU lever.
 */
export function digestApiKey(key: string): string {
  return `${DIGEST_SCHEME}$${createHash('sha256').update(key).digest('base64url')}`;
}

/** Constant-time check of a presented key against its stored digest, or its older scrypt hash. */
export async function verifyApiKey(key: string, stored: string): Promise<boolean> {
  // A scrypt hash: a key from before digests, slow to check and due to be rewritten.
  if (isSecretHash(stored)) return verifySecret(key, stored);
  const expected = Buffer.from(stored);
  const actual = Buffer.from(digestApiKey(key));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Splits a presented key into its stored prefix; undefined when it is not shaped like one of ours. */
export function parseApiKey(key: string): { prefix: string } | undefined {
  const match = API_KEY_PATTERN.exec(key);
  return match?.[1] ? { prefix: match[1] } : undefined;
}

export interface IssuedApiKey {
  id: string;
  organizationId: string;
  name: string;
  prefix: string;
  /** The whole key. Shown once; Hearth cannot show it again. */
  key: string;
  createdAt: Date;
}

/** Creates a key for an organization; throws `NotFoundError` when the organization does not exist. */
export async function createApiKey(
  prisma: PrismaClient | Prisma.TransactionClient,
  input: { organizationId: string; name?: string | undefined },
): Promise<IssuedApiKey> {
  const organization = await prisma.organization.findUnique({ where: { id: input.organizationId } });
  if (!organization) throw new NotFoundError(`No organization ${input.organizationId}.`);
  const prefix = `${KEY_SCHEME}_${randomBase32(PREFIX_ID_LENGTH)}`;
  const key = `${prefix}_${randomBytes(SECRET_BYTES).toString('base64url')}`;
  const row = await prisma.apiKey.create({
    data: {
      organizationId: organization.id,
      name: input.name ?? 'default',
      prefix,
      secretHash: digestApiKey(key),
    },
  });
  return { id: row.id, organizationId: row.organizationId, name: row.name, prefix, key, createdAt: row.createdAt };
}
