/**
 * A connected call's Media Stream as Twilio runs it, for the simulated caller: caller audio in
 * paced 20 ms frames, key presses, hang-up, and playback of what the server sends (marks, clear).
 */
import { readFile } from 'node:fs/promises';
import { WebSocket } from 'ws';
import { HearthError } from '../errors.js';
import {
  frameMulaw,
  MULAW_BYTES_PER_MS,
  mulawSilence,
  type SpeechOptions,
  speechToMulaw,
  TWILIO_FRAME_MS,
  wavToMulaw,
} from './audio.js';
import { type InboundWireFrame, type OutboundFrame, parseOutboundFrame } from './media-protocol.js';
import { SimulatedPlayback } from './simulated-playback.js';
import { type CallIdentity, type CallStatus, postStatus, twilioSid } from './simulated-webhooks.js';

const DEFAULT_WAIT_TIMEOUT_MS = 5_000;
/** How long the server must be silent for its reply to count as finished. */
const REPLY_QUIET_MS = 1000;
const REPLY_POLL_MS = 100;
const DEFAULT_REPLY_TIMEOUT_MS = 30_000;
const DTMF_GAP_MS = 100;

/** The simulated call failed or a wait ran out; the message says what was seen. */
export class SimulatedCallError extends HearthError {
  override readonly code = 'simulated_call_error';
}

/** A frame the server sent, with when it arrived and how much audio had played by then. */
export type ReceivedFrame = { atMs: number; playedMs: number; raw: string } & (
  | { valid: true; frame: OutboundFrame }
  | { valid: false; reason: string }
);

export interface CallClosed {
  code: number;
  reason: string;
  by: 'caller' | 'server';
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface SimulatedCallInit {
  socket: WebSocket;
  identity: CallIdentity;
  customParameters: Record<string, string>;
  dialedAt: number;
}

type Waiter = () => void;

/** A connected call's Media Stream, from Twilio's side. Made by `dial`. */
export class SimulatedCall {
  /** Settles when the socket closes, whoever closed it. */
  readonly closed: Promise<CallClosed>;
  #streamSid = twilioSid('MZ');
  #socket: WebSocket;
  #identity: CallIdentity;
  #customParameters: Record<string, string>;
  #dialedAt: number;
  #startedAt = performance.now();
  #sequence = 0;
  #chunk = 0;
  #lastTimestampMs = -TWILIO_FRAME_MS;
  #sending: Promise<unknown> = Promise.resolve();
  #playback = new SimulatedPlayback();
  #playbackTimer: ReturnType<typeof setInterval> | undefined;
  #received: ReceivedFrame[] = [];
  #echoedMarks: string[] = [];
  #invalidFrames = 0;
  #closedBy: CallClosed['by'] = 'server';
  #closeInfo: CallClosed | undefined;
  #waiters = new Set<Waiter>();
  #notifying = false;

  constructor(init: SimulatedCallInit) {
    if (init.socket.readyState !== WebSocket.OPEN) throw new RangeError('SimulatedCall needs an open socket');
    this.#socket = init.socket;
    this.#identity = init.identity;
    this.#customParameters = init.customParameters;
    this.#dialedAt = init.dialedAt;
    this.closed = new Promise((resolve) => {
      this.#socket.on('close', (code, reason) => {
        this.#stopPlaybackTimer();
        this.#closeInfo = { code, reason: reason.toString('utf8'), by: this.#closedBy };
        resolve(this.#closeInfo);
        this.#notify();
      });
    });
    this.#socket.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    this.#send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    this.#send({
      event: 'start',
      sequenceNumber: this.#nextSequence(),
      streamSid: this.#streamSid,
      start: {
        accountSid: this.#identity.accountSid,
        streamSid: this.#streamSid,
        callSid: this.#identity.callSid,
        tracks: ['inbound'],
        customParameters: this.#customParameters,
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
    });
  }

  /** The stream's SID (`MZ…`), as in every frame. */
  get streamSid(): string {
    return this.#streamSid;
  }

  get callSid(): string {
    return this.#identity.callSid;
  }

  get accountSid(): string {
    return this.#identity.accountSid;
  }

  /** The `<Parameter>`s of the TwiML, sent in `start.customParameters`. */
  get customParameters(): Readonly<Record<string, string>> {
    return this.#customParameters;
  }

  get isOpen(): boolean {
    return this.#socket.readyState === WebSocket.OPEN;
  }

  /** Every frame the server sent, in order. */
  get received(): readonly ReceivedFrame[] {
    return this.#received;
  }

  /** Frames Twilio would have refused (not JSON, not `media`/`mark`/`clear`, wrong streamSid). */
  get invalidFrameCount(): number {
    return this.#invalidFrames;
  }

  /** Names of the marks sent back to the server, in order. */
  get echoedMarks(): readonly string[] {
    return this.#echoedMarks;
  }

  /** Media frames sent so far. */
  get mediaFramesSent(): number {
    return this.#chunk;
  }

  /** The server's μ-law audio that has played to the caller. */
  get played(): Buffer {
    this.#advancePlayback();
    return this.#playback.played();
  }

  /** The server's audio played so far, in ms. */
  get playedMs(): number {
    this.#advancePlayback();
    return this.#playback.playedMs;
  }

  /** The server's audio that a `clear` discarded before it played, in ms. */
  get discardedMs(): number {
    return this.#playback.discardedBytes / MULAW_BYTES_PER_MS;
  }

  /** The server's audio waiting to play, in ms. */
  get queuedMs(): number {
    this.#advancePlayback();
    return this.#playback.queuedBytes / MULAW_BYTES_PER_MS;
  }

  /**
   * Sends μ-law audio as 20 ms `media` frames (the last padded with silence), paced in real time
   * by default. Calls queue behind each other. Resolves with the frames sent; stops early if the
   * call ends.
   */
  sendAudio(mulaw: Uint8Array, options: { paced?: boolean } = {}): Promise<number> {
    const frames = frameMulaw(mulaw);
    const paced = options.paced ?? true;
    const run = this.#sending.then(async () => {
      const began = performance.now();
      let sent = 0;
      for (const frame of frames) {
        // Frame i holds audio spoken during [20i, 20i + 20) ms, so it can leave at 20(i + 1).
        const wait = began + (sent + 1) * TWILIO_FRAME_MS - performance.now();
        if (paced && wait > 0) await sleep(wait);
        if (!this.isOpen) break;
        this.#sendMedia(frame);
        sent++;
      }
      return sent;
    });
    // A failed run must not stop the ones queued behind it.
    this.#sending = run.catch(() => undefined);
    return run;
  }

  /**
   * Keeps the line open with silence until the server has spoken and then gone quiet for `quietMs`
   * with everything it sent played: the agent's reply, heard whole. Resolves early if the call closes.
   */
  async waitForReply(options: { quietMs?: number; timeoutMs?: number } = {}): Promise<void> {
    const quietMs = options.quietMs ?? REPLY_QUIET_MS;
    const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS);
    const start = this.#received.length;
    let seen = start;
    let quietFor = 0;
    while (this.isOpen && (seen === start || quietFor < quietMs || this.queuedMs > 0)) {
      if (Date.now() > deadline)
        throw new SimulatedCallError(`waitForReply: no quiet reply in time. ${this.#summary()}`);
      await this.sendSilence(REPLY_POLL_MS);
      quietFor = this.#received.length === seen ? quietFor + REPLY_POLL_MS : 0;
      seen = this.#received.length;
    }
  }

  /** Sends `ms` of silence (what a quiet line carries). */
  sendSilence(ms: number, options: { paced?: boolean } = {}): Promise<number> {
    return this.sendAudio(mulawSilence(ms), options);
  }

  /** Speaks `text` with espeak-ng (see `speechToMulaw`) and sends it. */
  async say(text: string, options: SpeechOptions & { paced?: boolean } = {}): Promise<number> {
    return this.sendAudio(await speechToMulaw(text, options), options);
  }

  /** Sends a WAV file (any format `wavToMulaw` reads). */
  async sendWavFile(path: string, options: { paced?: boolean } = {}): Promise<number> {
    return this.sendAudio(wavToMulaw(await readFile(path)), options);
  }

  /** Presses keys: one `dtmf` frame per digit, 100 ms apart, after any audio being sent. */
  press(digits: string): Promise<void> {
    if (!/^[0-9*#A-D]+$/.test(digits)) throw new RangeError(`press() takes keys 0-9, *, # and A-D, not "${digits}"`);
    const run = this.#sending.then(async () => {
      for (const digit of digits) {
        if (!this.isOpen) return;
        this.#send({
          event: 'dtmf',
          streamSid: this.#streamSid,
          sequenceNumber: this.#nextSequence(),
          dtmf: { track: 'inbound_track', digit },
        });
        await sleep(DTMF_GAP_MS);
      }
    });
    // A failed run must not stop the ones queued behind it.
    this.#sending = run.catch(() => undefined);
    return run;
  }

  /** Sends any text frame as is, e.g. a malformed one. */
  sendRaw(data: string): void {
    if (this.isOpen) this.#socket.send(data);
  }

  /** Hangs up as Twilio does: a `stop` frame, then the socket closes. */
  async hangUp(): Promise<CallClosed> {
    if (this.isOpen) {
      this.#send({
        event: 'stop',
        sequenceNumber: this.#nextSequence(),
        streamSid: this.#streamSid,
        stop: { accountSid: this.#identity.accountSid, callSid: this.#identity.callSid },
      });
      this.#closedBy = 'caller';
      this.#socket.close(1000, 'call ended');
    }
    return this.closed;
  }

  /** POSTs a signed status callback for this call; `completed` carries the call's duration. */
  postStatus(status: CallStatus): Promise<{ status: number; body: string }> {
    return postStatus({ ...this.#identity, status, durationSec: (performance.now() - this.#dialedAt) / 1000 });
  }

  /**
   * Resolves once `predicate` holds; checked now and whenever a frame arrives, audio plays, a mark
   * is echoed or the socket closes. Rejects with `SimulatedCallError` on timeout or if the call closes first.
   */
  waitFor(
    predicate: (received: readonly ReceivedFrame[], call: SimulatedCall) => boolean,
    options: { timeoutMs?: number; what?: string } = {},
  ): Promise<void> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        this.#waiters.delete(check);
        clearTimeout(timer);
        reject(new SimulatedCallError(`${options.what ?? 'waitFor'}: ${why}. ${this.#summary()}`));
      };
      const check: Waiter = () => {
        let holds: boolean;
        try {
          holds = predicate(this.#received, this);
        } catch (error) {
          fail(`the predicate threw: ${(error as Error).message}`);
          return;
        }
        if (holds) {
          this.#waiters.delete(check);
          clearTimeout(timer);
          resolve();
        } else if (this.#closeInfo) {
          fail(`the call closed (code ${this.#closeInfo.code}) first`);
        }
      };
      const timer = setTimeout(() => fail(`not seen within ${timeoutMs} ms`), timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  #summary(): string {
    const counts = new Map<string, number>();
    for (const r of this.#received) {
      const key = r.valid ? r.frame.event : 'invalid';
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const seen = [...counts].map(([event, n]) => `${n} ${event}`).join(', ') || 'nothing';
    return `Received ${seen}; played ${this.#playback.playedMs} ms; echoed marks [${this.#echoedMarks.join(', ')}].`;
  }

  #notify(): void {
    // Predicates read getters that advance playback and would notify again: check once.
    if (this.#notifying) return;
    this.#notifying = true;
    try {
      for (const waiter of [...this.#waiters]) waiter();
    } finally {
      this.#notifying = false;
    }
  }

  #nextSequence(): string {
    this.#sequence += 1;
    return String(this.#sequence);
  }

  #send(frame: InboundWireFrame): void {
    if (this.isOpen) this.#socket.send(JSON.stringify(frame));
  }

  #sendMedia(frame: Buffer): void {
    this.#chunk += 1;
    // Twilio's timestamp is the media clock: wall time since start, never less than the audio sent.
    const elapsedMs = Math.round(performance.now() - this.#startedAt);
    this.#lastTimestampMs = Math.max(elapsedMs, this.#lastTimestampMs + TWILIO_FRAME_MS);
    this.#send({
      event: 'media',
      sequenceNumber: this.#nextSequence(),
      streamSid: this.#streamSid,
      media: {
        track: 'inbound',
        chunk: String(this.#chunk),
        timestamp: String(this.#lastTimestampMs),
        payload: frame.toString('base64'),
      },
    });
  }

  #onMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    const now = performance.now();
    this.#advancePlayback(now);
    const base = { atMs: now - this.#startedAt, playedMs: this.#playback.playedMs };
    const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? Buffer.from(data) : data;
    const raw = isBinary ? `<binary, ${bytes.length} bytes>` : bytes.toString('utf8');
    const parsed = isBinary
      ? { ok: false as const, reason: 'binary frame: Twilio expects JSON text' }
      : parseOutboundFrame(bytes);
    if (!parsed.ok || parsed.frame.streamSid !== this.#streamSid) {
      this.#invalidFrames += 1;
      const reason = parsed.ok ? `streamSid ${parsed.frame.streamSid} is not this stream's` : parsed.reason;
      this.#received.push({ ...base, raw, valid: false, reason });
      this.#notify();
      return;
    }
    const frame = parsed.frame;
    this.#received.push({ ...base, raw, valid: true, frame });
    if (frame.event === 'media') {
      this.#echo(this.#playback.enqueueAudio(Buffer.from(frame.media.payload, 'base64'), now));
      this.#startPlaybackTimer();
    } else if (frame.event === 'mark') {
      this.#echo(this.#playback.enqueueMark(frame.mark.name, now));
    } else {
      this.#echo(this.#playback.clear(now));
    }
    this.#notify();
  }

  #advancePlayback(now = performance.now()): void {
    const before = this.#playback.playedBytes;
    this.#echo(this.#playback.advance(now));
    if (this.#playback.queuedBytes === 0) this.#stopPlaybackTimer();
    // Waiters may be watching playback (e.g. "200 ms played"), not only frames.
    if (this.#playback.playedBytes !== before) this.#notify();
  }

  #echo(marks: string[]): void {
    for (const name of marks) {
      this.#echoedMarks.push(name);
      this.#send({ event: 'mark', sequenceNumber: this.#nextSequence(), streamSid: this.#streamSid, mark: { name } });
    }
    if (marks.length > 0) this.#notify();
  }

  #startPlaybackTimer(): void {
    if (this.#playbackTimer || !this.isOpen) return;
    this.#playbackTimer = setInterval(() => this.#advancePlayback(), TWILIO_FRAME_MS);
  }

  #stopPlaybackTimer(): void {
    clearInterval(this.#playbackTimer);
    this.#playbackTimer = undefined;
  }
}
