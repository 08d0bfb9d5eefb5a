/**
 * The realtime speech model as the call bridge sees it: a small transport with a typed event map
 * (after openai-agents-js's `RealtimeTransportLayer`). `OpenAIRealtimeWebSocket` speaks the
 * OpenAI Realtime API (GA events) over `ws`; the bridge and its tests depend only on this.
 * Audio is base64 G.711 μ-law at 8 kHz both ways (`audio/pcmu`): Twilio's bytes pass through.
 */
import type { EventEmitter } from 'node:events';

/** A tool the model may call, as JSON Schema. */
export interface RealtimeTool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** What a session is configured with; sent whole on every update, so nothing set earlier is dropped. */
export interface RealtimeSessionConfig {
  instructions: string;
  tools: RealtimeTool[];
  /** The model's voice, e.g. `marin`. */
  voice: string;
  /** The model that transcribes the caller, e.g. `gpt-4o-mini-transcribe`. */
  transcriptionModel: string;
}

export type RealtimeConnectionStatus = 'disconnected' | 'connecting' | 'connected';

/** Events the transport emits, as `name: [argument]` tuples. */
export interface RealtimeTransportEvents {
  connection_change: [status: RealtimeConnectionStatus];
  /** A chunk of the model's speech (base64 μ-law) for the assistant item `itemId`. */
  audio: [event: { responseId: string; itemId: string; audio: string }];
  /** The caller started speaking (server VAD): the moment to barge in. */
  speech_started: [event: { itemId: string; audioStartMs: number }];
  /** A response started; until `response_done` it may still send audio. */
  response_started: [event: { responseId: string }];
  response_done: [event: { responseId: string; status: string }];
  /** A finished line of the caller's speech. */
  user_transcript: [event: { itemId: string; transcript: string }];
  /** A finished line of the model's speech. */
  assistant_transcript: [event: { itemId: string; responseId: string; transcript: string }];
  /** The model called a tool; answer with `sendFunctionOutput`, then `requestResponse`. */
  function_call: [event: { callId: string; name: string; arguments: string; itemId: string; responseId: string }];
  /** Any conversation item the server added (for trimming a long call), with its role when it has one. */
  item_added: [event: { itemId: string; role?: 'user' | 'assistant' | 'system'; type: string }];
  /** An error event from the server, or a socket failure; never thrown. */
  error: [error: Error];
  /** The socket closed; `expected` is false when the server or the network closed it. */
  closed: [event: { expected: boolean; code: number; reason: string }];
}

/** The connection to a realtime speech model. */
export interface RealtimeTransport extends EventEmitter<RealtimeTransportEvents> {
  readonly status: RealtimeConnectionStatus;
  /** Opens the socket and configures the session; resolves once the server confirmed the session. */
  connect(input: { url: string; apiKey?: string; session: RealtimeSessionConfig }): Promise<void>;
  /** Replaces the session's configuration (instructions after a memory change, tools). */
  updateSession(session: RealtimeSessionConfig): void;
  /** Appends caller audio (base64 μ-law) to the input buffer. Never waits. */
  sendAudio(audio: string): void;
  /** Adds a text item to the conversation, e.g. a note about a verified PIN or a summary after a rollover. */
  addMessage(input: { role: 'user' | 'system'; text: string }): void;
  /** Answers a tool call. */
  sendFunctionOutput(input: { callId: string; output: string }): void;
  /** Asks the model to respond now; `instructions` override the session's for this response only. */
  requestResponse(input?: { instructions?: string }): void;
  /** Barge-in: cut the assistant item at what the caller heard, and cancel the response if it runs. */
  interrupt(input: { itemId: string; audioEndMs: number; cancelResponse: boolean }): void;
  /** Removes an item from the server's conversation (a long call's oldest turns). */
  deleteItem(itemId: string): void;
  /** Closes the socket; emits `closed` with `expected: true`. */
  close(): void;
}
