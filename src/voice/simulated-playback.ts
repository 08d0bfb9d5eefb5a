/**
 * Twilio's outbound playback buffer, as the simulated caller models it: audio plays in real time
 * at 8 bytes/ms, a `mark` comes back once the audio queued before it has played, and `clear`
 * drops what has not played and returns every pending mark at once. Time is passed in, so the
 * model is pure and can be tested without waiting.
 */
import { MULAW_BYTES_PER_MS } from './audio.js';

/** Twilio drops outbound audio buffered beyond 10 minutes. */
export const MAX_TWILIO_BUFFERED_AUDIO_MS = 10 * 60 * 1000;
const MAX_BUFFERED_BYTES = MAX_TWILIO_BUFFERED_AUDIO_MS * MULAW_BYTES_PER_MS;

type QueueItem = { kind: 'audio'; bytes: Buffer; offset: number } | { kind: 'mark'; name: string };

/** One call's playback buffer. `nowMs` is any monotonic clock in ms (e.g. `performance.now()`). */
export class SimulatedPlayback {
  #queue: QueueItem[] = [];
  #queuedBytes = 0;
  #played: Buffer[] = [];
  #playedBytes = 0;
  #discardedBytes = 0;
  #droppedBytes = 0;
  /** When the current run of uninterrupted playback began; undefined while idle. */
  #runStartMs: number | undefined;
  #runPlayedBytes = 0;

  /** Bytes of audio played so far. */
  get playedBytes(): number {
    return this.#playedBytes;
  }

  /** Audio played so far, in ms. */
  get playedMs(): number {
    return this.#playedBytes / MULAW_BYTES_PER_MS;
  }

  /** Audio waiting to play, in bytes. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Audio that `clear` discarded before it played, in bytes. */
  get discardedBytes(): number {
    return this.#discardedBytes;
  }

  /** Audio refused because more than 10 minutes were already buffered, in bytes. */
  get droppedBytes(): number {
    return this.#droppedBytes;
  }

  /** Marks waiting for their audio to play. */
  get pendingMarks(): string[] {
    return this.#queue.flatMap((item) => (item.kind === 'mark' ? [item.name] : []));
  }

  /** The μ-law bytes that have played, in order. */
  played(): Buffer {
    if (this.#played.length > 1) this.#played = [Buffer.concat(this.#played)];
    return this.#played[0] ?? Buffer.alloc(0);
  }

  /** Queues audio; returns the marks this released (none, but playback may have moved on first). */
  enqueueAudio(bytes: Uint8Array, nowMs: number): string[] {
    const echoed = this.advance(nowMs);
    const room = MAX_BUFFERED_BYTES - this.#queuedBytes;
    const accepted = bytes.length <= room ? bytes : bytes.subarray(0, Math.max(0, room));
    this.#droppedBytes += bytes.length - accepted.length;
    if (accepted.length === 0) return echoed;
    this.#queue.push({ kind: 'audio', bytes: Buffer.from(accepted), offset: 0 });
    this.#queuedBytes += accepted.length;
    if (this.#runStartMs === undefined) {
      this.#runStartMs = nowMs;
      this.#runPlayedBytes = 0;
    }
    return echoed;
  }

  /** Queues a mark; returns the marks to echo now (this one too when nothing is left to play before it). */
  enqueueMark(name: string, nowMs: number): string[] {
    this.advance(nowMs);
    this.#queue.push({ kind: 'mark', name });
    return this.advance(nowMs);
  }

  /** Drops unplayed audio; returns every pending mark, to echo at once. */
  clear(nowMs: number): string[] {
    const echoed = this.advance(nowMs);
    this.#discardedBytes += this.#queuedBytes;
    echoed.push(...this.pendingMarks);
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#runStartMs = undefined;
    return echoed;
  }

  /** Plays what is due by `nowMs`; returns the marks whose audio has now played. */
  advance(nowMs: number): string[] {
    const echoed: string[] = [];
    let due =
      this.#runStartMs === undefined
        ? 0
        : Math.floor((nowMs - this.#runStartMs) * MULAW_BYTES_PER_MS) - this.#runPlayedBytes;
    while (this.#queue.length > 0) {
      const head = this.#queue[0];
      if (!head) break;
      if (head.kind === 'mark') {
        echoed.push(head.name);
        this.#queue.shift();
        continue;
      }
      if (due <= 0) break;
      const take = Math.min(due, head.bytes.length - head.offset);
      this.#played.push(head.bytes.subarray(head.offset, head.offset + take));
      head.offset += take;
      due -= take;
      this.#playedBytes += take;
      this.#runPlayedBytes += take;
      this.#queuedBytes -= take;
      if (head.offset === head.bytes.length) this.#queue.shift();
    }
    // An empty buffer plays silence: time spent idle is not credit for audio that arrives later.
    if (this.#queuedBytes === 0) this.#runStartMs = undefined;
    return echoed;
  }
}
