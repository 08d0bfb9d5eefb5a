/**
 * The live sessions of the calls this instance answered lately, so a turn need not rebuild its
 * context from recall. A session is used again only if it answered the call's previous turn:
 * otherwise another instance answered since, and the session has not seen that turn.
 */

/** Sessions by call id, least recently used first, at most `maxSessions`. */
export class SessionCache<S> {
  readonly #maxSessions: number;
  readonly #entries = new Map<string, { session: S; turn: number }>();

  constructor(options: { maxSessions: number }) {
    if (!Number.isInteger(options.maxSessions) || options.maxSessions < 1) {
      throw new RangeError(`maxSessions must be a positive integer, got ${options.maxSessions}`);
    }
    this.#maxSessions = options.maxSessions;
  }

  /**
   * Takes out the call's session if it answered turn `turn - 1`, so it has seen every earlier
   * turn; undefined otherwise. `put` it back once it has answered `turn`.
   */
  take(callId: string, turn: number): S | undefined {
    const entry = this.#entries.get(callId);
    this.#entries.delete(callId);
    return entry?.turn === turn - 1 ? entry.session : undefined;
  }

  /** Keeps `session` as the one that answered `turn`; past the limit, the least recently used goes. */
  put(callId: string, session: S, turn: number): void {
    this.#entries.delete(callId);
    this.#entries.set(callId, { session, turn });
    if (this.#entries.size <= this.#maxSessions) return;
    const oldest = this.#entries.keys().next().value;
    if (oldest !== undefined) this.#entries.delete(oldest);
  }

  /** Forgets the call's session (the call ended). */
  delete(callId: string): void {
    this.#entries.delete(callId);
  }
}
