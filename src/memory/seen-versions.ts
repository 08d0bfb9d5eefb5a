/**
 * Which version of each block a session's model has in front of it. A `memory_rethink`
 * rewrites a whole block from what the model saw; if the block changed since (another
 * caller's edit), or the model was never shown it here, writing would silently drop edits it
 * has not seen, so the rewrite is refused and the model is shown the current value. Kept in
 * memory: a session's context and its tools run in one process.
 */
import type { SessionScope } from './types.js';

/** Sessions tracked at once; the oldest is forgotten first (it has long ended). */
const MAX_TRACKED_SESSIONS = 2000;

/** Whose view: one call; without a call id, the member (or unknown caller) of a household. */
type Viewer = Pick<SessionScope, 'householdId' | 'memberId' | 'callId'>;

/**
 * A call is one session. Sessions without a call share a key per member, the narrowest there
 * is: they may see each other's versions, but never another member's.
 */
function sessionKey(viewer: Viewer): string {
  return viewer.callId ? `call:${viewer.callId}` : `no-call:${viewer.householdId}/${viewer.memberId ?? 'unknown'}`;
}

/** Per session, per block: the version the model last saw. */
export class SeenVersions {
  readonly #sessions = new Map<string, Map<string, number>>();

  /** The session's model was just shown these blocks (and no others). */
  recordShown(viewer: Viewer, blocks: Array<{ id: string; version: number }>): void {
    this.#replace(sessionKey(viewer), new Map(blocks.map((block) => [block.id, block.version])));
  }

  /** The version the session's model last saw, if it was shown the block here. */
  get(viewer: Viewer, blockId: string): number | undefined {
    return this.#sessions.get(sessionKey(viewer))?.get(blockId);
  }

  /**
   * After the model's own write from version `from` to `to`: it now knows `to`, but only if it
   * knew `from`; an edit applied on top of someone else's unseen change leaves it behind.
   */
  advance(input: { viewer: Viewer; blockId: string; from: number; to: number }): void {
    const seen = this.#sessions.get(sessionKey(input.viewer));
    if (seen?.get(input.blockId) === input.from) seen.set(input.blockId, input.to);
  }

  /** The session's model was shown this block's current value (in a tool result). */
  recordOne(viewer: Viewer, block: { id: string; version: number }): void {
    const key = sessionKey(viewer);
    const seen = this.#sessions.get(key) ?? new Map<string, number>();
    seen.set(block.id, block.version);
    this.#replace(key, seen);
  }

  /** Stores the session as the most recently used, forgetting the oldest past the cap. */
  #replace(key: string, seen: Map<string, number>): void {
    this.#sessions.delete(key);
    this.#sessions.set(key, seen);
    if (this.#sessions.size > MAX_TRACKED_SESSIONS) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
  }
}
