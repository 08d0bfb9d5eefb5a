/**
 * Twilio's webhooks, for every route that takes one (calls, SMS replies, paging keypresses): the
 * form body, and `X-Twilio-Signature` checked before anything else against the URL rebuilt from
 * `PUBLIC_URL` (never the `Host` a client controls). A request that does not verify gets 403 and
 * writes nothing; without Twilio set up, 503 saying what to set.
 */
import type { RequestHandler } from 'express';
import twilioWebhooks from 'twilio/lib/webhooks/webhooks.js';
import type { z } from 'zod';
import { ForbiddenError, UnavailableError, ValidationError } from './errors.js';
import { formBody, zodDetails } from './http.js';

/** Twilio's webhook bodies are a few kilobytes. */
const TWILIO_BODY_LIMIT_BYTES = 64 * 1024;

/** `PUBLIC_URL` and `TWILIO_AUTH_TOKEN`: undefined until both are set. */
export type TwilioWebhookSettings = { publicUrl: string; authToken: string } | undefined;

/** The settings from the configuration, once both are set. */
export function twilioWebhookSettings(config: {
  PUBLIC_URL?: string | undefined;
  TWILIO_AUTH_TOKEN?: string | undefined;
}): TwilioWebhookSettings {
  return config.PUBLIC_URL && config.TWILIO_AUTH_TOKEN
    ? { publicUrl: config.PUBLIC_URL, authToken: config.TWILIO_AUTH_TOKEN }
    : undefined;
}

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

/** The settings, or a 503 that says what to set. */
export function twilioSettings(settings: TwilioWebhookSettings): { publicUrl: string; authToken: string } {
  if (!settings) {
    throw new UnavailableError('Twilio is not set up on this server: set PUBLIC_URL and TWILIO_AUTH_TOKEN.');
  }
  return settings;
}

/** The middleware for a Twilio webhook route: read the form body, then check its signature. */
export function twilioWebhook(settings: TwilioWebhookSettings): RequestHandler[] {
  const signed: RequestHandler = function requireTwilioSignature(req, _res, next) {
    const twilio = twilioSettings(settings);
    const url = publicUrl(twilio.publicUrl, req.originalUrl);
    const signature = req.header('x-twilio-signature');
    if (!validTwilioSignature({ authToken: twilio.authToken, signature, url, params: formParams(req.body) })) {
      throw new ForbiddenError(
        signature
          ? `X-Twilio-Signature does not match ${url}: check TWILIO_AUTH_TOKEN, and that PUBLIC_URL is the URL Twilio calls.`
          : 'X-Twilio-Signature is missing: only Twilio may call this route.',
      );
    }
    next();
  };
  return [...formBody(TWILIO_BODY_LIMIT_BYTES), signed];
}

/** A Twilio request's fields, or a 400 naming what is missing. */
export function parseTwilioRequest<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new ValidationError('The Twilio request is missing fields Hearth needs.', {
      details: zodDetails(parsed.error, 'body'),
    });
  }
  return parsed.data;
}

/** The body as Twilio signed it: every field a string (a repeated field would not be Twilio's). */
function formParams(body: unknown): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(body ?? {})) {
    if (typeof value === 'string') params[key] = value;
  }
  return params;
}
