/**
 * The simulated caller against a stand-in Hearth: a node:http + ws server that checks Twilio's
 * signatures with the official `validateRequest`, answers TwiML built with the official
 * `VoiceResponse`, and lets each test drive the media socket.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import VoiceResponse from 'twilio/lib/twiml/VoiceResponse.js';
import { validateRequest } from 'twilio/lib/webhooks/webhooks.js';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { MULAW_BYTES_PER_MS, TWILIO_FRAME_BYTES, wavToMulaw } from '../../src/voice/audio.js';
import {
  clearFrame,
  type InboundFrame,
  markFrame,
  mediaFrame,
  parseInboundFrame,
} from '../../src/voice/media-protocol.js';
import { type DialOptions, dial, type SimulatedCall, SimulatedCallError } from '../../src/voice/simulated-caller.js';

const AUTH_TOKEN = 'test-auth-token-0123456789abcdef';
const PUBLIC_URL = 'https://hearth.example.test';
const STREAM_URL = 'wss://hearth.example.test/twilio/media';
const speech = wavToMulaw(readFileSync(new URL('../fixtures/audio/stop-wait.wav', import.meta.url)));

interface MediaStream {
  socket: WebSocket;
  frames: InboundFrame[];
  badFrames: string[];
  streamSid(): string;
}

/** A stand-in Hearth server; `answer` decides the TwiML. */
async function startStandIn(answer: 'connect' | 'say' = 'connect') {
  const webhooks: Array<{ path: string; params: Record<string, string>; signatureValid: boolean }> = [];
  const upgrades: Array<{ signatureValid: boolean }> = [];
  const streams: MediaStream[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const waiter of [...waiters]) waiter();
  };
  const readForm = async (req: IncomingMessage) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    return Object.fromEntries(new URLSearchParams(body));
  };

  const server = createServer(async (req, res) => {
    const params = await readForm(req);
    const path = req.url ?? '';
    const signature = String(req.headers['x-twilio-signature'] ?? '');
    const signatureValid = validateRequest(AUTH_TOKEN, signature, PUBLIC_URL + path, params);
    webhooks.push({ path, params, signatureValid });
    if (!signatureValid) return void res.writeHead(403).end('bad signature');
    if (path === '/twilio/status') return void res.writeHead(204).end();
    const twiml = new VoiceResponse();
    if (answer === 'connect') {
      const stream = twiml.connect().stream({ url: STREAM_URL });
      stream.parameter({ name: 'callId', value: 'call-42' });
      stream.parameter({ name: 'token', value: 'v1.a&b<c>' });
    } else {
      twiml.say('Sorry, this number is not in service.');
      twiml.hangup();
    }
    res.writeHead(200, { 'content-type': 'text/xml' }).end(twiml.toString());
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const signature = String(req.headers['x-twilio-signature'] ?? '');
    const signatureValid = req.url === '/twilio/media' && validateRequest(AUTH_TOKEN, signature, STREAM_URL, {});
    upgrades.push({ signatureValid });
    if (!signatureValid) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const stream: MediaStream = {
        socket: ws,
        frames: [],
        badFrames: [],
        streamSid: () => {
          const start = stream.frames.find((f) => f.event === 'start');
          if (start?.event !== 'start') throw new Error('no start frame yet');
          return start.streamSid;
        },
      };
      streams.push(stream);
      ws.on('message', (data: Buffer) => {
        const parsed = parseInboundFrame(data);
        if (parsed.ok) stream.frames.push(parsed.frame);
        else stream.badFrames.push(parsed.reason);
        notify();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    webhooks,
    upgrades,
    streams,
    /** Resolves once `predicate` holds for the server's view. */
    until(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate()) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error('stand-in: condition not met in time'));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

type StandIn = Awaited<ReturnType<typeof startStandIn>>;
let standIn: StandIn | undefined;
let call: SimulatedCall | undefined;

afterEach(async () => {
  if (call?.isOpen) await call.hangUp();
  call = undefined;
  await standIn?.close();
  standIn = undefined;
});

const dialOptions = (server: StandIn, extra: Partial<DialOptions> = {}): DialOptions => ({
  serverUrl: server.url,
  publicUrl: PUBLIC_URL,
  authToken: AUTH_TOKEN,
  to: '+15550100',
  from: '+15550111',
  ...extra,
});

/** Dials the stand-in and waits until it has seen `start`. */
async function connect(): Promise<{ server: StandIn; call: SimulatedCall; stream: MediaStream }> {
  const server = await startStandIn();
  standIn = server;
  const result = await dial(dialOptions(server));
  if (result.kind !== 'connected') throw new Error(`not connected: ${JSON.stringify(result)}`);
  call = result.call;
  await server.until(() => server.streams[0]?.frames.some((f) => f.event === 'start') ?? false);
  const stream = server.streams[0];
  if (!stream) throw new Error('no stream');
  return { server, call: result.call, stream };
}

const mediaOf = (stream: MediaStream) => stream.frames.filter((f) => f.event === 'media');

describe('dial', () => {
  it('signs the webhook and the stream upgrade as Twilio does, and starts the stream with the parameters', async () => {
    const { server, call, stream } = await connect();
    expect(server.webhooks).toHaveLength(1);
    expect(server.webhooks[0]).toMatchObject({
      path: '/twilio/voice',
      signatureValid: true,
      params: {
        CallStatus: 'ringing',
        Direction: 'inbound',
        From: '+15550111',
        To: '+15550100',
        CallSid: call.callSid,
      },
    });
    expect(server.webhooks[0]?.params.ApiVersion).toBe('2010-04-01');
    expect(server.upgrades).toEqual([{ signatureValid: true }]);
    expect(stream.badFrames).toEqual([]);
    expect(stream.frames.map((f) => f.event)).toEqual(['connected', 'start']);
    const start = stream.frames[1];
    expect(start?.event === 'start' && start).toMatchObject({
      sequenceNumber: 1,
      streamSid: call.streamSid,
      start: {
        callSid: call.callSid,
        accountSid: call.accountSid,
        tracks: ['inbound'],
        customParameters: { callId: 'call-42', token: 'v1.a&b<c>' },
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
    });
    expect(call.streamSid).toMatch(/^MZ[0-9a-f]{32}$/);
    expect(call.callSid).toMatch(/^CA[0-9a-f]{32}$/);
  });

  it('reports a webhook the server refuses (a wrong signature), and never opens the stream', async () => {
    const server = await startStandIn();
    standIn = server;
    const result = await dial(dialOptions(server, { webhookSignature: 'forged' }));
    expect(result).toMatchObject({ kind: 'rejected', stage: 'webhook', httpStatus: 403 });
    expect(server.upgrades).toEqual([]);
  });

  it('reports a refused stream upgrade', async () => {
    const server = await startStandIn();
    standIn = server;
    const result = await dial(dialOptions(server, { streamSignature: 'forged' }));
    expect(result).toMatchObject({ kind: 'rejected', stage: 'stream', httpStatus: 403 });
    expect(server.upgrades).toEqual([{ signatureValid: false }]);
  });

  it('says when the answer only speaks and hangs up', async () => {
    const server = await startStandIn('say');
    standIn = server;
    const result = await dial(dialOptions(server, { callSid: 'CA00000000000000000000000000000001' }));
    expect(result).toMatchObject({
      kind: 'spoken',
      callSid: 'CA00000000000000000000000000000001',
      text: 'Sorry, this number is not in service.',
      hangUp: true,
    });
    expect(server.upgrades).toEqual([]);
  });
});

describe('caller audio', () => {
  it('sends paced 20 ms frames of 160 bytes with counters that count up', async () => {
    const { server, call, stream } = await connect();
    const clip = speech.subarray(0, 300 * MULAW_BYTES_PER_MS);
    const sent = await call.sendAudio(clip);
    expect(sent).toBe(15);
    await server.until(() => mediaOf(stream).length === 15);
    const media = mediaOf(stream);
    const payloads = media.map((f) => (f.event === 'media' ? Buffer.from(f.media.payload, 'base64') : Buffer.alloc(0)));
    expect(payloads.every((p) => p.length === TWILIO_FRAME_BYTES)).toBe(true);
    expect(Buffer.concat(payloads).equals(clip)).toBe(true);
    expect(media.map((f) => f.event === 'media' && f.media.chunk)).toEqual([...Array(15).keys()].map((i) => i + 1));
    expect(media.map((f) => f.event === 'media' && f.sequenceNumber)).toEqual([...Array(15).keys()].map((i) => i + 2));
    const timestamps = media.map((f) => (f.event === 'media' ? f.media.timestamp : -1));
    expect(timestamps.every((t, i) => i === 0 || t >= (timestamps[i - 1] ?? 0) + 20)).toBe(true);
    expect(media.every((f) => f.event === 'media' && f.media.track === 'inbound')).toBe(true);
  });

  it('sends a whole clip unpaced, silence, and key presses after the audio', async () => {
    const { server, call, stream } = await connect();
    const speaking = call.sendAudio(speech, { paced: false });
    const pressing = call.press('4#');
    await call.sendSilence(40, { paced: false });
    expect(await speaking).toBe(Math.ceil(speech.length / TWILIO_FRAME_BYTES));
    await pressing;
    await server.until(() => stream.frames.filter((f) => f.event === 'dtmf').length === 2);
    const events = stream.frames.map((f) => (f.event === 'dtmf' ? `dtmf:${f.dtmf.digit}` : f.event));
    // Key presses queue behind the speech that was sent before them.
    expect(events.indexOf('dtmf:4')).toBe(2 + Math.ceil(speech.length / TWILIO_FRAME_BYTES));
    expect(events.filter((e) => e === 'dtmf:#')).toHaveLength(1);
    expect(call.mediaFramesSent).toBe(Math.ceil(speech.length / TWILIO_FRAME_BYTES) + 2);
  });
});

describe('playback of what the server sends', () => {
  /** `ms` of the fixture as 20 ms media frames to the caller. */
  const sendSpeech = (stream: MediaStream, ms: number, fromMs = 0) => {
    const audio = speech.subarray(fromMs * MULAW_BYTES_PER_MS, (fromMs + ms) * MULAW_BYTES_PER_MS);
    for (let at = 0; at < audio.length; at += TWILIO_FRAME_BYTES) {
      stream.socket.send(
        mediaFrame(stream.streamSid(), audio.subarray(at, at + TWILIO_FRAME_BYTES).toString('base64')),
      );
    }
    return audio;
  };
  const echoedMarks = (stream: MediaStream) =>
    stream.frames.flatMap((f) => (f.event === 'mark' ? [{ name: f.mark.name, sequenceNumber: f.sequenceNumber }] : []));

  it('echoes a mark once the audio before it has played', async () => {
    const { server, call, stream } = await connect();
    const audio = sendSpeech(stream, 200);
    stream.socket.send(markFrame(stream.streamSid(), 'reply-1'));
    await call.waitFor((received) => received.some((r) => r.valid && r.frame.event === 'mark'));
    const markArrival = call.received.find((r) => r.valid && r.frame.event === 'mark');
    expect(markArrival?.playedMs).toBeLessThan(200);
    await server.until(() => echoedMarks(stream).length === 1);
    expect(echoedMarks(stream)[0]?.name).toBe('reply-1');
    expect(call.playedMs).toBe(200);
    expect(call.played.equals(audio)).toBe(true);
    expect(call.invalidFrameCount).toBe(0);
  });

  it('on clear, drops the audio not yet played and echoes every pending mark at once', async () => {
    const { server, call, stream } = await connect();
    const firstPart = sendSpeech(stream, 1200);
    stream.socket.send(markFrame(stream.streamSid(), 'first'));
    const audio = Buffer.concat([firstPart, sendSpeech(stream, 800, 1200)]);
    stream.socket.send(markFrame(stream.streamSid(), 'second'));
    await call.waitFor((received) => received.filter((r) => r.valid && r.frame.event === 'mark').length === 2);
    expect(call.echoedMarks).toEqual([]);
    await call.waitFor((_received, c) => c.playedMs >= 60);
    stream.socket.send(clearFrame(stream.streamSid()));
    await server.until(() => echoedMarks(stream).length === 2);
    const [first, second] = echoedMarks(stream);
    expect([first?.name, second?.name]).toEqual(['first', 'second']);
    expect(second?.sequenceNumber).toBe((first?.sequenceNumber ?? 0) + 1);
    const played = call.played;
    expect(played.length).toBeGreaterThan(0);
    // Cleared long before the first mark's audio had played.
    expect(played.length).toBeLessThan(firstPart.length);
    expect(audio.subarray(0, played.length).equals(played)).toBe(true);
    expect(call.queuedMs).toBe(0);
    expect(call.discardedMs).toBe(2000 - played.length / MULAW_BYTES_PER_MS);

    // Playback goes on after a clear with what comes next.
    sendSpeech(stream, 40);
    stream.socket.send(markFrame(stream.streamSid(), 'after-clear'));
    await server.until(() => echoedMarks(stream).length === 3);
    expect(call.playedMs).toBe(played.length / MULAW_BYTES_PER_MS + 40);
  });

  it('echoes a mark with nothing queued before it straight away', async () => {
    const { server, stream } = await connect();
    stream.socket.send(markFrame(stream.streamSid(), 'empty'));
    await server.until(() => echoedMarks(stream).length === 1);
  });

  it('counts frames Twilio would refuse and keeps the call up', async () => {
    const { call, stream } = await connect();
    stream.socket.send('not json');
    stream.socket.send(JSON.stringify({ event: 'stop', streamSid: stream.streamSid() }));
    stream.socket.send(mediaFrame('MZ-someone-else', Buffer.alloc(160, 0xff).toString('base64')));
    stream.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    await call.waitFor((received) => received.length === 4);
    expect(call.invalidFrameCount).toBe(4);
    const reasons = call.received.map((r) => (r.valid ? 'valid' : r.reason));
    expect(reasons[0]).toMatch(/not JSON/);
    expect(reasons[1]).toMatch(/unknown event 'stop'/);
    expect(reasons[2]).toMatch(/streamSid MZ-someone-else is not this stream's/);
    expect(reasons[3]).toMatch(/binary frame/);
    expect(call.isOpen).toBe(true);
  });
});

describe('ending the call', () => {
  it('hangs up with a stop frame, then posts a signed status callback', async () => {
    const { server, call, stream } = await connect();
    const closed = await call.hangUp();
    expect(closed).toMatchObject({ code: 1000, by: 'caller' });
    await server.until(() => stream.frames.some((f) => f.event === 'stop'));
    const stop = stream.frames.at(-1);
    expect(stop?.event === 'stop' && stop.stop).toEqual({ accountSid: call.accountSid, callSid: call.callSid });
    const status = await call.postStatus('completed');
    expect(status.status).toBe(204);
    expect(server.webhooks.at(-1)).toMatchObject({
      path: '/twilio/status',
      signatureValid: true,
      params: { CallSid: call.callSid, CallStatus: 'completed', AccountSid: call.accountSid },
    });
    expect(server.webhooks.at(-1)?.params.CallDuration).toMatch(/^\d+$/);
  });

  it('sees the server close the stream', async () => {
    const { call, stream } = await connect();
    stream.socket.close(1011, 'bridge failed');
    expect(await call.closed).toEqual({ code: 1011, reason: 'bridge failed', by: 'server' });
    expect(await call.sendSilence(100)).toBe(0);
  });

  it('lets a test send a malformed frame, and says what it saw when a wait times out', async () => {
    const { server, call, stream } = await connect();
    call.sendRaw('{"event":"media","streamSid":');
    await server.until(() => stream.badFrames.length === 1);
    expect(stream.badFrames[0]).toMatch(/not JSON/);
    const waiting = call.waitFor(() => false, { timeoutMs: 30, what: 'a reply' });
    await expect(waiting).rejects.toThrow(SimulatedCallError);
    await expect(waiting).rejects.toThrow(/a reply: not seen within 30 ms\. Received nothing/);
  });
});
