/**
 * Where Twilio's media streams arrive (`/twilio/media`): each upgrade is checked (its signature,
 * when Twilio sent one), each stream must prove with its `start` frame that it belongs to the call
 * it names (the TwiML's token), and then becomes a `VoiceCall`. A stream that fails is closed
 * before anything is written. Also the registry of this process's live calls, so that a status
 * callback or a shutdown can end them.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { z } from 'zod';
import type { AgentTool, ExtraContext } from '../agent/index.js';
import type { CallLifecycle } from '../calls/index.js';
import type { Call, PrismaClient } from '../db/index.js';
import type { Logger } from '../logger.js';
import type { MemoryEngine, Summarizer } from '../memory/index.js';
import type { CallStats, Metrics } from '../metrics.js';
import { publicUrl, validTwilioSignature } from '../twilio-webhooks.js';
import type { CallerContext } from './instructions.js';
import { MEDIA_STREAM_PATH } from './routes.js';
import { type VoiceDefaults, voiceSettings } from './settings.js';
import type { RealtimeTransport } from './transport.js';
import { validStreamToken } from './twilio-auth.js';
import { type StartFrame, TwilioMediaStream } from './twilio-stream.js';
import { VoiceCall } from './voice-call.js';

/** Twilio sends `connected` and `start` at once; a socket silent for longer is not Twilio. */
const START_TIMEOUT_MS = 10_000;
/**
 * Frames past MAX_TWILIO_FRAME_BYTES are dropped and counted, and the call goes on; only a message
 * this large (no Twilio frame is) makes the socket close, so a runaway peer cannot cost memory.
 */
const MAX_SOCKET_MESSAGE_BYTES = 1024 * 1024;
/** WebSocket close code for a policy violation (RFC 6455): a stream that did not prove its call. */
const CLOSE_POLICY_VIOLATION = 1008;

const streamParametersSchema = z.object({ callId: z.uuid(), token: z.string().min(1).max(200) });

export interface MediaStreamsDeps {
  prisma: PrismaClient;
  calls: CallLifecycle;
  memory: MemoryEngine;
  logger: Logger;
  twilio: { publicUrl: string; authToken: string } | undefined;
  defaults: VoiceDefaults;
  /** Folds a long call's oldest turns into a summary. */
  summarizer: Summarizer;
  metrics?: Metrics;
  /** The agent's tools beyond memory and `end_call` (e.g. `escalate`), offered on every call. */
  extraTools?: AgentTool[];
  /** Context beyond memory (the household's escalations). */
  extraContext?: ExtraContext;
  realtime: {
    url(model: string): string;
    apiKey?: string;
    transcriptionModel: string;
    sessionLimitMs: number;
    /** A new connection to the realtime model (one per session). */
    createTransport(): RealtimeTransport;
  };
}

/** Accepts media streams and keeps the live calls of this process. */
export class MediaStreams {
  readonly #deps: MediaStreamsDeps;
  readonly #logger: Logger;
  readonly #sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_SOCKET_MESSAGE_BYTES });
  /** Live calls by Twilio CallSid. */
  readonly #live = new Map<string, VoiceCall>();
  /** Open media streams, calls or not yet; their frames are added to `#closedFrames` when they close. */
  readonly #open = new Set<TwilioMediaStream>();
  readonly #closedFrames = { framesIn: 0, framesOut: 0, framesDropped: 0 };

  constructor(deps: MediaStreamsDeps) {
    this.#deps = deps;
    this.#logger = deps.logger.child({ component: 'voice' });
  }

  /** Live calls, and the frames of every media stream this process has taken. */
  get stats(): CallStats {
    const frames = { ...this.#closedFrames };
    for (const stream of this.#open) addFrames(frames, stream);
    return { liveCalls: this.#live.size, ...frames };
  }

  /** Takes an HTTP upgrade to `/twilio/media`; refuses one that is not Twilio's. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const { twilio } = this.#deps;
    if (!twilio) {
      refuse(socket, 503, 'Twilio is not set up on this server');
      return;
    }
    const signature = request.headers['x-twilio-signature'];
    if (signature !== undefined) {
      const url = publicUrl(twilio.publicUrl, MEDIA_STREAM_PATH, { websocket: true });
      const given = Array.isArray(signature) ? signature[0] : signature;
      if (!validTwilioSignature({ authToken: twilio.authToken, signature: given, url, params: {} })) {
        this.#logger.warn('media stream upgrade with a signature that does not verify: refused');
        refuse(socket, 403, 'X-Twilio-Signature does not verify');
        return;
      }
    }
    this.#sockets.handleUpgrade(request, socket, head, (webSocket) => {
      const stream = new TwilioMediaStream(webSocket, this.#logger);
      this.#open.add(stream);
      stream.once('closed', () => {
        this.#open.delete(stream);
        addFrames(this.#closedFrames, stream);
      });
      this.#attach(stream).catch((error: unknown) => {
        this.#logger.error({ err: error }, 'media stream failed to start');
        stream.close(1011, 'call could not start');
      });
    });
  }

  /** Ends the call Twilio says is over: here if it is live here, else directly in the lifecycle. */
  async endByCallSid(callSid: string): Promise<void> {
    const live = this.#live.get(callSid);
    if (live) return live.end('Twilio reported the call over');
    const call = await this.#deps.prisma.call.findUnique({ where: { twilioCallSid: callSid } });
    if (!call || call.status === 'completed') return;
    await this.#deps.calls.end(call).catch((error: unknown) => {
      // Mid-turn on another instance: that instance ends it when its stream stops.
      this.#logger.info({ err: error, callId: call.id }, 'status callback could not end the call yet');
    });
  }

  /** Ends every live call (shutdown): their transcripts are saved and consolidation queued. */
  async close(): Promise<void> {
    await Promise.all([...this.#live.values()].map((call) => call.end('the server is shutting down')));
    this.#sockets.close();
  }

  async #attach(stream: TwilioMediaStream): Promise<void> {
    const start = await waitForStart(stream);
    const call = start && (await this.#provenCall(start));
    if (!start || !call) {
      stream.close(CLOSE_POLICY_VIOLATION, start ? 'stream does not belong to a live call' : 'no start frame');
      return;
    }
    const { prisma, defaults, realtime } = this.#deps;
    const household = await prisma.household.findUnique({
      where: { id: call.householdId },
      select: { agentSettings: true },
    });
    const member = call.memberId
      ? await prisma.member.findUnique({ where: { id: call.memberId }, select: { name: true } })
      : null;
    // A PIN is asked for only when one could verify this caller: theirs, or for an unknown caller anyone's.
    const pins = call.callerVerified
      ? 0
      : await prisma.member.count({
          where: {
            householdId: call.householdId,
            pinHash: { not: null },
            ...(call.memberId ? { id: call.memberId } : {}),
          },
        });
    const settings = voiceSettings(household?.agentSettings, defaults);
    const caller: CallerContext = { memberName: member?.name, verified: call.callerVerified, pinRequested: pins > 0 };
    await prisma.call.update({ where: { id: call.id }, data: { streamSid: start.streamSid } });
    const voiceCall = new VoiceCall({
      ...this.#deps,
      call,
      caller,
      stream,
      realtime: { ...realtime, url: realtime.url(settings.realtimeModel), voice: settings.voice },
    });
    const callSid = start.start.callSid;
    this.#live.set(callSid, voiceCall);
    void voiceCall.ended.then(() => this.#live.delete(callSid));
    await voiceCall.start();
  }

  /** The call the `start` frame names, if its token is right and it is a live phone call with that CallSid. */
  async #provenCall(start: StartFrame): Promise<Call | undefined> {
    const { twilio, prisma } = this.#deps;
    const parameters = streamParametersSchema.safeParse(start.start.customParameters);
    if (!twilio || !parameters.success) {
      this.#logger.warn('media stream without a call id and token: refused');
      return undefined;
    }
    const { callId, token } = parameters.data;
    if (!validStreamToken(twilio.authToken, callId, token)) {
      this.#logger.warn({ callId }, 'media stream with a wrong or expired token: refused');
      return undefined;
    }
    const call = await prisma.call.findUnique({ where: { id: callId } });
    if (call?.channel !== 'voice' || call.status !== 'in_progress') return undefined;
    if (call.twilioCallSid !== start.start.callSid || this.#live.has(start.start.callSid)) return undefined;
    return call;
  }
}

function waitForStart(stream: TwilioMediaStream): Promise<StartFrame | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), START_TIMEOUT_MS);
    stream.once('start', (frame) => {
      clearTimeout(timer);
      resolve(frame);
    });
    stream.once('closed', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

function addFrames(total: Omit<CallStats, 'liveCalls'>, stream: TwilioMediaStream): void {
  total.framesIn += stream.framesIn;
  total.framesOut += stream.framesOut;
  total.framesDropped += stream.droppedFrames;
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
