/**
 * Guessable secrets (PINs, and API keys from before digests): salted, stretched scrypt hashes,
 * `scrypt$N$r$p$salt$hash`, checked in constant time. The parameters travel with the hash so
 * they can be raised later. High-entropy tokens need no stretching: see `digestApiKey`. Secrets
 * Hearth must use again (webhook signing secrets) are sealed instead, under the server's key.
 */
import {
  createCipheriv,
  createDecipheriv,
  hkdfSync,
  randomBytes,
  type ScryptOptions,
  scrypt as scryptCallback,
  timingSafeEqual,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

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

const SEALED_PREFIX = 'v1';
const SEAL_INFO = 'hearth secret box v1';

/**
 * Secrets Hearth must read back to use (webhook signing secrets): AES-256-GCM under a key derived
 * from the server's secret key, `v1.<iv>.<tag>.<ciphertext>` in base64url. A row copied out of
 * the database is useless without the key.
 */
export interface SecretBox {
  seal(plaintext: string): string;
  /** Throws when `sealed` was not sealed with this key (or was altered). */
  open(sealed: string): string;
}

/** A `SecretBox` keyed by `serverSecret` (HEARTH_SECRET_KEY). */
export function createSecretBox(serverSecret: string): SecretBox {
  const key = Buffer.from(hkdfSync('sha256', serverSecret, '', SEAL_INFO, 32));
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [SEALED_PREFIX, iv, cipher.getAuthTag(), ciphertext]
        .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
        .join('.');
    },
    open(sealed) {
      const [prefix, iv, tag, ciphertext] = sealed.split('.');
      if (prefix !== SEALED_PREFIX || !iv || !tag || ciphertext === undefined) {
        throw new Error('Not a sealed secret of this version');
      }
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}

const SECRET_KEY_FILE = 'secret-key';

/**
 * The server's secret key: HEARTH_SECRET_KEY when set. On the embedded database one is generated
 * on first use and kept next to the data (mode 0600), so a single machine needs no setup; on
 * Postgres every instance must share one, so it must be configured (undefined otherwise).
 */
export function loadServerSecret(input: {
  configured: string | undefined;
  dataDir: string;
  embedded: boolean;
}): string | undefined {
  if (input.configured) return input.configured;
  if (!input.embedded) return undefined;
  const file = path.join(input.dataDir, SECRET_KEY_FILE);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(input.dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}
