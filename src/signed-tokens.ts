/**
 * Short tokens that prove the server issued them for one thing, until they expire:
 * `<expiry in unix seconds>.<HMAC-SHA-256, base64url>` over a context (what the token is for),
 * the subject (which call, which escalation) and the expiry. Nothing is stored; a token for one
 * context or subject never passes for another.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const TOKEN_PATTERN = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

function mac(secret: string, context: string, subject: string, expiresAt: number): Buffer {
  return createHmac('sha256', secret).update(`${context}\n${subject}\n${expiresAt}`).digest();
}

/** A token for `subject` in `context`, valid for `ttlSeconds` from `now`. */
export function signToken(input: {
  secret: string;
  context: string;
  subject: string;
  ttlSeconds: number;
  now?: number;
}): string {
  const expiresAt = Math.floor((input.now ?? Date.now()) / 1000) + input.ttlSeconds;
  return `${expiresAt}.${mac(input.secret, input.context, input.subject, expiresAt).toString('base64url')}`;
}

/** Whether `token` was signed for `subject` in `context` and has not expired; never throws. */
export function verifyToken(input: {
  secret: string;
  context: string;
  subject: string;
  token: string;
  now?: number;
}): boolean {
  const match = TOKEN_PATTERN.exec(input.token);
  if (!match) return false;
  const expiresAt = Number(match[1]);
  if (expiresAt * 1000 < (input.now ?? Date.now())) return false;
  const given = Buffer.from(match[2] as string, 'base64url');
  return timingSafeEqual(given, mac(input.secret, input.context, input.subject, expiresAt));
}
