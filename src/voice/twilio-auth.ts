/**
 * Proof that a request comes from Twilio, and that a media stream belongs to the call it names.
 * Twilio signs every webhook and the stream's upgrade with `X-Twilio-Signature` (HMAC-SHA1 of the
 * public URL and the POST parameters, keyed by the auth token); the URL is rebuilt from
 * `PUBLIC_URL`, never from the `Host` header a client controls. The stream's URL carries no query
 * string (Twilio drops it), so the TwiML passes the call id and a short-lived HMAC token as
 * `<Parameter>`s, which come back in the `start` frame.
 */
import twilioWebhooks from 'twilio/lib/webhooks/webhooks.js';
import { signToken, verifyToken } from '../signed-tokens.js';

/** Long enough for Twilio to open the stream after the TwiML, short enough to be useless if leaked. */
export const STREAM_TOKEN_TTL_SECONDS = 120;
const STREAM_TOKEN_CONTEXT = 'hearth media stream v1';

/** Where Twilio believes it sent the request: `PUBLIC_URL` + path, with `wss:` for the media socket. */
export function publicUrl(base: string, path: string, options: { websocket?: boolean } = {}): string {
  const url = new URL(path, base);
  if (options.websocket) url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  return url.toString();
}

/** Whether `signature` is Twilio's for `url` and `params` (constant time, as the library checks it). */
export function validTwilioSignature(input: {
  authToken: string;
  signature: string | undefined;
  url: string;
  params: Record<string, string>;
}): boolean {
  if (!input.signature) return false;
  return twilioWebhooks.validateRequest(input.authToken, input.signature, input.url, input.params);
}

/** A token that lets a media stream attach to `callId` until it expires. */
export function streamToken(authToken: string, callId: string, now = Date.now()): string {
  return signToken({
    secret: authToken,
    context: STREAM_TOKEN_CONTEXT,
    subject: callId,
    ttlSeconds: STREAM_TOKEN_TTL_SECONDS,
    now,
  });
}

/** Whether `token` was issued for `callId` and has not expired. */
export function validStreamToken(authToken: string, callId: string, token: string, now = Date.now()): boolean {
  return verifyToken({ secret: authToken, context: STREAM_TOKEN_CONTEXT, subject: callId, token, now });
}
