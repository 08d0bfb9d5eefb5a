/**
 * The OpenAI Realtime API (GA) wire format, as far as Hearth speaks it: zod schemas for the server
 * events the transport reads, `parseServerEvent` (which never throws), builders for the client
 * events it sends, and `clientEventSchema` for a stand-in server to check what it receives.
 * Shapes follow the `openai` SDK 6.x typings (`resources/realtime/realtime.d.ts`) and
 * openai-agents-js `openaiRealtimeEvents.ts`. Server schemas are loose (the API adds fields);
 * client schemas are strict, as the API rejects unknown parameters.
 */
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// Server → client

const eventBase = { event_id: z.string().optional() };

const itemSchema = z.looseObject({
  id: z.string(),
  type: z.string(),
  role: z.enum(['user', 'assistant', 'system']).optional(),
});

const errorPayloadSchema = z.looseObject({
  type: z.string(),
  code: z.string().nullish(),
  message: z.string(),
  param: z.string().nullish(),
  event_id: z.string().nullish(),
});

/** The `error` object of an `error` event. */
export type RealtimeErrorPayload = z.infer<typeof errorPayloadSchema>;

const audioPartBase = {
  ...eventBase,
  response_id: z.string(),
  item_id: z.string(),
  output_index: z.number(),
  content_index: z.number(),
};

/** The server events the transport reads; anything else passes as a generic event. */
export const serverEventSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('session.created'), ...eventBase, session: z.looseObject({}) }),
  z.looseObject({ type: z.literal('session.updated'), ...eventBase, session: z.looseObject({}) }),
  z.looseObject({ type: z.literal('error'), ...eventBase, error: errorPayloadSchema }),
  z.looseObject({
    type: z.literal('input_audio_buffer.speech_started'),
    ...eventBase,
    audio_start_ms: z.number(),
    item_id: z.string(),
  }),
  z.looseObject({
    type: z.literal('input_audio_buffer.speech_stopped'),
    ...eventBase,
    audio_end_ms: z.number(),
    item_id: z.string(),
  }),
  z.looseObject({
    type: z.literal('input_audio_buffer.committed'),
    ...eventBase,
    item_id: z.string(),
    previous_item_id: z.string().nullish(),
  }),
  z.looseObject({ type: z.literal('conversation.item.added'), ...eventBase, item: itemSchema }),
  z.looseObject({ type: z.literal('conversation.item.done'), ...eventBase, item: itemSchema }),
  z.looseObject({
    type: z.literal('conversation.item.input_audio_transcription.completed'),
    ...eventBase,
    item_id: z.string(),
    content_index: z.number(),
    transcript: z.string(),
  }),
  z.looseObject({ type: z.literal('response.created'), ...eventBase, response: z.looseObject({ id: z.string() }) }),
  z.looseObject({ type: z.literal('response.output_audio.delta'), ...audioPartBase, delta: z.string() }),
  z.looseObject({ type: z.literal('response.output_audio.done'), ...audioPartBase }),
  z.looseObject({ type: z.literal('response.output_audio_transcript.delta'), ...audioPartBase, delta: z.string() }),
  z.looseObject({ type: z.literal('response.output_audio_transcript.done'), ...audioPartBase, transcript: z.string() }),
  z.looseObject({
    type: z.literal('response.function_call_arguments.done'),
    ...eventBase,
    response_id: z.string(),
    item_id: z.string(),
    output_index: z.number().optional(),
    call_id: z.string(),
    name: z.string(),
    arguments: z.string(),
  }),
  z.looseObject({
    type: z.literal('response.done'),
    ...eventBase,
    response: z.looseObject({
      id: z.string(),
      status: z.string(),
      status_details: z.unknown().optional(),
      output: z.array(z.unknown()).optional(),
    }),
  }),
]);

export type RealtimeServerEvent = z.infer<typeof serverEventSchema>;
export type RealtimeServerEventType = RealtimeServerEvent['type'];
/** A well-formed event of a type the transport does not read (`rate_limits.updated`, …). */
export type GenericServerEvent = { type: string } & Record<string, unknown>;

/** What a frame from the server turned out to be. */
export type ParsedServerEvent =
  | { kind: 'known'; event: RealtimeServerEvent }
  | { kind: 'generic'; event: GenericServerEvent }
  | { kind: 'invalid'; reason: string };

const KNOWN_TYPES: ReadonlySet<string> = new Set(serverEventSchema.options.map((option) => option.shape.type.value));
// Audio frames are large; an error message quotes only the start of one.
const MAX_QUOTED_FRAME_CHARS = 120;

/** A text frame as `ws` delivers it (`RawData`) or as a string. */
export type WireData = string | Uint8Array | ArrayBuffer | readonly Uint8Array[];

function frameText(data: WireData): string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  return Buffer.concat(data).toString('utf8');
}

function quote(text: string): string {
  return text.length > MAX_QUOTED_FRAME_CHARS ? `${text.slice(0, MAX_QUOTED_FRAME_CHARS)}…` : text;
}

/**
 * Reads one frame from the server. A known event type with a shape that does not match is
 * `invalid` (not generic): it means the API and this schema disagree, which should be heard.
 */
export function parseServerEvent(data: WireData): ParsedServerEvent {
  const text = frameText(data);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { kind: 'invalid', reason: `not JSON: ${quote(text)}` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !('type' in raw)) {
    return { kind: 'invalid', reason: `no event type: ${quote(text)}` };
  }
  const type = raw.type;
  if (typeof type !== 'string') return { kind: 'invalid', reason: `no event type: ${quote(text)}` };
  if (!KNOWN_TYPES.has(type)) return { kind: 'generic', event: { ...raw, type } };
  const parsed = serverEventSchema.safeParse(raw);
  if (parsed.success) return { kind: 'known', event: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : 'event';
  return { kind: 'invalid', reason: `malformed ${type}: ${where}: ${issue?.message ?? 'invalid'}` };
}

// ---------------------------------------------------------------------------------------------
// Client → server

const clientBase = { event_id: z.string().optional() };
const pcmuFormatSchema = z.strictObject({ type: z.literal('audio/pcmu') });

const toolSchema = z.strictObject({
  type: z.literal('function'),
  name: z.string().min(1),
  description: z.string(),
  parameters: z.record(z.string(), z.unknown()),
});

const sessionSchema = z.strictObject({
  type: z.literal('realtime'),
  instructions: z.string(),
  output_modalities: z.tuple([z.literal('audio')]),
  audio: z.strictObject({
    input: z.strictObject({
      format: pcmuFormatSchema,
      turn_detection: z.strictObject({ type: z.literal('server_vad') }),
      transcription: z.strictObject({ model: z.string().min(1) }),
    }),
    output: z.strictObject({ format: pcmuFormatSchema, voice: z.string().min(1) }),
  }),
  tools: z.array(toolSchema),
  tool_choice: z.literal('auto'),
});

const functionCallOutputItemSchema = z.strictObject({
  type: z.literal('function_call_output'),
  call_id: z.string().min(1),
  output: z.string(),
});

const messageItemSchema = z.strictObject({
  type: z.literal('message'),
  role: z.enum(['user', 'system']),
  content: z.array(z.strictObject({ type: z.literal('input_text'), text: z.string() })).min(1),
});

/** Every client event the transport sends, as the stand-in server checks them. */
export const clientEventSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('session.update'), ...clientBase, session: sessionSchema }),
  z.strictObject({ type: z.literal('input_audio_buffer.append'), ...clientBase, audio: z.base64() }),
  z.strictObject({
    type: z.literal('conversation.item.create'),
    ...clientBase,
    item: z.discriminatedUnion('type', [functionCallOutputItemSchema, messageItemSchema]),
  }),
  z.strictObject({
    type: z.literal('response.create'),
    ...clientBase,
    response: z.strictObject({ instructions: z.string() }).optional(),
  }),
  z.strictObject({ type: z.literal('response.cancel'), ...clientBase }),
  z.strictObject({
    type: z.literal('conversation.item.truncate'),
    ...clientBase,
    item_id: z.string().min(1),
    content_index: z.literal(0),
    audio_end_ms: z.int().nonnegative(),
  }),
  z.strictObject({ type: z.literal('conversation.item.delete'), ...clientBase, item_id: z.string().min(1) }),
]);

export type RealtimeClientEvent = z.infer<typeof clientEventSchema>;
export type RealtimeClientEventType = RealtimeClientEvent['type'];
type ClientEventOf<T extends RealtimeClientEventType> = Extract<RealtimeClientEvent, { type: T }>;

/** The session as Hearth configures it: μ-law both ways (Twilio's bytes), server VAD, input transcription. */
export interface SessionUpdateInput {
  instructions: string;
  voice: string;
  transcriptionModel: string;
  tools: ReadonlyArray<{ name: string; description: string; parameters: Record<string, unknown> }>;
}

/** `session.update` with the whole session, so nothing configured earlier is dropped. */
export function sessionUpdate(input: SessionUpdateInput): ClientEventOf<'session.update'> {
  return {
    type: 'session.update',
    session: {
      type: 'realtime',
      instructions: input.instructions,
      output_modalities: ['audio'],
      audio: {
        input: {
          format: { type: 'audio/pcmu' },
          turn_detection: { type: 'server_vad' },
          transcription: { model: input.transcriptionModel },
        },
        output: { format: { type: 'audio/pcmu' }, voice: input.voice },
      },
      tools: input.tools.map((tool) => ({
        type: 'function',
        name: tool.name,
        description: tool.description,
        parameters: tool.parameters,
      })),
      tool_choice: 'auto',
    },
  };
}

/** Appends base64 μ-law audio to the input buffer. */
export function inputAudioAppend(audio: string): ClientEventOf<'input_audio_buffer.append'> {
  return { type: 'input_audio_buffer.append', audio };
}

/** Answers the tool call `callId`. */
export function functionCallOutput(input: {
  callId: string;
  output: string;
}): ClientEventOf<'conversation.item.create'> {
  return {
    type: 'conversation.item.create',
    item: { type: 'function_call_output', call_id: input.callId, output: input.output },
  };
}

/** Adds a text message to the conversation. */
export function messageItem(input: {
  role: 'user' | 'system';
  text: string;
}): ClientEventOf<'conversation.item.create'> {
  return {
    type: 'conversation.item.create',
    item: { type: 'message', role: input.role, content: [{ type: 'input_text', text: input.text }] },
  };
}

/** Asks for a response now; `instructions` apply to this response only. */
export function responseCreate(input: { instructions?: string } = {}): ClientEventOf<'response.create'> {
  return input.instructions === undefined
    ? { type: 'response.create' }
    : { type: 'response.create', response: { instructions: input.instructions } };
}

/** Cancels the response in progress. */
export function responseCancel(): ClientEventOf<'response.cancel'> {
  return { type: 'response.cancel' };
}

/** Cuts an assistant item's audio (and its transcript) at what the caller heard. */
export function itemTruncate(input: {
  itemId: string;
  audioEndMs: number;
}): ClientEventOf<'conversation.item.truncate'> {
  // The API wants a whole, non-negative number of milliseconds.
  const audioEndMs = Math.max(0, Math.floor(input.audioEndMs));
  return { type: 'conversation.item.truncate', item_id: input.itemId, content_index: 0, audio_end_ms: audioEndMs };
}

/** Removes an item from the server's conversation. */
export function itemDelete(itemId: string): ClientEventOf<'conversation.item.delete'> {
  return { type: 'conversation.item.delete', item_id: itemId };
}
