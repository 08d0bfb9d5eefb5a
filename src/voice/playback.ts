/**
 * What the caller has actually heard of the model's speech. Audio sent to Twilio is followed by
 * a named `mark`; Twilio echoes a mark once the audio before it has played. At a barge-in the
 * played position, not the sent one, is where the assistant's item is cut (without the cut the
 * model believes the caller heard everything). Marks still pending at a `clear` come back at
 * once and must not count as played.
 */
import { MULAW_BYTES_PER_MS } from './audio.js';

/** The assistant item being heard, and how far. */
export interface PlaybackPosition {
  itemId: string;
  /** Milliseconds of the item's audio sent to Twilio. */
  sentMs: number;
  /** Milliseconds of it the caller has heard. */
  playedMs: number;
}

export class PlaybackTracker {
  #current: PlaybackPosition | undefined;
  /** Marks sent and not yet echoed: name → the item and position they stand for. */
  readonly #pending = new Map<string, { itemId: string; ms: number }>();
  #sequence = 0;

  /** The item being played, if any. */
  get current(): PlaybackPosition | undefined {
    return this.#current ? { ...this.#current } : undefined;
  }

  /** Whether audio sent has not finished playing. */
  get playing(): boolean {
    return this.#current !== undefined && this.#current.playedMs < this.#current.sentMs;
  }

  /** Records `bytes` of μ-law sent for `itemId`; returns the name of the mark to send after them. */
  sent(itemId: string, bytes: number): string {
    if (this.#current?.itemId !== itemId) this.#current = { itemId, sentMs: 0, playedMs: 0 };
    this.#current.sentMs += bytes / MULAW_BYTES_PER_MS;
    const name = `hearth-${++this.#sequence}`;
    this.#pending.set(name, { itemId, ms: this.#current.sentMs });
    return name;
  }

  /** Twilio echoed `name`: the audio before it has played. Unknown names (another sender's, or cleared) are ignored. */
  played(name: string): void {
    const mark = this.#pending.get(name);
    if (!mark) return;
    this.#pending.delete(name);
    if (this.#current?.itemId === mark.itemId) this.#current.playedMs = Math.max(this.#current.playedMs, mark.ms);
  }

  /** A barge-in: what was heard of the current item; the marks Twilio is about to return count for nothing. */
  interrupt(): PlaybackPosition | undefined {
    const heard = this.current;
    this.#pending.clear();
    this.#current = undefined;
    return heard;
  }
}
