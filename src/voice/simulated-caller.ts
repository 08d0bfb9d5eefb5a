/**
 * A simulated Twilio, for tests, `hearth call` and benchmarks: it places an inbound call against
 * a Hearth server exactly as Twilio would (signed webhook, TwiML, signed Media Stream upgrade,
 * `connected`/`start`/`media`/`dtmf`/`mark`/`stop` frames, status callbacks), and plays back what
 * the server sends with Twilio's buffer semantics (marks, clear). No test framework in here.
 *
 * @example
 * const result = await dial({ serverUrl: 'http://127.0.0.1:3000', publicUrl: 'https://hearth.example',
 *   authToken: process.env.TWILIO_AUTH_TOKEN!, to: '+15550100', from: '+15550111' });
 * if (result.kind !== 'connected') throw new Error(`not connected: ${JSON.stringify(result)}`);
 * const { call } = result;
 * await call.say('Hi, this is Chidi. When is mum’s physio?');
 * await call.sendSilence(800);
 * await call.waitFor((received) => received.some((r) => r.valid && r.frame.event === 'mark'), { timeoutMs: 10_000 });
 * await call.hangUp();
 * await call.postStatus('completed');
 */
import { WebSocket } from 'ws';
import { SimulatedCall, SimulatedCallError } from './simulated-call.js';
import {
  type CallIdentity,
  callParams,
  joinUrl,
  postSigned,
  twilioSid,
  twilioSignature,
} from './simulated-webhooks.js';
import { readTwiml, TwimlError } from './twiml-reader.js';

export {
  type CallClosed,
  type ReceivedFrame,
  SimulatedCall,
  SimulatedCallError,
} from './simulated-call.js';
export { type CallIdentity, type CallStatus, postStatus, twilioSignature } from './simulated-webhooks.js';

const STREAM_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface DialOptions extends Omit<CallIdentity, 'callSid' | 'accountSid'> {
  callSid?: string;
  accountSid?: string;
  /** More webhook parameters (e.g. `CallerName`), signed with the rest. */
  params?: Record<string, string>;
  /** Send this `X-Twilio-Signature` on the webhook instead of the right one (to test refusal). */
  webhookSignature?: string;
  /** Send this `X-Twilio-Signature` on the stream upgrade instead of the right one. */
  streamSignature?: string;
}

/** What `dial` ended with: a connected call, an answer that only spoke, or a refusal. */
export type DialResult =
  | { kind: 'connected'; call: SimulatedCall; twiml: string }
  | { kind: 'spoken'; callSid: string; said: string[]; text: string; hangUp: boolean; twiml: string }
  | { kind: 'rejected'; callSid: string; stage: 'webhook' | 'twiml' | 'stream'; httpStatus?: number; reason: string };

/** Why Twilio (or a tunnel to `publicUrl`) could not open this stream URL, if it could not. */
function streamUrlProblem(url: string, publicUrl: string): string | undefined {
  if (!URL.canParse(url)) return `the stream URL ${url} is not a URL`;
  const { protocol, search, host } = new URL(url);
  if (protocol !== 'wss:') return `the stream URL ${url} is not wss://`;
  if (search) return `the stream URL ${url} has a query string (Twilio drops it; use <Parameter>)`;
  // The simulator reaches the server through PUBLIC_URL's host only, as a tunnel would.
  const publicHost = new URL(publicUrl).host;
  if (host !== publicHost) return `the stream URL's host ${host} is not PUBLIC_URL's (${publicHost})`;
  return undefined;
}

/**
 * Places an inbound call: the signed voice webhook, then, when the TwiML connects a stream, the
 * signed WebSocket with `connected` and `start`. Never throws for what the server answers: a
 * refusal or a spoken answer is a result. Network failures reject with `SimulatedCallError`.
 */
export async function dial(options: DialOptions): Promise<DialResult> {
  const { serverUrl, publicUrl, authToken, to, from } = options;
  const identity: CallIdentity = {
    serverUrl,
    publicUrl,
    authToken,
    to,
    from,
    callSid: options.callSid ?? twilioSid('CA'),
    accountSid: options.accountSid ?? twilioSid('AC'),
  };
  const { callSid } = identity;
  const dialedAt = performance.now();
  let answer: { status: number; body: string };
  try {
    answer = await postSigned(
      identity,
      '/twilio/voice',
      { ...callParams(identity, 'ringing'), ...options.params },
      options.webhookSignature,
    );
  } catch (error) {
    throw new SimulatedCallError(`Could not reach ${serverUrl}/twilio/voice: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (answer.status !== 200) {
    return {
      kind: 'rejected',
      callSid,
      stage: 'webhook',
      httpStatus: answer.status,
      reason: answer.body.slice(0, 500),
    };
  }
  let twiml: ReturnType<typeof readTwiml>;
  try {
    twiml = readTwiml(answer.body);
  } catch (error) {
    if (!(error instanceof TwimlError)) throw error;
    return { kind: 'rejected', callSid, stage: 'twiml', reason: error.message };
  }
  if (twiml.kind === 'spoken') {
    const { said, hangUp } = twiml;
    return { kind: 'spoken', callSid, said, text: said.join(' '), hangUp, twiml: answer.body };
  }
  const problem = streamUrlProblem(twiml.url, publicUrl);
  if (problem) return { kind: 'rejected', callSid, stage: 'twiml', reason: problem };

  const socketUrl = joinUrl(serverUrl.replace(/^http/, 'ws'), new URL(twiml.url).pathname);
  const socket = new WebSocket(socketUrl, {
    headers: {
      'x-twilio-signature': options.streamSignature ?? twilioSignature(identity.authToken, twiml.url, {}),
    },
    handshakeTimeout: STREAM_HANDSHAKE_TIMEOUT_MS,
  });
  const customParameters = twiml.parameters;
  // The call is built inside 'open', before any frame from the server can be emitted.
  const opened = await new Promise<SimulatedCall | string>((resolve) => {
    // Also keeps later socket errors (which end in 'close') from being thrown by `ws`.
    socket.on('error', (error) => resolve(error.message));
    socket.once('open', () => resolve(new SimulatedCall({ socket, identity, customParameters, dialedAt })));
  });
  if (typeof opened === 'string') {
    const status = /Unexpected server response: (\d+)/.exec(opened)?.[1];
    return {
      kind: 'rejected',
      callSid,
      stage: 'stream',
      reason: opened,
      ...(status ? { httpStatus: Number(status) } : {}),
    };
  }
  return { kind: 'connected', call: opened, twiml: answer.body };
}
