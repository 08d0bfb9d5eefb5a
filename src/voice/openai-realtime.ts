/**
 * `RealtimeTransport` over a WebSocket to the OpenAI Realtime API (GA), with the `ws` package
 * directly: the `openai` SDK's `OpenAIRealtimeWS` forces `wss:`, and tests serve a local `ws:`
 * stand-in. Frames are checked at the edge (`parseServerEvent`); nothing a socket listener does
 * throws. Sends never wait: on a socket that is gone they are dropped, and `closed` says why.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { ConfigError, ConflictError, UnavailableError, UpstreamError } from '../errors.js';
import {
  functionCallOutput,
  inputAudioAppend,
  itemDelete,
  itemTruncate,
  messageItem,
  parseServerEvent,
  type RealtimeClientEvent,
  type RealtimeErrorPayload,
  type RealtimeServerEvent,
  responseCancel,
  responseCreate,
  sessionUpdate,
  type WireData,
} from './realtime-protocol.js';
import type {
  RealtimeConnectionStatus,
  RealtimeSessionConfig,
  RealtimeTransport,
  RealtimeTransportEvents,
} from './transport.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const OPENAI_BASE_URL = 'https://api.openai.com/v1';
const NORMAL_CLOSURE_CODE = 1000;
// 8 kHz μ-law: one byte a sample.
const MULAW_BYTES_PER_MILLISECOND = 8;
const SOCKET_PROTOCOLS: Readonly<Record<string, string>> = {
  'http:': 'ws:',
  'https:': 'wss:',
  'ws:': 'ws:',
  'wss:': 'wss:',
};

/** An `error` event the Realtime API sent; `error.code` says which (e.g. `response_cancel_not_active`). */
export class RealtimeApiError extends UpstreamError {
  readonly error: RealtimeErrorPayload;

  constructor(error: RealtimeErrorPayload) {
    super(`Realtime API error (${error.code ?? error.type}): ${error.message}`, { details: error });
    this.error = error;
  }
}

export interface OpenAIRealtimeWebSocketOptions {
  /** From opening the socket to the server confirming the session; default 10 s. */
  connectTimeoutMs?: number;
}

interface PendingConnect {
  url: string;
  timer: NodeJS.Timeout;
  resolve: () => void;
  reject: (error: Error) => void;
}

type TypedEmit = <K extends keyof RealtimeTransportEvents>(name: K, ...args: RealtimeTransportEvents[K]) => boolean;

/** Connection state; `idle` is "connect() never called", the only state in which sends are misuse. */
type SocketState =
  | { phase: 'idle' }
  | { phase: 'connecting'; socket: WebSocket; pending: PendingConnect }
  | { phase: 'connected'; socket: WebSocket }
  | { phase: 'closing'; socket: WebSocket }
  | { phase: 'closed' };

/** The Realtime WebSocket URL: an explicit one wins (given a `model`), else derived from the REST base URL. */
export function realtimeUrl(input: { baseUrl?: string; realtimeUrl?: string; model: string }): string {
  const explicit = input.realtimeUrl ? input.realtimeUrl : undefined;
  const source = explicit ?? input.baseUrl ?? OPENAI_BASE_URL;
  let url: URL;
  try {
    url = new URL(source);
  } catch (cause) {
    throw new ConfigError(`Not a URL: ${source}`, { cause });
  }
  const protocol = SOCKET_PROTOCOLS[url.protocol];
  if (!protocol) throw new ConfigError(`The realtime URL must be ws(s) or http(s), got ${source}`);
  url.protocol = protocol;
  if (!explicit) url.pathname = `${url.pathname.replace(/\/+$/, '')}/realtime`;
  if (!url.searchParams.has('model')) url.searchParams.set('model', input.model);
  return url.toString();
}

/** The Realtime API over `ws`; one instance per call. */
export class OpenAIRealtimeWebSocket extends EventEmitter<RealtimeTransportEvents> implements RealtimeTransport {
  #state: SocketState = { phase: 'idle' };
  readonly #connectTimeoutMs: number;
  // The audio received so far for the assistant item playing last, so a truncate never asks past its end.
  #lastAudio: { itemId: string; bytes: number } | undefined;

  constructor(options: OpenAIRealtimeWebSocketOptions = {}) {
    super();
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    if (!Number.isFinite(this.#connectTimeoutMs) || this.#connectTimeoutMs <= 0) {
      throw new RangeError(`connectTimeoutMs must be a positive number, got ${this.#connectTimeoutMs}`);
    }
  }

  get status(): RealtimeConnectionStatus {
    const { phase } = this.#state;
    return phase === 'connecting' || phase === 'connected' ? phase : 'disconnected';
  }

  connect(input: { url: string; apiKey?: string; session: RealtimeSessionConfig }): Promise<void> {
    const { phase } = this.#state;
    if (phase === 'connecting' || phase === 'connected' || phase === 'closing') {
      throw new ConflictError(`The realtime transport is already ${phase}; close() it first.`);
    }
    const url = input.url;
    if (!URL.canParse(url) || !/^wss?:$/.test(new URL(url).protocol)) {
      throw new ConfigError(`The realtime URL must be a ws:// or wss:// URL, got ${url}`);
    }
    const headers: Record<string, string> = input.apiKey ? { Authorization: `Bearer ${input.apiKey}` } : {};
    return new Promise<void>((resolve, reject) => {
      // No compression: base64 audio barely shrinks, and deflating every frame costs the audio path CPU.
      const socket = new WebSocket(url, { headers, perMessageDeflate: false });
      const timer = setTimeout(() => {
        this.#failConnect(
          socket,
          new UnavailableError(
            `The realtime API at ${url} did not confirm the session within ${this.#connectTimeoutMs} ms`,
          ),
        );
      }, this.#connectTimeoutMs);
      this.#state = { phase: 'connecting', socket, pending: { url, timer, resolve, reject } };
      this.#lastAudio = undefined;
      this.#emit('connection_change', 'connecting');

      socket.on('open', () => {
        if (this.#state.phase === 'connecting' && this.#state.socket === socket) {
          socket.send(JSON.stringify(sessionUpdate(input.session)));
        }
      });
      socket.on('unexpected-response', (_request, response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        const message = `The realtime API at ${url} refused the connection: HTTP ${status}`;
        const details = { httpStatus: status };
        // 401/403: a key problem to fix; anything else may pass.
        const error =
          status === 401 || status === 403
            ? new UpstreamError(message, { details })
            : new UnavailableError(message, { details });
        this.#failConnect(socket, error);
      });
      socket.on('message', (data: WireData) => this.#onMessage(socket, data));
      socket.on('error', (error) => this.#onSocketError(socket, error));
      socket.on('close', (code, reason) => this.#onClose(socket, code, reason.toString('utf8')));
    });
  }

  updateSession(session: RealtimeSessionConfig): void {
    this.#send(sessionUpdate(session));
  }

  sendAudio(audio: string): void {
    this.#send(inputAudioAppend(audio));
  }

  addMessage(input: { role: 'user' | 'system'; text: string }): void {
    this.#send(messageItem(input));
  }

  sendFunctionOutput(input: { callId: string; output: string }): void {
    this.#send(functionCallOutput(input));
  }

  requestResponse(input: { instructions?: string } = {}): void {
    this.#send(responseCreate(input));
  }

  interrupt(input: { itemId: string; audioEndMs: number; cancelResponse: boolean }): void {
    // Cancel first: it stops generation; the truncate only fixes what the model believes was heard.
    if (input.cancelResponse) this.#send(responseCancel());
    let audioEndMs = input.audioEndMs;
    // The API rejects a truncate past the end of the item's audio.
    if (this.#lastAudio?.itemId === input.itemId) {
      audioEndMs = Math.min(audioEndMs, Math.floor(this.#lastAudio.bytes / MULAW_BYTES_PER_MILLISECOND));
    }
    this.#send(itemTruncate({ itemId: input.itemId, audioEndMs }));
  }

  deleteItem(itemId: string): void {
    this.#send(itemDelete(itemId));
  }

  close(): void {
    const state = this.#state;
    if (state.phase === 'connecting') {
      this.#failConnect(state.socket, new UnavailableError(`Closed before ${state.pending.url} confirmed the session`));
      return;
    }
    if (state.phase !== 'connected') return;
    this.#state = { phase: 'closing', socket: state.socket };
    this.#emit('connection_change', 'disconnected');
    state.socket.close(NORMAL_CLOSURE_CODE, 'client closed');
  }

  #send(event: RealtimeClientEvent): void {
    const state = this.#state;
    if (state.phase === 'idle') {
      throw new ConflictError(`Cannot send ${event.type}: call connect() first.`);
    }
    // Connecting, closing or closed: dropped. The caller learns of a lost socket from `closed`.
    if (state.phase !== 'connected') return;
    state.socket.send(JSON.stringify(event));
  }

  #onMessage(socket: WebSocket, data: WireData): void {
    const state = this.#state;
    // After close() nothing more is told, though the server may still be sending.
    if ((state.phase !== 'connecting' && state.phase !== 'connected') || state.socket !== socket) return;
    const parsed = parseServerEvent(data);
    if (parsed.kind === 'invalid') {
      this.#emit('error', new UpstreamError(`Unreadable frame from the realtime API: ${parsed.reason}`));
      return;
    }
    if (parsed.kind === 'generic') return;
    if (state.phase === 'connecting') this.#onHandshakeEvent(state.socket, state.pending, parsed.event);
    else this.#dispatch(parsed.event);
  }

  #onHandshakeEvent(socket: WebSocket, pending: PendingConnect, event: RealtimeServerEvent): void {
    if (event.type === 'error') {
      this.#failConnect(socket, new RealtimeApiError(event.error));
    } else if (event.type === 'session.updated') {
      clearTimeout(pending.timer);
      this.#state = { phase: 'connected', socket };
      this.#emit('connection_change', 'connected');
      pending.resolve();
    }
  }

  #dispatch(event: RealtimeServerEvent): void {
    switch (event.type) {
      case 'error':
        this.#emit('error', new RealtimeApiError(event.error));
        break;
      case 'input_audio_buffer.speech_started':
        this.#emit('speech_started', { itemId: event.item_id, audioStartMs: event.audio_start_ms });
        break;
      case 'response.created':
        this.#emit('response_started', { responseId: event.response.id });
        break;
      case 'response.output_audio.delta': {
        const bytes = Buffer.byteLength(event.delta, 'base64');
        if (this.#lastAudio?.itemId === event.item_id) this.#lastAudio.bytes += bytes;
        else this.#lastAudio = { itemId: event.item_id, bytes };
        this.#emit('audio', { responseId: event.response_id, itemId: event.item_id, audio: event.delta });
        break;
      }
      case 'response.output_audio_transcript.done':
        this.#emit('assistant_transcript', {
          itemId: event.item_id,
          responseId: event.response_id,
          transcript: event.transcript,
        });
        break;
      case 'conversation.item.input_audio_transcription.completed':
        this.#emit('user_transcript', { itemId: event.item_id, transcript: event.transcript });
        break;
      case 'response.function_call_arguments.done':
        this.#emit('function_call', {
          callId: event.call_id,
          name: event.name,
          arguments: event.arguments,
          itemId: event.item_id,
          responseId: event.response_id,
        });
        break;
      case 'conversation.item.added':
        this.#emit('item_added', { itemId: event.item.id, role: event.item.role, type: event.item.type });
        break;
      case 'response.done':
        this.#emit('response_done', { responseId: event.response.id, status: event.response.status });
        break;
      default:
        // session.*, speech_stopped, committed, item.done, audio done and transcript deltas: nothing to tell.
        break;
    }
  }

  #onSocketError(socket: WebSocket, error: Error): void {
    const state = this.#state;
    if (state.phase === 'connecting' && state.socket === socket) {
      const message = `Could not connect to the realtime API at ${state.pending.url}: ${error.message}`;
      this.#failConnect(socket, new UnavailableError(message, { cause: error }));
    } else if ('socket' in state && state.socket === socket) {
      // `close` follows and reports the loss.
      this.#emit('error', new UnavailableError(`Realtime socket error: ${error.message}`, { cause: error }));
    }
  }

  #onClose(socket: WebSocket, code: number, reason: string): void {
    const state = this.#state;
    if (!('socket' in state) || state.socket !== socket) return;
    if (state.phase === 'connecting') {
      const detail = `(code ${code}${reason ? `, ${reason}` : ''})`;
      const message = `The realtime API at ${state.pending.url} closed the connection before confirming the session ${detail}`;
      this.#failConnect(socket, new UnavailableError(message, { details: { code, reason } }));
      return;
    }
    const expected = state.phase === 'closing';
    this.#state = { phase: 'closed' };
    if (!expected) this.#emit('connection_change', 'disconnected');
    this.#emit('closed', { expected, code, reason });
  }

  /** Ends a connect attempt: the promise rejects, the socket goes, later events from it are ignored. */
  #failConnect(socket: WebSocket, error: Error): void {
    const state = this.#state;
    if (state.phase !== 'connecting' || state.socket !== socket) return;
    clearTimeout(state.pending.timer);
    this.#state = { phase: 'closed' };
    socket.terminate();
    this.#emit('connection_change', 'disconnected');
    state.pending.reject(error);
  }

  /**
   * Emits without letting anything escape into `ws`: an `error` nobody listens to is dropped (Node
   * would throw it), and a listener that throws is reported as an `error`.
   */
  #emit<K extends keyof RealtimeTransportEvents>(name: K, ...args: RealtimeTransportEvents[K]): void {
    if (name === 'error' && this.listenerCount('error') === 0) return;
    try {
      // EventEmitter's typing cannot follow a generic K; the signature below is the same map.
      (this.emit as TypedEmit)(name, ...args);
    } catch (thrown) {
      if (name === 'error') return;
      this.#emit('error', thrown instanceof Error ? thrown : new Error(String(thrown)));
    }
  }
}
