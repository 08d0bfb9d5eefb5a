/**
 * Twilio's side of a call: one Media Streams WebSocket, as typed events in and three kinds of
 * frame out (`media`, `mark`, `clear`; Twilio errors on anything else). Every inbound frame is
 * parsed at the edge; a malformed or oversized one is counted and dropped, and the call goes on.
 */
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import type { Logger } from '../logger.js';
import { TWILIO_FRAME_BYTES } from './audio.js';
import { clearFrame, type InboundFrame, markFrame, mediaFrame, parseInboundFrame } from './media-protocol.js';

export type StartFrame = Extract<InboundFrame, { event: 'start' }>;

export interface TwilioStreamEvents {
  start: [frame: StartFrame];
  /** 20 ms of the caller's voice, base64 μ-law, as Twilio sent it. */
  audio: [payload: string];
  dtmf: [digit: string];
  /** Twilio played everything sent before the mark of this name (or a `clear` dropped it). */
  mark: [name: string];
  stop: [];
  /** The socket closed, whoever closed it. */
  closed: [];
}

/** One Twilio media stream. */
export class TwilioMediaStream extends EventEmitter<TwilioStreamEvents> {
  readonly #socket: WebSocket;
  readonly #logger: Logger;
  #streamSid: string | undefined;
  #droppedFrames = 0;
  #framesIn = 0;
  #framesOut = 0;

  constructor(socket: WebSocket, logger: Logger) {
    super();
    this.#socket = socket;
    this.#logger = logger;
    socket.on('message', (data, isBinary) => this.#receive(isBinary ? undefined : data.toString()));
    socket.on('close', () => this.emit('closed'));
    socket.on('error', (error) => this.#logger.warn({ err: error }, 'media stream socket error'));
  }

  /** Set by the `start` frame; frames out carry it. */
  get streamSid(): string | undefined {
    return this.#streamSid;
  }

  /** Malformed, oversized or out-of-place frames dropped so far. */
  get droppedFrames(): number {
    return this.#droppedFrames;
  }

  /** Frames received from Twilio, dropped ones included. */
  get framesIn(): number {
    return this.#framesIn;
  }

  /** Media frames of the model's audio sent to Twilio. */
  get framesOut(): number {
    return this.#framesOut;
  }

  get open(): boolean {
    return this.#socket.readyState === this.#socket.OPEN;
  }

  /** Sends the model's audio (base64 μ-law) in 20 ms frames, as Twilio streams it. */
  sendAudio(payload: string): void {
    const streamSid = this.#streamSid;
    if (!streamSid || !this.open) return;
    const bytes = Buffer.from(payload, 'base64');
    for (let offset = 0; offset < bytes.length; offset += TWILIO_FRAME_BYTES) {
      const frame = bytes.subarray(offset, offset + TWILIO_FRAME_BYTES).toString('base64');
      this.#socket.send(mediaFrame(streamSid, frame));
      this.#framesOut++;
    }
  }

  /** Asks Twilio to say when the audio sent so far has played. */
  mark(name: string): void {
    if (this.#streamSid && this.open) this.#socket.send(markFrame(this.#streamSid, name));
  }

  /** Drops the audio Twilio has not played yet (barge-in); pending marks come back at once. */
  clear(): void {
    if (this.#streamSid && this.open) this.#socket.send(clearFrame(this.#streamSid));
  }

  /** Ends the stream; Twilio then moves past `<Connect>` in the TwiML, which hangs up. */
  close(code = 1000, reason = 'call ended'): void {
    if (this.#socket.readyState === this.#socket.OPEN || this.#socket.readyState === this.#socket.CONNECTING) {
      this.#socket.close(code, reason);
    }
  }

  #receive(data: string | undefined): void {
    this.#framesIn++;
    const parsed = data === undefined ? { ok: false as const, reason: 'binary frame' } : parseInboundFrame(data);
    if (!parsed.ok) {
      this.#drop(parsed.reason);
      return;
    }
    const frame = parsed.frame;
    if (frame.event !== 'connected' && frame.event !== 'start' && frame.streamSid !== this.#streamSid) {
      this.#drop(this.#streamSid ? 'a frame of another stream' : `a ${frame.event} frame before start`);
      return;
    }
    switch (frame.event) {
      case 'connected':
        return;
      case 'start':
        if (this.#streamSid) {
          this.#drop('a second start frame');
          return;
        }
        this.#streamSid = frame.streamSid;
        this.emit('start', frame);
        return;
      case 'media':
        // Only the caller's side is forwarded; Hearth asks Twilio for the inbound track alone.
        if (frame.media.track === 'inbound') this.emit('audio', frame.media.payload);
        return;
      case 'dtmf':
        this.emit('dtmf', frame.dtmf.digit);
        return;
      case 'mark':
        this.emit('mark', frame.mark.name);
        return;
      case 'stop':
        this.emit('stop');
        return;
    }
  }

  #drop(reason: string): void {
    this.#droppedFrames++;
    // The first drop says why; after that a count now and then, so a flood cannot flood the log.
    if (this.#droppedFrames === 1 || this.#droppedFrames % 100 === 0) {
      this.#logger.warn({ reason, dropped: this.#droppedFrames }, 'media stream frame dropped');
    }
  }
}
