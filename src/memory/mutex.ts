/**
 * A per-key mutex (Mastra serializes working-memory writes the same way). It only orders
 * writers inside one process; across processes the version compare-and-swap does the work.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `work` after every earlier holder of `key` has finished. */
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => current);
    this.#tails.set(key, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      // Forget idle keys so the map does not grow with every block ever written.
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
