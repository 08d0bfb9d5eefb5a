/**
 * A call's link to the realtime model, kept up for the whole call. When the model's socket drops,
 * it reconnects once with the same memory and the call so far; the provider caps a session (60
 * minutes), so before the cap it rolls over to a fresh session the same way, between responses.
 * The caller's audio during the gap is held and sent on, so nothing they say is lost. The bridge
 * sees one transport whose events never stop, and a `lost` event when the model cannot be reached.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../logger.js';
import type { RealtimeSessionConfig, RealtimeTransport, RealtimeTransportEvents } from './transport.js';

/** Roll over this long before the provider's cap, so a response in progress can finish first. */
const ROLLOVER_MARGIN_MS = 2 * 60_000;
/** The longest a rollover waits for a response to finish before swapping anyway. */
const ROLLOVER_WAIT_MS = 60_000;
/** Caller audio held while reconnecting: 20 s of 20 ms frames. */
const MAX_HELD_FRAMES = 1000;

/** Events the bridge hears; a transport's, re-emitted, plus the link's own. */
export interface ModelLinkEvents extends Omit<RealtimeTransportEvents, 'closed' | 'connection_change'> {
  /** The model dropped and one reconnect failed: the call cannot go on. */
  lost: [error: Error];
  /** A new session took over (after a drop, or a rollover). */
  restored: [event: { reason: 'reconnect' | 'rollover' }];
}

const FORWARDED = [
  'audio',
  'speech_started',
  'response_started',
  'response_done',
  'user_transcript',
  'assistant_transcript',
  'function_call',
  'item_added',
  'error',
] as const satisfies readonly (keyof ModelLinkEvents)[];

export interface ModelLinkOptions {
  createTransport(): RealtimeTransport;
  url: string;
  apiKey?: string;
  /** The session as it should be now (memory compiled afresh). */
  session(): Promise<RealtimeSessionConfig>;
  /** The call so far, for a new session to pick up from. */
  callSoFar(): string;
  /** The provider's cap on one session. */
  sessionLimitMs: number;
  logger: Logger;
}

export class ModelLink extends EventEmitter<ModelLinkEvents> {
  readonly #options: ModelLinkOptions;
  #transport: RealtimeTransport;
  /** Caller audio held while no session is connected. */
  #held: string[] | undefined;
  #responding = false;
  #rolloverTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: ModelLinkOptions) {
    super();
    if (!(options.sessionLimitMs > 0))
      throw new RangeError(`sessionLimitMs must be positive, got ${options.sessionLimitMs}`);
    this.#options = options;
    this.#transport = options.createTransport();
  }

  /** Opens the first session. */
  async connect(): Promise<void> {
    await this.#open(this.#transport, await this.#options.session());
  }

  sendAudio(audio: string): void {
    if (this.#held) {
      if (this.#held.length < MAX_HELD_FRAMES) this.#held.push(audio);
      return;
    }
    this.#transport.sendAudio(audio);
  }

  updateSession(session: RealtimeSessionConfig): void {
    this.#transport.updateSession(session);
  }

  addMessage(input: { role: 'user' | 'system'; text: string }): void {
    this.#transport.addMessage(input);
  }

  sendFunctionOutput(input: { callId: string; output: string }): void {
    this.#transport.sendFunctionOutput(input);
  }

  requestResponse(input?: { instructions?: string }): void {
    this.#transport.requestResponse(input);
  }

  interrupt(input: { itemId: string; audioEndMs: number; cancelResponse: boolean }): void {
    this.#transport.interrupt(input);
  }

  deleteItem(itemId: string): void {
    this.#transport.deleteItem(itemId);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#rolloverTimer);
    this.#transport.close();
  }

  async #open(transport: RealtimeTransport, session: RealtimeSessionConfig): Promise<void> {
    for (const name of FORWARDED) {
      transport.on(name, (...args: unknown[]) => {
        if (transport === this.#transport) (this.emit as (name: string, ...args: unknown[]) => boolean)(name, ...args);
      });
    }
    transport.on('response_started', () => {
      if (transport === this.#transport) this.#responding = true;
    });
    transport.on('response_done', () => {
      if (transport === this.#transport) this.#responding = false;
    });
    transport.on('closed', ({ expected }) => {
      if (!expected && transport === this.#transport && !this.#closed) void this.#replace('reconnect');
    });
    await transport.connect({ url: this.#options.url, apiKey: this.#options.apiKey, session });
    clearTimeout(this.#rolloverTimer);
    this.#rolloverTimer = setTimeout(
      () => void this.#rollover(),
      Math.max(this.#options.sessionLimitMs - ROLLOVER_MARGIN_MS, this.#options.sessionLimitMs / 2),
    );
  }

  /** Before the cap: wait for the model to finish speaking, then swap sessions. */
  async #rollover(): Promise<void> {
    const waitUntil = Date.now() + ROLLOVER_WAIT_MS;
    while (this.#responding && Date.now() < waitUntil && !this.#closed) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (!this.#closed) await this.#replace('rollover');
  }

  /** A fresh session with the same memory and the call so far; on a drop, one try. */
  async #replace(reason: 'reconnect' | 'rollover'): Promise<void> {
    const { logger } = this.#options;
    const previous = this.#transport;
    this.#held ??= [];
    this.#responding = false;
    const next = this.#options.createTransport();
    this.#transport = next;
    try {
      const session = await this.#options.session();
      await this.#open(next, session);
    } catch (error) {
      if (this.#closed) return;
      logger.error({ err: error, reason }, 'could not open a new realtime session');
      next.close();
      this.emit('lost', error instanceof Error ? error : new Error(String(error)));
      return;
    } finally {
      previous.close();
    }
    if (this.#closed) return;
    next.addMessage({
      role: 'system',
      text: `You are continuing a phone call already in progress.\n${this.#options.callSoFar()}`,
    });
    for (const audio of this.#held ?? []) next.sendAudio(audio);
    this.#held = undefined;
    logger.info({ reason }, 'realtime session replaced');
    this.emit('restored', { reason });
  }
}
