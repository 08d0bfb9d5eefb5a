/**
 * A call's conversation as the realtime model holds it, kept under the memory engine's pressure
 * thresholds so a long call never reaches the model's limit: past the warning the model is told
 * to save what matters; past the eviction point the oldest turns are summarised, deleted from the
 * model's conversation (`conversation.item.delete`), and the summary takes their place.
 */
import type { Logger } from '../logger.js';
import type { ContextMessage, MemoryEngine, Summarizer } from '../memory/index.js';
import type { Metrics } from '../metrics.js';

interface LiveItem {
  itemId: string;
  role: 'user' | 'assistant';
  content: string;
}

/** What the conversation needs of the model's connection. */
export interface ConversationModel {
  deleteItem(itemId: string): void;
}

export class LiveConversation {
  readonly #memory: Pick<MemoryEngine, 'contextPressure' | 'summarizeForEviction'>;
  readonly #summarizer: Summarizer;
  readonly #logger: Logger;
  readonly #metrics: Metrics | undefined;
  #items: LiveItem[] = [];
  #notice: string | undefined;
  /** Summaries of evicted turns, oldest first: they stay in the instructions. */
  readonly #summaries: string[] = [];

  constructor(input: {
    memory: Pick<MemoryEngine, 'contextPressure' | 'summarizeForEviction'>;
    summarizer: Summarizer;
    logger: Logger;
    metrics?: Metrics;
  }) {
    this.#memory = input.memory;
    this.#summarizer = input.summarizer;
    this.#logger = input.logger;
    this.#metrics = input.metrics;
  }

  /** What the instructions add: the summaries of evicted turns, and the pressure notice. */
  get instructionsTail(): string {
    const parts: string[] = [];
    if (this.#summaries.length > 0) {
      parts.push(`<call_summary>\n${this.#summaries.join('\n\n')}\n</call_summary>`);
    }
    if (this.#notice) parts.push(this.#notice);
    return parts.join('\n\n');
  }

  /** A finished line of the call, in the model's item `itemId`. */
  heard(itemId: string, role: 'user' | 'assistant', content: string): void {
    this.#items.push({ itemId, role, content });
  }

  /**
   * Checks the pressure after a line; under it, nothing. Returns true when the instructions
   * changed (a notice appeared, or turns were folded into a summary) and should be sent again.
   */
  async relieve(input: { instructions: string; model: ConversationModel; recordSummary(summary: string): void }) {
    const messages = this.#messages();
    const pressure = this.#memory.contextPressure({ messages, instructions: input.instructions });
    if (pressure.level === 'ok') return false;
    this.#metrics?.memoryPressure(pressure.level);
    if (pressure.level === 'warn') {
      const changed = this.#notice !== pressure.notice;
      this.#notice = pressure.notice;
      return changed;
    }
    let evicted: { summary: string; dropCount: number };
    try {
      evicted = await this.#memory.summarizeForEviction({
        messages,
        summarizer: this.#summarizer,
        count: pressure.evictCount,
        instructions: input.instructions,
      });
    } catch (error) {
      // A failed summary costs tokens, not the call: keep the turns and try after the next line.
      this.#logger.warn({ err: error }, 'long call: could not summarise the oldest turns; keeping them');
      return false;
    }
    const dropped = this.#items.slice(0, Math.min(evicted.dropCount, this.#items.length - 1));
    for (const item of dropped) input.model.deleteItem(item.itemId);
    this.#items = this.#items.slice(dropped.length);
    this.#summaries.push(evicted.summary);
    this.#notice = undefined;
    input.recordSummary(evicted.summary);
    this.#logger.info({ dropped: dropped.length }, 'long call: summarised and removed the oldest turns');
    return true;
  }

  #messages(): ContextMessage[] {
    return this.#items.map(({ role, content }) => ({ role, content }));
  }
}
