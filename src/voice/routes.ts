/**
 * Twilio's HTTP edge: the incoming-call webhook, which answers TwiML, and the status callback,
 * which ends a call Twilio says is over. Both verify `X-Twilio-Signature` before anything else:
 * a request that does not verify gets 403 and writes nothing.
 */
import express, { type RequestHandler } from 'express';
import VoiceResponse from 'twilio/lib/twiml/VoiceResponse.js';
import { z } from 'zod';
import { ForbiddenError, UnavailableError, ValidationError } from '../errors.js';
import { formBody, zodDetails } from '../http.js';
import { type CallAnswer, type IncomingCall, incomingCallSchema } from './incoming-call.js';
import { publicUrl, streamToken, validTwilioSignature } from './twilio-auth.js';

/** Twilio's webhook bodies are a few kilobytes. */
const TWILIO_BODY_LIMIT_BYTES = 64 * 1024;
export const MEDIA_STREAM_PATH = '/twilio/media';

/** Call statuses after which the call is over (Twilio's status callback). */
const ENDED_STATUSES = ['completed', 'busy', 'failed', 'no-answer', 'canceled'] as const;
const statusCallbackSchema = z.looseObject({
  CallSid: incomingCallSchema.shape.CallSid,
  CallStatus: z.string().min(1).max(32),
});

export interface TwilioRoutesOptions {
  /** `PUBLIC_URL` and `TWILIO_AUTH_TOKEN`; without both, the routes answer 503 saying so. */
  twilio: { publicUrl: string; authToken: string } | undefined;
  answer(incoming: IncomingCall): Promise<CallAnswer>;
  /** Ends the call with this CallSid, if it is still running; consolidation is queued once. */
  endCall(callSid: string): Promise<void>;
}

/** The `/twilio/voice` and `/twilio/status` routes. */
export function twilioRoutes(options: TwilioRoutesOptions): express.Router {
  const router = express.Router();
  const configured = () => {
    if (!options.twilio) {
      throw new UnavailableError('Twilio is not set up on this server: set PUBLIC_URL and TWILIO_AUTH_TOKEN.');
    }
    return options.twilio;
  };
  const signed: RequestHandler = function requireTwilioSignature(req, _res, next) {
    const twilio = configured();
    const params = formParams(req.body);
    const url = publicUrl(twilio.publicUrl, req.originalUrl);
    const signature = req.header('x-twilio-signature');
    if (!validTwilioSignature({ authToken: twilio.authToken, signature, url, params })) {
      throw new ForbiddenError(
        signature
          ? `X-Twilio-Signature does not match ${url}: check TWILIO_AUTH_TOKEN, and that PUBLIC_URL is the URL Twilio calls.`
          : 'X-Twilio-Signature is missing: only Twilio may call this route.',
      );
    }
    next();
  };
  const form = formBody(TWILIO_BODY_LIMIT_BYTES);

  router.post('/twilio/voice', ...form, signed, async (req, res) => {
    const answer = await options.answer(parse(incomingCallSchema, req.body));
    res.type('text/xml').send(twiml(answer, configured()));
  });

  router.post('/twilio/status', ...form, signed, async (req, res) => {
    const status = parse(statusCallbackSchema, req.body);
    if ((ENDED_STATUSES as readonly string[]).includes(status.CallStatus)) await options.endCall(status.CallSid);
    res.status(204).end();
  });
  return router;
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
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

/** `<Connect><Stream>` with the call id and its token as parameters (Twilio drops a stream URL's query), or `<Say>` and `<Hangup>`. */
function twiml(answer: CallAnswer, twilio: { publicUrl: string; authToken: string }): string {
  const response = new VoiceResponse();
  if (answer.kind === 'decline') {
    response.say(answer.say);
    response.hangup();
    return response.toString();
  }
  const stream = response
    .connect()
    .stream({ url: publicUrl(twilio.publicUrl, MEDIA_STREAM_PATH, { websocket: true }) });
  stream.parameter({ name: 'callId', value: answer.callId });
  stream.parameter({ name: 'token', value: streamToken(twilio.authToken, answer.callId) });
  return response.toString();
}
