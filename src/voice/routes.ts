/**
 * Twilio's HTTP edge: the incoming-call webhook, which answers TwiML, and the status callback,
 * which ends a call Twilio says is over. Both verify `X-Twilio-Signature` first (`twilio-webhooks.ts`).
 */
import express from 'express';
import VoiceResponse from 'twilio/lib/twiml/VoiceResponse.js';
import { z } from 'zod';
import {
  parseTwilioRequest,
  publicUrl,
  type TwilioWebhookSettings,
  twilioSettings,
  twilioWebhook,
} from '../twilio-webhooks.js';
import { type CallAnswer, type IncomingCall, incomingCallSchema } from './incoming-call.js';
import { streamToken } from './twilio-auth.js';
export const MEDIA_STREAM_PATH = '/twilio/media';

/** Call statuses after which the call is over (Twilio's status callback). */
const ENDED_STATUSES = ['completed', 'busy', 'failed', 'no-answer', 'canceled'] as const;
const statusCallbackSchema = z.looseObject({
  CallSid: incomingCallSchema.shape.CallSid,
  CallStatus: z.string().min(1).max(32),
});

export interface TwilioRoutesOptions {
  /** `PUBLIC_URL` and `TWILIO_AUTH_TOKEN`; without both, the routes answer 503 saying so. */
  twilio: TwilioWebhookSettings;
  answer(incoming: IncomingCall): Promise<CallAnswer>;
  /** Ends the call with this CallSid, if it is still running; consolidation is queued once. */
  endCall(callSid: string): Promise<void>;
}

/** The `/twilio/voice` and `/twilio/status` routes. */
export function twilioRoutes(options: TwilioRoutesOptions): express.Router {
  const router = express.Router();
  const webhook = twilioWebhook(options.twilio);

  router.post('/twilio/voice', ...webhook, async (req, res) => {
    const answer = await options.answer(parseTwilioRequest(incomingCallSchema, req.body));
    res.type('text/xml').send(twiml(answer, twilioSettings(options.twilio)));
  });

  router.post('/twilio/status', ...webhook, async (req, res) => {
    const status = parseTwilioRequest(statusCallbackSchema, req.body);
    if ((ENDED_STATUSES as readonly string[]).includes(status.CallStatus)) await options.endCall(status.CallSid);
    res.status(204).end();
  });
  return router;
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
