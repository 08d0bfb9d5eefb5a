/**
 * Block-change events. Every block write publishes one so that live calls re-render their
 * instructions. In one process an emitter suffices; across app instances on Postgres the
 * change also travels through LISTEN/NOTIFY.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { z } from 'zod';
import type { Database } from '../db/index.js';
import type { Logger } from '../logger.js';

/**
 * What changed: which block in which household's memory, and its version after the write. A
 * write to a block several households see (an attached block) publishes one per household.
 */
export type BlockChange = {
  householdId: string;
  blockId: string;
  label: string;
  memberId: string | null;
  version: number;
  /**
   * True when the block is gone from this household's memory: deleted, or detached from the
   * household (`version` is then its last version).
   */
  deleted: boolean;
};

/** Where block changes are published and heard. */
export interface MemoryEvents {
  /** Delivers to this process's listeners at once, and to other instances where supported. */
  publish(change: BlockChange): Promise<void>;
  subscribe(listener: (change: BlockChange) => void): () => void;
  close(): Promise<void>;
}

/** The Postgres channel memory changes are notified on. */
const MEMORY_CHANGES_CHANNEL = 'hearth_memory_changes';
const RECONNECT_DELAY_MS = 1000;

const blockChangeSchema = z.object({
  householdId: z.string(),
  blockId: z.string(),
  label: z.string(),
  memberId: z.string().nullable(),
  version: z.number().int(),
  deleted: z.boolean(),
});
const notificationSchema = z.object({ origin: z.string(), change: blockChangeSchema });

/** In-process listeners; a throwing listener is logged and does not stop the others. */
class Listeners {
  readonly #listeners = new Set<(change: BlockChange) => void>();
  readonly #logger: Logger | undefined;

  constructor(logger: Logger | undefined) {
    this.#logger = logger;
  }

  add(listener: (change: BlockChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(change: BlockChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        this.#logger?.error({ err: error, blockId: change.blockId }, 'memory change listener failed');
      }
    }
  }
}

/** Events for one process. PGlite is single-process, so this is all the embedded database needs. */
export function createInProcessEvents(options: { logger?: Logger } = {}): MemoryEvents {
  const listeners = new Listeners(options.logger);
  return {
    async publish(change) {
      listeners.emit(change);
    },
    subscribe: (listener) => listeners.add(listener),
    async close() {},
  };
}

/**
 * Events for a database: on Postgres, LISTEN/NOTIFY carries changes between app instances;
 * on PGlite (one process by construction) the in-process emitter is the whole story.
 */
export async function createMemoryEvents(options: { db: Database; logger?: Logger }): Promise<MemoryEvents> {
  if (options.db.kind !== 'postgres' || !options.db.url) return createInProcessEvents(options);
  const events = new PostgresMemoryEvents(options.db.url, options.logger);
  await events.connect();
  return events;
}

/**
 * Local listeners hear a change at once; other instances hear it through NOTIFY. Each
 * notification carries this instance's id so it does not hear its own changes twice. A
 * dropped LISTEN connection is re-opened; changes notified while it was down are missed.
 */
class PostgresMemoryEvents implements MemoryEvents {
  readonly #origin = randomUUID();
  readonly #url: string;
  readonly #logger: Logger | undefined;
  readonly #listeners: Listeners;
  #client: pg.Client | undefined;
  #closed = false;

  constructor(url: string, logger: Logger | undefined) {
    this.#url = url;
    this.#logger = logger;
    this.#listeners = new Listeners(logger);
  }

  async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#url });
    client.on('notification', (message) => this.#onNotification(message.payload));
    client.on('error', (error) => {
      this.#logger?.warn({ err: error }, 'memory change channel failed; reconnecting');
      this.#onConnectionLost(client);
    });
    client.on('end', () => this.#onConnectionLost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${MEMORY_CHANGES_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    // close() ran while this (re)connect was in flight: keeping the client would leak it and
    // hold the process open.
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
  }

  async publish(change: BlockChange): Promise<void> {
    this.#listeners.emit(change);
    const payload = JSON.stringify({ origin: this.#origin, change });
    try {
      await this.#client?.query('SELECT pg_notify($1, $2)', [MEMORY_CHANGES_CHANNEL, payload]);
    } catch (error) {
      this.#logger?.warn(
        { err: error, blockId: change.blockId },
        'could not notify other instances of a memory change',
      );
    }
  }

  subscribe(listener: (change: BlockChange) => void): () => void {
    return this.#listeners.add(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  #onNotification(payload: string | undefined): void {
    let parsed: z.infer<typeof notificationSchema>;
    try {
      parsed = notificationSchema.parse(JSON.parse(payload ?? ''));
    } catch {
      this.#logger?.warn('ignored a malformed memory change notification');
      return;
    }
    if (parsed.origin !== this.#origin) this.#listeners.emit(parsed.change);
  }

  #onConnectionLost(client: pg.Client): void {
    if (this.#closed || this.#client !== client) return;
    this.#client = undefined;
    client.end().catch(() => {});
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    setTimeout(() => {
      if (this.#closed) return;
      this.connect().catch((error) => {
        if (this.#closed) return;
        this.#logger?.warn({ err: error }, 'memory change channel is still down');
        this.#scheduleReconnect();
      });
    }, RECONNECT_DELAY_MS).unref();
  }
}
