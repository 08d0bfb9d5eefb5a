/**
 * Proof that a media stream belongs to the call it names. The stream's URL carries no query
 * string (Twilio drops it), so the TwiML passes the call id and a short-lived HMAC token as
 * `<Parameter>`s, which come back in the `start` frame. (Webhook signatures: `twilio-webhooks.ts`.)
 */
import { signToken, verifyToken } from '../signed-tokens.js';

/** Long enough for Twilio to open the stream after the TwiML, short enough to be useless if leaked. */
export const STREAM_TOKEN_TTL_SECONDS = 120;
const STREAM_TOKEN_CONTEXT = 'hearth media stream v1';

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
