/**
 * A call's transcript, written to recall in the order it happened but never on the audio path:
 * each line is queued behind the previous one and the caller of `write` never waits. A failed
 * write is tried again after a pause (a busy or restarting database), then logged with the line's
 * role, and the next one still runs.
 */
import type { Logger } from '../logger.js';
import type { AppendMessageInput, MemoryEngine, SessionScope } from '../memory/index.js';

/** Pauses before the second and third tries of a write. */
const DEFAULT_RETRY_PAUSES_MS = [200, 1000];

export class RecallWriter {
  readonly #memory: Pick<MemoryEngine, 'appendMessage'>;
  readonly #logger: Logger;
  readonly #retryPausesMs: readonly number[];
  #tail: Promise<void> = Promise.resolve();

  constructor(input: {
    memory: Pick<MemoryEngine, 'appendMessage'>;
    logger: Logger;
    retryPausesMs?: readonly number[];
  }) {
    this.#memory = input.memory;
    this.#logger = input.logger;
    this.#retryPausesMs = input.retryPausesMs ?? DEFAULT_RETRY_PAUSES_MS;
  }

  /** Queues one message; returns at once. */
  write(scope: SessionScope, message: Omit<AppendMessageInput, 'scope'>): void {
    this.#tail = this.#tail.then(async () => {
      const pauses = [0, ...this.#retryPausesMs];
      for (const [attempt, pause] of pauses.entries()) {
        if (pause) await new Promise((resolve) => setTimeout(resolve, pause));
        try {
          await this.#memory.appendMessage({ scope, ...message });
          return;
        } catch (error) {
          if (attempt === pauses.length - 1) {
            this.#logger.error({ err: error, role: message.role }, 'transcript line not saved after retries');
          }
        }
      }
    });
  }

  /** Resolves once every queued message is written (or has failed). */
  flush(): Promise<void> {
    return this.#tail;
  }
}
