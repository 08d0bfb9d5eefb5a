/**
 * One connection of the Realtime stand-in (`realtime-server.ts`): what it does with each client
 * event, its server VAD over the appended μ-law audio, and the scripted responses it speaks.
 * No test framework here: the demo reuses it.
 */
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { WebSocket } from 'ws';
import { clientEventSchema, type RealtimeClientEvent } from '../../src/voice/realtime-protocol.js';
import { MULAW_BYTES_PER_MS, meanAmplitude, mulawTone } from './mulaw.js';

/** One step of a scripted model reply. */
export type ReplyStep =
  /** Speaks `say` as a tone of `audioMs` (default: about as long as saying it takes). */
  | { say: string; audioMs?: number }
  /** Calls a tool; the response ends, and the next steps wait for its output and a `response.create`. */
  | { call: string; arguments: Record<string, unknown> }
  /**
   * Reads its prompt: speaks the first line of the session's instructions that matches `pattern`
   * (a regular expression, case-insensitive), else `otherwise`. What it says comes from memory.
   */
  | { sayFromInstructions: string; otherwise: string; audioMs?: number };

/** What the caller "said" in one utterance, and the model's reply to it (none: no reply). */
export interface ScriptedUtterance {
  heard: string;
  reply?: ReplyStep[];
}

/** How the stand-in behaves; every field has a default. */
export interface RealtimeServerOptions {
  /** Silence after speech that ends an utterance; default 400 ms. */
  silenceMs?: number;
  /** Mean absolute 16-bit amplitude above which a 20 ms frame is speech; default 500. */
  speechThreshold?: number;
  /** `realtime` (default) sends reply audio as fast as it plays; `fast` sends it at once. */
  pacing?: 'realtime' | 'fast';
  /** Cancel the running response when the caller starts speaking, as the API does by default; default true. */
  interruptResponse?: boolean;
}

export type ClientEventOf<K extends RealtimeClientEvent['type']> = Extract<RealtimeClientEvent, { type: K }>;

/** One client connection as the stand-in saw it. */
export interface StandInConnection {
  /** 1 for the first connection, and so on. */
  readonly id: number;
  /** Lower-case header names, as Node gives them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Path and query of the upgrade request, e.g. `/v1/realtime?model=gpt-realtime`. */
  readonly requestUrl: string;
  /** Every valid client event, in order. */
  readonly events: readonly RealtimeClientEvent[];
  /** Frames that failed `clientEventSchema` (each was answered with an `error` event). */
  readonly rejected: readonly { data: string; reason: string }[];
  /** The raw μ-law bytes appended so far. */
  audioIn(): Buffer;
  /** The μ-law bytes of every `response.output_audio.delta` sent so far. */
  audioOut(): Buffer;
  readonly open: boolean;
  /** Sends a server event (an `event_id` is added if missing), or a string as is (e.g. garbage). */
  send(event: Record<string, unknown> | string): void;
  /** Ends the connection abruptly, without a close frame, as a network failure would. */
  drop(): void;
}

const FRAME_MS = 20;
const FRAME_BYTES = FRAME_MS * MULAW_BYTES_PER_MS;
const AUDIO_CHUNK_MS = 100;
// About how long a voice takes per character; `audioMs` overrides it.
const SPEECH_MS_PER_CHAR = 60;
const MIN_SPEECH_MS = 200;

/** What the server shares with its connections: settings, the script, ids and the event log. */
export interface StandInContext {
  options: Required<RealtimeServerOptions>;
  utterances: ScriptedUtterance[];
  responses: ReplyStep[][];
  nextId: (prefix: string) => string;
  record: (event: RealtimeClientEvent, connection: StandInConnection) => void;
}

interface ActiveResponse {
  id: string;
  cancelReason: 'client_cancelled' | 'turn_detected' | undefined;
}

/** A connection following the script; the server creates one per accepted socket. */
export class Connection implements StandInConnection {
  readonly events: RealtimeClientEvent[] = [];
  readonly rejected: { data: string; reason: string }[] = [];
  readonly #socket: WebSocket;
  readonly #shared: StandInContext;
  readonly #audio: Buffer[] = [];
  readonly #audioOut: Buffer[] = [];
  #partialFrame: Buffer = Buffer.alloc(0);
  #heardMs = 0;
  #speech: { itemId: string; silentMs: number } | undefined;
  #lastItemId: string | null = null;
  #active: ActiveResponse | undefined;
  // Responses run one after another, as on the API.
  #responses: Promise<void> = Promise.resolve();
  #afterCall: { callId: string; steps: ReplyStep[]; answered: boolean } | undefined;
  /** The instructions of the latest `session.update`. */
  #instructions = '';

  constructor(
    readonly id: number,
    readonly headers: Readonly<Record<string, string | string[] | undefined>>,
    readonly requestUrl: string,
    socket: WebSocket,
    shared: StandInContext,
  ) {
    this.#socket = socket;
    this.#shared = shared;
    const model = new URL(requestUrl, 'http://stand-in').searchParams.get('model') ?? 'gpt-realtime';
    this.#emit('session.created', {
      session: { object: 'realtime.session', id: shared.nextId('sess'), type: 'realtime', model },
    });
    socket.on('message', (data, isBinary) => this.#receive(isBinary ? '<binary frame>' : data.toString()));
    // Without a listener, a socket error (a client's bad frame, a reset) would crash the process.
    socket.on('error', () => {});
  }

  get open(): boolean {
    return this.#socket.readyState === this.#socket.OPEN;
  }

  audioIn(): Buffer {
    return Buffer.concat(this.#audio);
  }

  audioOut(): Buffer {
    return Buffer.concat(this.#audioOut);
  }

  send(event: Record<string, unknown> | string): void {
    if (!this.open) return;
    const frame = typeof event === 'string' ? event : { event_id: this.#shared.nextId('event'), ...event };
    this.#socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  drop(): void {
    this.#socket.terminate();
  }

  #emit(type: string, fields: Record<string, unknown> = {}): void {
    this.send({ type, ...fields });
  }

  #receive(data: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(data);
    } catch {
      raw = undefined;
    }
    const parsed = clientEventSchema.safeParse(raw);
    if (!parsed.success) {
      const reason = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
      this.rejected.push({ data, reason });
      this.#emit('error', { error: { type: 'invalid_request_error', code: 'invalid_value', message: reason } });
      return;
    }
    const event = parsed.data;
    this.events.push(event);
    this.#shared.record(event, this);
    this.#handle(event);
  }

  #handle(event: RealtimeClientEvent): void {
    switch (event.type) {
      case 'session.update':
        this.#instructions = event.session.instructions ?? '';
        this.#emit('session.updated', { session: { object: 'realtime.session', ...event.session } });
        break;
      case 'input_audio_buffer.append':
        this.#hear(Buffer.from(event.audio, 'base64'));
        break;
      case 'conversation.item.create': {
        const item = { id: this.#shared.nextId('item'), object: 'realtime.item', status: 'completed', ...event.item };
        if (item.type === 'function_call_output' && this.#afterCall?.callId === item.call_id) {
          this.#afterCall.answered = true;
        }
        this.#emit('conversation.item.added', { previous_item_id: this.#lastItemId, item });
        this.#emit('conversation.item.done', { previous_item_id: this.#lastItemId, item });
        this.#lastItemId = item.id;
        break;
      }
      case 'response.create': {
        if (this.#active) {
          this.#error('conversation_already_has_active_response', 'A response is already in progress.');
          break;
        }
        const continuation = this.#afterCall?.answered ? this.#afterCall : undefined;
        if (continuation) this.#afterCall = undefined;
        this.#respond(continuation?.steps ?? this.#shared.responses.shift() ?? []);
        break;
      }
      case 'response.cancel':
        if (this.#active && !this.#active.cancelReason) this.#active.cancelReason = 'client_cancelled';
        else this.#error('response_cancel_not_active', 'Cancellation failed: no active response found.');
        break;
      case 'conversation.item.truncate':
        this.#emit('conversation.item.truncated', {
          item_id: event.item_id,
          content_index: event.content_index,
          audio_end_ms: event.audio_end_ms,
        });
        break;
      case 'conversation.item.delete':
        this.#emit('conversation.item.deleted', { item_id: event.item_id });
        break;
    }
  }

  #error(code: string, message: string): void {
    this.#emit('error', { error: { type: 'invalid_request_error', code, message } });
  }

  /** Server VAD: 20 ms frames above the threshold are speech; enough silence after speech ends an utterance. */
  #hear(bytes: Buffer): void {
    this.#audio.push(bytes);
    const buffer = this.#partialFrame.length ? Buffer.concat([this.#partialFrame, bytes]) : bytes;
    let offset = 0;
    for (; offset + FRAME_BYTES <= buffer.length; offset += FRAME_BYTES) {
      this.#frame(buffer.subarray(offset, offset + FRAME_BYTES));
    }
    this.#partialFrame = Buffer.from(buffer.subarray(offset));
  }

  #frame(frame: Buffer): void {
    const { silenceMs, speechThreshold, interruptResponse } = this.#shared.options;
    const startMs = this.#heardMs;
    this.#heardMs += FRAME_MS;
    const loud = meanAmplitude(frame) > speechThreshold;
    if (!this.#speech) {
      if (!loud) return;
      this.#speech = { itemId: this.#shared.nextId('item'), silentMs: 0 };
      this.#emit('input_audio_buffer.speech_started', { audio_start_ms: startMs, item_id: this.#speech.itemId });
      if (interruptResponse && this.#active && !this.#active.cancelReason) this.#active.cancelReason = 'turn_detected';
      return;
    }
    this.#speech.silentMs = loud ? 0 : this.#speech.silentMs + FRAME_MS;
    if (this.#speech.silentMs >= silenceMs) this.#endUtterance(this.#speech.itemId);
  }

  #endUtterance(itemId: string): void {
    this.#speech = undefined;
    this.#emit('input_audio_buffer.speech_stopped', { audio_end_ms: this.#heardMs, item_id: itemId });
    this.#emit('input_audio_buffer.committed', { item_id: itemId, previous_item_id: this.#lastItemId });
    const item = {
      id: itemId,
      object: 'realtime.item',
      type: 'message',
      role: 'user',
      status: 'completed',
      content: [{ type: 'input_audio', transcript: null }],
    };
    this.#emit('conversation.item.added', { previous_item_id: this.#lastItemId, item });
    this.#emit('conversation.item.done', { previous_item_id: this.#lastItemId, item });
    this.#lastItemId = itemId;
    const utterance = this.#shared.utterances.shift();
    this.#emit('conversation.item.input_audio_transcription.completed', {
      item_id: itemId,
      content_index: 0,
      transcript: utterance?.heard ?? '',
    });
    if (utterance?.reply) this.#respond(utterance.reply);
  }

  #respond(steps: ReplyStep[]): void {
    this.#responses = this.#responses.then(() => this.#runResponse(steps));
  }

  async #runResponse(steps: ReplyStep[]): Promise<void> {
    if (!this.open) return;
    const response: ActiveResponse = { id: this.#shared.nextId('resp'), cancelReason: undefined };
    this.#active = response;
    const base = { object: 'realtime.response', id: response.id, output_modalities: ['audio'] };
    this.#emit('response.created', { response: { ...base, status: 'in_progress', output: [] } });
    const output: Record<string, unknown>[] = [];
    for (const [index, step] of steps.entries()) {
      if (response.cancelReason || !this.open) break;
      if ('say' in step) {
        output.push(await this.#speak(response, step, output.length));
        continue;
      }
      if ('sayFromInstructions' in step) {
        const pattern = new RegExp(step.sayFromInstructions, 'i');
        const line = this.#instructions.split('\n').find((candidate) => pattern.test(candidate));
        output.push(
          await this.#speak(response, { say: line?.trim() ?? step.otherwise, audioMs: step.audioMs }, output.length),
        );
        continue;
      }
      const call = this.#call(response, step, output.length);
      output.push(call);
      this.#afterCall = { callId: call.call_id, steps: steps.slice(index + 1), answered: false };
      break;
    }
    this.#active = undefined;
    const status = response.cancelReason ? 'cancelled' : 'completed';
    const statusDetails = response.cancelReason ? { type: 'cancelled', reason: response.cancelReason } : null;
    this.#emit('response.done', { response: { ...base, status, status_details: statusDetails, output } });
  }

  async #speak(response: ActiveResponse, step: { say: string; audioMs?: number }, outputIndex: number) {
    const itemId = this.#shared.nextId('item');
    const item = { id: itemId, object: 'realtime.item', type: 'message', role: 'assistant' };
    const part = { response_id: response.id, item_id: itemId, output_index: outputIndex, content_index: 0 };
    this.#emit('response.output_item.added', {
      response_id: response.id,
      output_index: outputIndex,
      item: { ...item, status: 'in_progress', content: [] },
    });
    this.#emit('conversation.item.added', {
      previous_item_id: this.#lastItemId,
      item: { ...item, status: 'in_progress', content: [] },
    });
    this.#lastItemId = itemId;
    this.#emit('response.content_part.added', { ...part, part: { type: 'audio', transcript: '' } });
    this.#emit('response.output_audio_transcript.delta', { ...part, delta: step.say });
    const audio = mulawTone(step.audioMs ?? Math.max(MIN_SPEECH_MS, step.say.length * SPEECH_MS_PER_CHAR));
    const chunkBytes = AUDIO_CHUNK_MS * MULAW_BYTES_PER_MS;
    for (let offset = 0; offset < audio.length && !response.cancelReason && this.open; offset += chunkBytes) {
      const chunk = audio.subarray(offset, offset + chunkBytes);
      this.#emit('response.output_audio.delta', { ...part, delta: chunk.toString('base64') });
      this.#audioOut.push(chunk);
      await (this.#shared.options.pacing === 'fast' ? nextTurn() : sleep(chunk.length / MULAW_BYTES_PER_MS));
    }
    const status = response.cancelReason ? 'incomplete' : 'completed';
    if (!response.cancelReason) {
      this.#emit('response.output_audio.done', part);
      this.#emit('response.output_audio_transcript.done', { ...part, transcript: step.say });
      this.#emit('response.content_part.done', { ...part, part: { type: 'audio', transcript: step.say } });
    }
    const done = { ...item, status, content: [{ type: 'output_audio', transcript: step.say }] };
    this.#emit('conversation.item.done', { item: done });
    this.#emit('response.output_item.done', { response_id: response.id, output_index: outputIndex, item: done });
    return done;
  }

  #call(response: ActiveResponse, step: { call: string; arguments: Record<string, unknown> }, outputIndex: number) {
    const itemId = this.#shared.nextId('item');
    const callId = this.#shared.nextId('call');
    const args = JSON.stringify(step.arguments);
    const item = { id: itemId, object: 'realtime.item', type: 'function_call', call_id: callId, name: step.call };
    const at = { response_id: response.id, output_index: outputIndex };
    this.#emit('response.output_item.added', { ...at, item: { ...item, status: 'in_progress', arguments: '' } });
    this.#emit('conversation.item.added', {
      previous_item_id: this.#lastItemId,
      item: { ...item, status: 'in_progress', arguments: '' },
    });
    this.#lastItemId = itemId;
    this.#emit('response.function_call_arguments.delta', { ...at, item_id: itemId, call_id: callId, delta: args });
    this.#emit('response.function_call_arguments.done', {
      ...at,
      item_id: itemId,
      call_id: callId,
      name: step.call,
      arguments: args,
    });
    const done = { ...item, status: 'completed', arguments: args };
    this.#emit('conversation.item.done', { item: done });
    this.#emit('response.output_item.done', { ...at, item: done });
    return done;
  }
}
