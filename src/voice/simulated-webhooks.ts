/**
 * Twilio's side of the voice webhooks, for the simulated caller: signing (with the official
 * `twilio` helper, loaded without its REST client), the parameters Twilio posts, and status
 * callbacks.
 */
import { randomBytes } from 'node:crypto';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';

/** Twilio gives up on a webhook after 15 s. */
const WEBHOOK_TIMEOUT_MS = 15_000;
const TWILIO_API_VERSION = '2010-04-01';

export interface CallIdentity {
  /** Where the server under test listens, e.g. `http://127.0.0.1:3000`. */
  serverUrl: string;
  /** The server's `PUBLIC_URL`: what Twilio signs (a tunnel would forward it to `serverUrl`). */
  publicUrl: string;
  authToken: string;
  /** The Hearth number called, E.164. */
  to: string;
  /** The caller's number, E.164. */
  from: string;
  callSid: string;
  accountSid: string;
}

export type CallStatus = 'completed' | 'busy' | 'failed' | 'no-answer';

/** A Twilio SID: two letters and 32 hex digits (`CA…`, `AC…`, `MZ…`). */
export const twilioSid = (prefix: string): string => prefix + randomBytes(16).toString('hex');
export const joinUrl = (base: string, path: string): string => base.replace(/\/+$/, '') + path;

/** The `X-Twilio-Signature` Twilio sends for a request to `url` with these POST params. */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  return getExpectedTwilioSignature(authToken, url, params);
}

/** POSTs form params to `${serverUrl}${path}`, signed over `${publicUrl}${path}` as Twilio does. */
export async function postSigned(
  identity: CallIdentity,
  path: string,
  params: Record<string, string>,
  signature?: string,
): Promise<{ status: number; body: string }> {
  const response = await fetch(joinUrl(identity.serverUrl, path), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature ?? twilioSignature(identity.authToken, joinUrl(identity.publicUrl, path), params),
    },
    body: new URLSearchParams(params),
    signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
  });
  return { status: response.status, body: await response.text() };
}

/** Twilio's parameters common to the voice webhook and status callbacks. */
export function callParams(identity: CallIdentity, status: string): Record<string, string> {
  return {
    AccountSid: identity.accountSid,
    ApiVersion: TWILIO_API_VERSION,
    CallSid: identity.callSid,
    CallStatus: status,
    Called: identity.to,
    Caller: identity.from,
    Direction: 'inbound',
    From: identity.from,
    To: identity.to,
  };
}

/** POSTs a signed status callback to `${serverUrl}/twilio/status`, as Twilio does when a call ends. */
export async function postStatus(
  identity: CallIdentity & { status: CallStatus; durationSec?: number; sequenceNumber?: number },
): Promise<{ status: number; body: string }> {
  const params = {
    ...callParams(identity, identity.status),
    CallbackSource: 'call-progress-events',
    SequenceNumber: String(identity.sequenceNumber ?? 0),
    Timestamp: new Date().toUTCString().replace('GMT', '+0000'),
    ...(identity.status === 'completed' ? { CallDuration: String(Math.round(identity.durationSec ?? 0)) } : {}),
  };
  return postSigned(identity, '/twilio/status', params);
}
