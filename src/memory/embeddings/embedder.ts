/**
 * The `Embedder` every memory search uses, and the wrapper that makes any backend cheap to
 * call: an LRU cache keyed by a hash of (model, text), so the same text is never embedded
 * twice in a process, and batching, so texts asked for while a batch is in flight go out
 * together in the next one.
 */
import { createHash } from 'node:crypto';
import { UnavailableError } from '../../errors.js';

/** Every embedding Hearth stores has this many dimensions (one `vector(512)` column serves all models). */
export const EMBEDDING_DIMENSIONS = 512;
/** Longer texts are cut before embedding: OpenAI's limit is 8191 tokens and the local model slows with length. */
const MAX_EMBEDDED_CHARS = 8000;

/** Turns texts into 512-dimensional vectors; `model` is stored with every vector so models never mix. */
export interface Embedder {
  readonly model: string;
  readonly dimensions: typeof EMBEDDING_DIMENSIONS;
  embed(texts: string[]): Promise<number[][]>;
}

/** One model behind the cache: embeds up to `maxBatch` texts per call. */
export interface EmbeddingBackend {
  readonly model: string;
  readonly maxBatch: number;
  embedBatch(texts: string[]): Promise<number[][]>;
}

type Pending = { text: string; resolve: (vector: Float32Array) => void; reject: (error: unknown) => void };

/** Cache + batching around a backend. */
export class CachingEmbedder implements Embedder {
  readonly dimensions = EMBEDDING_DIMENSIONS;
  readonly #backend: EmbeddingBackend;
  readonly #cache: LruCache<Float32Array>;
  /** Texts waiting for the next batch, and texts in the running batch, by cache key. */
  readonly #inFlight = new Map<string, Promise<Float32Array>>();
  readonly #queue = new Map<string, Pending>();
  #draining = false;
  #backendCalls = 0;

  constructor(options: { backend: EmbeddingBackend; cacheSize: number }) {
    this.#backend = options.backend;
    this.#cache = new LruCache(options.cacheSize);
  }

  get model(): string {
    return this.#backend.model;
  }

  /** How many times the backend was called (batches), for tests and metrics. */
  get backendCalls(): number {
    return this.#backendCalls;
  }

  async embed(texts: string[]): Promise<number[][]> {
    const vectors = await Promise.all(texts.map((text) => this.#embedOne(text.slice(0, MAX_EMBEDDED_CHARS))));
    return vectors.map((vector) => Array.from(vector));
  }

  #embedOne(text: string): Promise<Float32Array> {
    const key = createHash('sha256').update(this.model).update('\u0000').update(text).digest('base64url');
    const cached = this.#cache.get(key);
    if (cached) return Promise.resolve(cached);
    const inFlight = this.#inFlight.get(key);
    if (inFlight) return inFlight;
    const promise = new Promise<Float32Array>((resolve, reject) => {
      this.#queue.set(key, { text, resolve, reject });
    });
    this.#inFlight.set(key, promise);
    // Not cached on failure: the next call tries again.
    promise.then(
      (vector) => this.#cache.set(key, vector),
      () => {},
    );
    promise.finally(() => this.#inFlight.delete(key)).catch(() => {});
    if (!this.#draining) {
      this.#draining = true;
      void this.#drain();
    }
    return promise;
  }

  /** Sends queued texts, one backend call at a time, until the queue is empty; never rejects. */
  async #drain(): Promise<void> {
    // Let the current tick's callers join the first batch.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.#queue.size > 0) await this.#sendBatch();
    } finally {
      // Runs in the same tick as the last empty-queue check, so no text is left waiting.
      this.#draining = false;
    }
  }

  async #sendBatch(): Promise<void> {
    const batch = [...this.#queue.entries()].slice(0, this.#backend.maxBatch);
    for (const [key] of batch) this.#queue.delete(key);
    this.#backendCalls++;
    let vectors: number[][];
    try {
      vectors = await this.#backend.embedBatch(batch.map(([, pending]) => pending.text));
    } catch (error) {
      for (const [, pending] of batch) pending.reject(error);
      return;
    }
    batch.forEach(([, pending], index) => {
      const vector = vectors[index];
      if (vector?.length === EMBEDDING_DIMENSIONS) pending.resolve(Float32Array.from(vector));
      else
        pending.reject(new UnavailableError(`${this.model} returned ${vector?.length ?? 'no'} dimensions, not 512.`));
    });
  }
}

/** A least-recently-used map: a JS Map iterates in insertion order, so re-inserting marks use. */
class LruCache<V> {
  readonly #entries = new Map<string, V>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }
}
