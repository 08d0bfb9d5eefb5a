/**
 * The bench's phone callers: Twilio's side of many calls at once, lean enough that hundreds fit
 * in the bench process. Each call is dialled as Twilio does (the signed voice webhook, the TwiML's
 * stream URL and parameters), then one shared 20 ms tick sends a stamped media frame on every
 * call; marks are echoed at once, and each media frame received is timed by its stamp.
 */
import { WebSocket } from 'ws';
import {
  type CallIdentity,
  callParams,
  joinUrl,
  postSigned,
  twilioSid,
  twilioSignature,
} from '../../src/voice/simulated-webhooks.js';
import { readTwiml } from '../../src/voice/twiml-reader.js';
import { FRAME_BYTES, readStamp, stampedFrame } from './frames.js';

const FRAME_MS = 20;

export interface CallerStats {
  framesSent: number;
  framesReceived: number;
  /** ms from the model's send to the frame's arrival here. */
  outLatencies: number[];
}

export interface Callers {
  readonly stats: CallerStats;
  /** Calls that could not be connected (the webhook or the stream failed), with the first reason. */
  readonly failed: { count: number; firstReason: string | undefined };
  /** Starts sending a frame per call every 20 ms. */
  start(): void;
  /** Stops sending; the calls stay up. */
  stop(): void;
  reset(): void;
  hangUp(): Promise<void>;
}

interface Line {
  socket: WebSocket;
  identity: CallIdentity;
  streamSid: string;
  sequence: number;
  chunk: number;
}

/** Dials `numbers.length` calls to `to`, `concurrency` at a time, and resolves once every stream is open. */
export async function dialCallers(input: {
  serverUrl: string;
  publicUrl: string;
  authToken: string;
  to: (index: number) => string;
  from: (index: number) => string;
  count: number;
}): Promise<Callers> {
  const stats: CallerStats = { framesSent: 0, framesReceived: 0, outLatencies: [] };
  const lines: Line[] = [];
  const dialOne = async (index: number) => {
    const identity: CallIdentity = {
      serverUrl: input.serverUrl,
      publicUrl: input.publicUrl,
      authToken: input.authToken,
      to: input.to(index),
      from: input.from(index),
      callSid: twilioSid('CA'),
      accountSid: twilioSid('AC'),
    };
    const answer = await postSigned(identity, '/twilio/voice', callParams(identity, 'ringing'));
    const twiml = readTwiml(answer.body);
    if (answer.status !== 200 || twiml.kind !== 'stream') {
      throw new Error(`call ${index} was not connected: HTTP ${answer.status} ${answer.body.slice(0, 200)}`);
    }
    const socket = new WebSocket(joinUrl(input.serverUrl.replace(/^http/, 'ws'), new URL(twiml.url).pathname), {
      headers: { 'x-twilio-signature': twilioSignature(input.authToken, twiml.url, {}) },
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const line: Line = { socket, identity, streamSid: twilioSid('MZ'), sequence: 0, chunk: 0 };
    socket.on('error', () => {});
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { event: string; media?: { payload: string }; mark?: object };
      if (frame.event === 'media' && frame.media) {
        const now = performance.now();
        const audio = Buffer.from(frame.media.payload, 'base64');
        for (let offset = 0; offset + FRAME_BYTES <= audio.length; offset += FRAME_BYTES) {
          const sent = readStamp(audio.subarray(offset, offset + FRAME_BYTES));
          stats.framesReceived++;
          if (sent !== undefined) stats.outLatencies.push(now - sent);
        }
      } else if (frame.event === 'mark' && frame.mark) {
        send(line, { event: 'mark', streamSid: line.streamSid, mark: frame.mark });
      }
    });
    send(line, { event: 'connected', protocol: 'Call', version: '1.0.0' });
    send(line, {
      event: 'start',
      streamSid: line.streamSid,
      start: {
        accountSid: identity.accountSid,
        streamSid: line.streamSid,
        callSid: identity.callSid,
        tracks: ['inbound'],
        customParameters: twiml.parameters,
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
    });
    lines.push(line);
  };
  const send = (line: Line, frame: Record<string, unknown>) => {
    if (line.socket.readyState !== WebSocket.OPEN) return;
    line.socket.send(JSON.stringify({ ...frame, sequenceNumber: String(++line.sequence) }));
  };
  // Dial in batches: Twilio's webhooks for a burst of calls do not all land in the same millisecond.
  const failed = { count: 0, firstReason: undefined as string | undefined };
  for (let first = 0; first < input.count; first += 25) {
    const batch = Array.from({ length: Math.min(25, input.count - first) }, (_, offset) => dialOne(first + offset));
    for (const outcome of await Promise.allSettled(batch)) {
      if (outcome.status === 'fulfilled') continue;
      failed.count++;
      failed.firstReason ??= outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
    }
  }
  let ticker: NodeJS.Timeout | undefined;
  return {
    stats,
    failed,
    start() {
      ticker = setInterval(() => {
        for (const line of lines) {
          const chunk = ++line.chunk;
          send(line, {
            event: 'media',
            streamSid: line.streamSid,
            media: {
              track: 'inbound',
              chunk: String(chunk),
              timestamp: String(chunk * FRAME_MS),
              payload: stampedFrame().toString('base64'),
            },
          });
          stats.framesSent++;
        }
      }, FRAME_MS);
    },
    stop() {
      clearInterval(ticker);
    },
    reset() {
      stats.framesSent = 0;
      stats.framesReceived = 0;
      stats.outLatencies = [];
    },
    async hangUp() {
      clearInterval(ticker);
      for (const line of lines) {
        const { accountSid, callSid } = line.identity;
        send(line, { event: 'stop', streamSid: line.streamSid, stop: { accountSid, callSid } });
      }
      await Promise.all(
        lines.map(
          (line) =>
            new Promise<void>((resolve) => {
              if (line.socket.readyState === WebSocket.CLOSED) return resolve();
              line.socket.once('close', () => resolve());
              line.socket.close();
              setTimeout(() => {
                line.socket.terminate();
                resolve();
              }, 2_000).unref();
            }),
        ),
      );
    },
  };
}
