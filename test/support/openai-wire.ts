/**
 * The OpenAI wire format the stand-in answers with: chat completions (whole and streamed as
 * `chat.completion.chunk` events), embeddings (float or base64) and error bodies, shaped as the
 * `openai` SDK 6.x parses them (`resources/chat/completions`, `lib/ChatCompletionStream`,
 * `resources/embeddings`, `core/error`). No test framework here: the CLI demo reuses it.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

/** A tool call the scripted model makes; `arguments` objects are sent JSON-encoded. */
export interface StubToolCall {
  id?: string;
  name: string;
  /** A string is sent as is, so a test can send malformed JSON. */
  arguments: string | Record<string, unknown>;
}

/** What the scripted model answers: text, tool calls, or both. */
export interface ChatReply {
  text?: string;
  toolCalls?: StubToolCall[];
  /** Default: `tool_calls` when there are tool calls, else `stop`. */
  finishReason?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  /** Default: estimated from the request and reply sizes (about 4 characters a token). */
  usage?: { promptTokens: number; completionTokens: number };
  /** Wait this long before answering (past the client's timeout, it gives up first). */
  delayMs?: number;
}

/** An HTTP error with OpenAI's error body (`{ error: { message, type, param, code } }`). */
export interface ErrorReply {
  error: { status: number; message?: string; type?: string; code?: string | null; param?: string | null };
  /** Extra response headers, e.g. `{ 'retry-after-ms': '0' }` or `{ 'x-should-retry': 'false' }`. */
  headers?: Record<string, string>;
  delayMs?: number;
}

/**
 * A response sent byte for byte, whatever was asked (streamed or not): a server that answers
 * something other than the API, e.g. an HTML error page or broken JSON.
 */
export interface RawReply {
  raw: { status?: number; contentType: string; body: string };
  delayMs?: number;
}

/** Explicit vectors for the next embeddings request, one per input. */
export interface EmbeddingReply {
  vectors: number[][];
  delayMs?: number;
}

const messageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() })), z.null()]).optional(),
  tool_calls: z
    .array(
      z.looseObject({
        id: z.string(),
        type: z.literal('function'),
        function: z.object({ name: z.string(), arguments: z.string() }),
      }),
    )
    .optional(),
  tool_call_id: z.string().optional(),
});

/** The parts of a chat-completions request body the stand-in checks and tests read. */
export const chatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(messageSchema).min(1),
  tools: z
    .array(
      z.looseObject({
        type: z.literal('function'),
        function: z.looseObject({
          name: z.string(),
          description: z.string().optional(),
          parameters: z.record(z.string(), z.unknown()).optional(),
        }),
      }),
    )
    .optional(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
});
export type ChatRequest = z.infer<typeof chatRequestSchema>;

/** The parts of an embeddings request body the stand-in reads. */
export const embeddingRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string()).min(1), z.array(z.number()), z.array(z.array(z.number()))]),
  dimensions: z.number().int().positive().optional(),
  encoding_format: z.enum(['float', 'base64']).optional(),
});
export type EmbeddingRequest = z.infer<typeof embeddingRequestSchema>;

const CHARS_PER_TOKEN = 4;
const DEFAULT_EMBEDDING_DIMENSIONS = 1536;
const LARGE_EMBEDDING_DIMENSIONS = 3072;
const ARGUMENT_DELTA_CHARS = 8;

const tokensOf = (text: string) => Math.ceil(text.length / CHARS_PER_TOKEN);

/** The `message` of a chat completion or the accumulated stream, with ids already assigned. */
interface ResolvedReply {
  text: string | null;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  finishReason: NonNullable<ChatReply['finishReason']>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** Fills in ids, encodes arguments and estimates usage. `nextId` names each tool call. */
export function resolveReply(reply: ChatReply, request: ChatRequest, nextId: () => string): ResolvedReply {
  const toolCalls = (reply.toolCalls ?? []).map((call) => ({
    id: call.id ?? nextId(),
    name: call.name,
    arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
  }));
  const promptTokens = reply.usage?.promptTokens ?? tokensOf(JSON.stringify(request.messages));
  const completionTokens =
    reply.usage?.completionTokens ??
    tokensOf(reply.text ?? '') + toolCalls.reduce((sum, call) => sum + tokensOf(call.name + call.arguments), 0);
  return {
    text: reply.text ?? null,
    toolCalls,
    finishReason: reply.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  };
}

const usageDetails = (usage: ResolvedReply['usage']) => ({
  ...usage,
  prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
  completion_tokens_details: {
    reasoning_tokens: 0,
    audio_tokens: 0,
    accepted_prediction_tokens: 0,
    rejected_prediction_tokens: 0,
  },
});

/** A whole `chat.completion` object. */
export function chatCompletionBody(input: { id: string; model: string; reply: ResolvedReply }) {
  const { reply } = input;
  return {
    id: input.id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: input.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: reply.text,
          refusal: null,
          annotations: [],
          ...(reply.toolCalls.length > 0
            ? {
                tool_calls: reply.toolCalls.map((call) => ({
                  id: call.id,
                  type: 'function',
                  function: { name: call.name, arguments: call.arguments },
                })),
              }
            : {}),
        },
        logprobs: null,
        finish_reason: reply.finishReason,
      },
    ],
    usage: usageDetails(reply.usage),
    service_tier: 'default',
    system_fingerprint: 'fp_hearth_stub',
  };
}

/**
 * The `chat.completion.chunk` objects of a streamed reply, in OpenAI's order: the role, text in
 * word-sized deltas, each tool call opened with its id and name and then its arguments in small
 * pieces, an empty delta with the finish reason, and (when asked for) a last chunk with only usage.
 */
export function chatCompletionChunks(input: {
  id: string;
  model: string;
  reply: ResolvedReply;
  includeUsage: boolean;
}) {
  const { reply } = input;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices: unknown[], usage?: ReturnType<typeof usageDetails>) => ({
    id: input.id,
    object: 'chat.completion.chunk',
    created,
    model: input.model,
    service_tier: 'default',
    system_fingerprint: 'fp_hearth_stub',
    choices,
    ...(input.includeUsage ? { usage: usage ?? null } : {}),
  });
  const delta = (value: Record<string, unknown>, finishReason: string | null = null) =>
    chunk([{ index: 0, delta: value, logprobs: null, finish_reason: finishReason }]);

  const chunks = [delta({ role: 'assistant', content: reply.text === null ? null : '', refusal: null })];
  for (const piece of reply.text?.match(/\s*\S+\s*|\s+/g) ?? []) chunks.push(delta({ content: piece }));
  reply.toolCalls.forEach((call, index) => {
    chunks.push(
      delta({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }),
    );
    for (let at = 0; at < call.arguments.length; at += ARGUMENT_DELTA_CHARS) {
      const piece = call.arguments.slice(at, at + ARGUMENT_DELTA_CHARS);
      chunks.push(delta({ tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });
  chunks.push(delta({}, reply.finishReason));
  if (input.includeUsage) chunks.push(chunk([], usageDetails(reply.usage)));
  return chunks;
}

/** The body of an OpenAI error response; the message defaults to what the API says for the status. */
export function errorBody(error: ErrorReply['error']) {
  const defaults: Record<number, [string, string]> = {
    400: ['invalid_request_error', 'Invalid request.'],
    401: ['invalid_request_error', 'Incorrect API key provided.'],
    404: ['invalid_request_error', 'The model does not exist or you do not have access to it.'],
    429: ['rate_limit_error', 'Rate limit reached. Please try again later.'],
  };
  const [type, message] = defaults[error.status] ?? [
    'server_error',
    'The server had an error while processing your request.',
  ];
  return {
    error: {
      message: error.message ?? message,
      type: error.type ?? type,
      param: error.param ?? null,
      code: error.code ?? null,
    },
  };
}

/** The inputs of an embeddings request as strings (token arrays are JSON-encoded, only hashed). */
export function embeddingInputs(request: EmbeddingRequest): string[] {
  const { input } = request;
  if (typeof input === 'string') return [input];
  if (input.every((item) => typeof item === 'string')) return input;
  if (input.every((item) => typeof item === 'number')) return [JSON.stringify(input)];
  return input.map((item) => JSON.stringify(item));
}

/**
 * A unit vector derived from the text's SHA-256: the same text always gets the same vector, any
 * other text an unrelated one. NOT semantic — similar sentences are not near each other.
 */
export function deterministicVector(text: string, dimensions: number): number[] {
  let seed = createHash('sha256').update(text).digest().readUInt32LE(0);
  // mulberry32: a tiny seeded generator, enough to spread values over [-1, 1).
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  };
  const values = Array.from({ length: dimensions }, next);
  const norm = Math.hypot(...values) || 1;
  return values.map((value) => value / norm);
}

/** An embeddings `list` response; base64 is little-endian float32, as the SDK decodes it. */
export function embeddingsBody(input: { request: EmbeddingRequest; vectors?: number[][] }) {
  const { request } = input;
  const texts = embeddingInputs(request);
  const dimensions =
    request.dimensions ??
    (request.model === 'text-embedding-3-large' ? LARGE_EMBEDDING_DIMENSIONS : DEFAULT_EMBEDDING_DIMENSIONS);
  const vectors = input.vectors ?? texts.map((text) => deterministicVector(text, dimensions));
  const encode = (vector: number[]) =>
    request.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
  const tokens = texts.reduce((sum, text) => sum + tokensOf(text), 0);
  return {
    object: 'list',
    data: vectors.map((vector, index) => ({ object: 'embedding', index, embedding: encode(vector) })),
    model: request.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
