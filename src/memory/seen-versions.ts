/**
 * Which version of each block a call's model has in front of it. A `memory_rethink` rewrites
 * a whole block from what the model saw; if the block changed since (another caller's edit),
 * writing would silently drop that edit, so the rewrite is refused and the model is shown
 * the current value. Kept in memory: a call's context and its tools run in one process.
 */

/** Calls tracked at once; the oldest is forgotten first (it has long ended). */
const MAX_TRACKED_CALLS = 2000;

/** Per call, per block: the version the model last saw. */
export class SeenVersions {
  readonly #calls = new Map<string, Map<string, number>>();

  /** The model of `callId` was just shown these blocks. */
  recordShown(callId: string | null, blocks: Array<{ id: string; version: number }>): void {
    if (!callId) return;
    this.#calls.delete(callId);
    this.#calls.set(callId, new Map(blocks.map((block) => [block.id, block.version])));
    if (this.#calls.size > MAX_TRACKED_CALLS) {
      const oldest = this.#calls.keys().next().value;
      if (oldest !== undefined) this.#calls.delete(oldest);
    }
  }

  /** The version the model of `callId` last saw, if known. */
  get(callId: string | null, blockId: string): number | undefined {
    return callId ? this.#calls.get(callId)?.get(blockId) : undefined;
  }

  /**
   * After the model's own write from version `from` to `to`: it now knows `to`, but only if it
   * knew `from`; an edit applied on top of someone else's unseen change leaves it behind.
   */
  advance(input: { callId: string | null; blockId: string; from: number; to: number }): void {
    const seen = input.callId ? this.#calls.get(input.callId) : undefined;
    if (seen?.get(input.blockId) === input.from) seen.set(input.blockId, input.to);
  }

  /** The model of `callId` was shown this block's current value. */
  recordOne(callId: string | null, block: { id: string; version: number }): void {
    if (callId) this.#calls.get(callId)?.set(block.id, block.version);
  }
}
