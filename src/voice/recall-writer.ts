/**
 * A call's transcript, written to recall in the order it happened but never on the audio path:
 * each line is queued behind the previous one and the caller of `write` never waits. A failed
 * write is logged and the next one still runs.
 */
import type { Logger } from '../logger.js';
import type { AppendMessageInput, MemoryEngine, SessionScope } from '../memory/index.js';

export class RecallWriter {
  readonly #memory: Pick<MemoryEngine, 'appendMessage'>;
  readonly #logger: Logger;
  #tail: Promise<void> = Promise.resolve();

  constructor(input: { memory: Pick<MemoryEngine, 'appendMessage'>; logger: Logger }) {
    this.#memory = input.memory;
    this.#logger = input.logger;
  }

  /** Queues one message; returns at once. */
  write(scope: SessionScope, message: Omit<AppendMessageInput, 'scope'>): void {
    this.#tail = this.#tail.then(() =>
      this.#memory.appendMessage({ scope, ...message }).then(
        () => undefined,
        (error: unknown) => this.#logger.error({ err: error, role: message.role }, 'transcript line not saved'),
      ),
    );
  }

  /** Resolves once every queued message is written (or has failed). */
  flush(): Promise<void> {
    return this.#tail;
  }
}
