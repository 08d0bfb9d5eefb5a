/**
 * Guessable secrets (PINs, and API keys from before digests): salted, stretched scrypt hashes,
 * `scrypt$N$r$p$salt$hash`, checked in constant time. The parameters travel with the hash so
 * they can be raised later. High-entropy tokens need no stretching: see `digestApiKey`.
 */
import { randomBytes, type ScryptOptions, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';

const SCRYPT_SCHEME = 'scrypt';
const SCRYPT_PARAMS = { N: 16_384, r: 8, p: 1 } as const;
const SCRYPT_KEY_LENGTH = 32;

function scrypt(secret: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(secret, salt, SCRYPT_KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** Whether `stored` is a `hashSecret` result. */
export function isSecretHash(stored: string): boolean {
  return stored.startsWith(`${SCRYPT_SCHEME}$`);
}

/** Hashes a guessable secret such as a PIN (about 100 ms of CPU). */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, SCRYPT_PARAMS);
  const { N, r, p } = SCRYPT_PARAMS;
  return [SCRYPT_SCHEME, N, r, p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** Constant-time check of `secret` against a `hashSecret` result (about 100 ms of CPU). */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, N, r, p, salt, hash] = stored.split('$');
  if (scheme !== SCRYPT_SCHEME || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scrypt(secret, Buffer.from(salt, 'base64url'), { N: Number(N), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
