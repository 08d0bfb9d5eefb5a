/**
 * `ModelProvider` over the official `openai` SDK's chat completions, for OpenAI or any
 * OpenAI-compatible server. Timeouts and retries are the SDK's own (`timeout`, `maxRetries`:
 * exponential backoff from 0.5 s with jitter on 408/409/429/5xx, timeouts and connection errors,
 * honouring `retry-after`); every failure left after them becomes an `UnavailableError`. A reply
 * is checked against the wire format before it is read: anything else (an HTML page, broken
 * JSON, `message: null`) is an `UpstreamError`.
 */
import type { ClientOptions, OpenAI } from 'openai';
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { z } from 'zod';
import type { Config } from '../config/index.js';
import { UnavailableError, UpstreamError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Completion, CompletionRequest, ModelMessage, ModelProvider, ModelTool } from './model.js';

const OPENAI_BASE_URL = 'https://api.openai.com/v1';
// Local OpenAI-compatible servers (Ollama, llama.cpp, vLLM) ignore the key, but the SDK needs one.
const PLACEHOLDER_API_KEY = 'not-needed';
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RETRIES = 2;

/** The SDK is some 500 modules: the first request loads it, not every process that might make one. */
type OpenAISdk = typeof import('openai');

export interface ModelProviderOptions {
  apiKey?: string;
  /** Any OpenAI-compatible server; default api.openai.com. */
  baseUrl?: string;
  defaultModel: string;
  /** Per attempt. */
  timeoutMs?: number;
  maxRetries?: number;
  /** Receives the SDK's retry notices (never request bodies). */
  logger?: Logger;
}

/** The chat-model provider; unconfigured (no key, no base URL) it fails every call with a message saying so. */
export function createModelProvider(options: ModelProviderOptions): ModelProvider {
  return new OpenAIChatProvider(options);
}

/** `createModelProvider` with the `OPENAI_*` and `HEARTH_MODEL*` settings. */
export function modelProviderFromConfig(
  config: Pick<
    Config,
    'OPENAI_API_KEY' | 'OPENAI_BASE_URL' | 'HEARTH_MODEL' | 'HEARTH_MODEL_TIMEOUT_MS' | 'HEARTH_MODEL_MAX_RETRIES'
  >,
  logger?: Logger,
): ModelProvider {
  return createModelProvider({
    apiKey: config.OPENAI_API_KEY,
    baseUrl: config.OPENAI_BASE_URL,
    defaultModel: config.HEARTH_MODEL,
    timeoutMs: config.HEARTH_MODEL_TIMEOUT_MS,
    maxRetries: config.HEARTH_MODEL_MAX_RETRIES,
    logger,
  });
}

class OpenAIChatProvider implements ModelProvider {
  readonly defaultModel: string;
  readonly #clientOptions: ClientOptions | undefined;
  #client: Promise<{ sdk: OpenAISdk; client: OpenAI }> | undefined;
  readonly #baseUrl: string;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;

  constructor(options: ModelProviderOptions) {
    this.defaultModel = options.defaultModel;
    this.#baseUrl = options.baseUrl ?? OPENAI_BASE_URL;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    if (this.#timeoutMs <= 0) throw new RangeError(`timeoutMs must be positive, got ${this.#timeoutMs}`);
    if (!Number.isInteger(this.#maxRetries) || this.#maxRetries < 0) {
      throw new RangeError(`maxRetries must be an integer >= 0, got ${this.#maxRetries}`);
    }
    if (!options.apiKey && !options.baseUrl) return;
    const logger = options.logger;
    this.#clientOptions = {
      // Explicit values, so that stray OPENAI_* variables never override the validated config.
      apiKey: options.apiKey ?? PLACEHOLDER_API_KEY,
      baseURL: this.#baseUrl,
      organization: null,
      project: null,
      timeout: this.#timeoutMs,
      maxRetries: this.#maxRetries,
      ...(logger
        ? {
            logLevel: 'info' as const,
            logger: {
              error: (message: string) => logger.warn({ provider: this.#baseUrl }, message),
              warn: (message: string) => logger.warn({ provider: this.#baseUrl }, message),
              info: (message: string) => logger.debug({ provider: this.#baseUrl }, message),
              debug: () => {},
            },
          }
        : { logLevel: 'off' as const }),
    };
  }

  get configured(): boolean {
    return this.#clientOptions !== undefined;
  }

  #connect(options: ClientOptions): Promise<{ sdk: OpenAISdk; client: OpenAI }> {
    this.#client ??= import('openai').then((sdk) => ({ sdk, client: new sdk.OpenAI(options) }));
    return this.#client;
  }

  async complete(request: CompletionRequest): Promise<Completion> {
    const options = this.#clientOptions;
    if (!options) {
      throw new UnavailableError(
        'No model provider is configured: set OPENAI_API_KEY for OpenAI, or OPENAI_BASE_URL for an OpenAI-compatible server.',
        { details: { reason: 'not_configured' } },
      );
    }
    const { sdk, client } = await this.#connect(options);
    const model = request.model ?? this.defaultModel;
    const params: ChatCompletionCreateParamsNonStreaming = {
      model,
      messages: [{ role: 'system', content: request.instructions }, ...request.messages.map(toWireMessage)],
      ...(request.tools?.length ? { tools: request.tools.map(toWireTool) } : {}),
    };
    // The SDK's timeout stops at the response headers: a server that then stalls would hang the
    // turn. A deadline covers the whole exchange (one interval more than the SDK's own attempts,
    // so its header timeout reports first), and a stream must keep sending chunks.
    const attempts = this.#maxRetries + 1;
    const deadline = new Deadline((attempts + 1) * this.#timeoutMs + this.#maxRetries * RETRY_BACKOFF_ALLOWANCE_MS);
    const signal = request.signal ? AbortSignal.any([request.signal, deadline.signal]) : deadline.signal;
    let reply: unknown;
    try {
      reply = request.onTextDelta
        ? await this.#stream(client, params, request.onTextDelta, signal, () => deadline.reset(this.#timeoutMs))
        : await client.chat.completions.create(params, { signal });
    } catch (error) {
      if (deadline.signal.aborted && !request.signal?.aborted) throw this.#timedOut(error, model);
      throw this.#unavailable(error, model, sdk);
    } finally {
      deadline.clear();
    }
    // Typed as a ChatCompletion, but only because the SDK casts whatever the server sent.
    const completion = wireCompletionSchema.safeParse(reply);
    if (!completion.success) throw this.#badReply(describeIssues(completion.error), model, completion.error);
    return fromWire(completion.data, model);
  }

  #badReply(what: string, model: string, cause: unknown): UpstreamError {
    return new UpstreamError(`The model provider at ${this.#baseUrl} sent a reply Hearth could not read: ${what}`, {
      cause,
      details: { reason: 'bad_reply', model },
    });
  }

  async #stream(
    client: OpenAI,
    params: ChatCompletionCreateParamsNonStreaming,
    onTextDelta: (delta: string) => void,
    signal: AbortSignal,
    onChunk: () => void,
  ): Promise<ChatCompletion> {
    const stream = client.chat.completions.stream(
      { ...params, stream: true, stream_options: { include_usage: true } },
      { signal },
    );
    stream.on('chunk', onChunk);
    stream.on('content', (delta) => onTextDelta(delta));
    return stream.finalChatCompletion();
  }

  #timedOut(error: unknown, model: string): UnavailableError {
    return new UnavailableError(
      `The model provider at ${this.#baseUrl} started a reply but stopped sending it. ` +
        'Check that it is up, or raise HEARTH_MODEL_TIMEOUT_MS.',
      { cause: error, details: { reason: 'timeout', model } },
    );
  }

  /** The SDK's error, after its retries, as a message that says what to do about it. */
  #unavailable(error: unknown, model: string, sdk: OpenAISdk): unknown {
    const attempts = this.#maxRetries + 1;
    const at = `the model provider at ${this.#baseUrl}`;
    const fail = (reason: string, message: string, status?: number) =>
      new UnavailableError(message, { cause: error, details: { reason, model, ...(status ? { status } : {}) } });
    // The provider answered but refused: retrying will not help, the configuration must change.
    const refuse = (reason: string, message: string, status?: number) =>
      new UpstreamError(message, { cause: error, details: { reason, model, ...(status ? { status } : {}) } });
    if (error instanceof sdk.APIUserAbortError) return fail('aborted', 'The model request was cancelled.');
    if (error instanceof sdk.APIConnectionTimeoutError) {
      return fail(
        'timeout',
        `${capitalize(at)} did not answer within ${this.#timeoutMs} ms (${attempts} attempts). Check that it is up, or raise HEARTH_MODEL_TIMEOUT_MS.`,
      );
    }
    if (error instanceof sdk.APIConnectionError) {
      return fail(
        'unreachable',
        `Could not reach ${at} (${attempts} attempts): ${error.message} Check OPENAI_BASE_URL.`,
      );
    }
    if (error instanceof sdk.AuthenticationError || error instanceof sdk.PermissionDeniedError) {
      return refuse(
        'rejected_key',
        `${capitalize(at)} refused the API key (${error.status}): check OPENAI_API_KEY.`,
        error.status,
      );
    }
    if (error instanceof sdk.NotFoundError) {
      return refuse(
        'unknown_model',
        `${capitalize(at)} does not offer model "${model}" (404): check HEARTH_MODEL or the household's agentSettings.model.`,
        404,
      );
    }
    if (error instanceof sdk.RateLimitError) {
      return fail(
        'rate_limited',
        `${capitalize(at)} is rate limiting and still refused after ${attempts} attempts: ${error.message}`,
        429,
      );
    }
    if (error instanceof sdk.APIError && error.status !== undefined && error.status >= 500) {
      return fail(
        'upstream_error',
        `${capitalize(at)} kept failing (${attempts} attempts, last: ${error.message}).`,
        error.status,
      );
    }
    if (error instanceof sdk.APIError) {
      return refuse('rejected_request', `${capitalize(at)} rejected the request: ${error.message}`, error.status);
    }
    if (error instanceof sdk.OpenAIError) return this.#badReply(error.message, model, error);
    // The SDK reads a JSON content type with response.json(): a body that is not JSON ends up here.
    if (error instanceof SyntaxError) return this.#badReply(`not JSON (${error.message})`, model, error);
    // Not the SDK's: e.g. the caller's onTextDelta threw. Theirs to handle.
    return error;
  }
}

/** Room for the SDK's backoff between attempts (it waits at most 8 s). */
const RETRY_BACKOFF_ALLOWANCE_MS = 8_000;

/** An abort signal on a timer that can be re-armed (each stream chunk buys another interval). */
class Deadline {
  readonly #controller = new AbortController();
  #timer: NodeJS.Timeout;

  constructor(ms: number) {
    this.#timer = setTimeout(() => this.#controller.abort(), ms);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  reset(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#controller.abort(), ms);
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function toWireMessage(message: ModelMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case 'user':
      return { role: 'user', content: message.content };
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    case 'assistant': {
      const calls = message.toolCalls ?? [];
      if (calls.length === 0) return { role: 'assistant', content: message.content };
      return {
        role: 'assistant',
        // Some compatible servers reject an empty string next to tool calls; null is the API's own form.
        content: message.content || null,
        tool_calls: calls.map((call) => ({
          id: call.id,
          type: 'function',
          function: { name: call.name, arguments: call.arguments },
        })),
      };
    }
  }
}

function toWireTool(tool: ModelTool) {
  return {
    type: 'function' as const,
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  };
}

const FINISH_REASONS = ['stop', 'length', 'tool_calls', 'content_filter', 'function_call'] as const;

/**
 * The parts of a chat completion Hearth reads, as the server must send them. Only what nothing
 * depends on is read leniently: compatible servers name their own finish reasons, and some
 * leave out the usage or the model.
 */
const wireChoiceSchema = z.object({
  message: z.object({
    content: z.string().nullish(),
    refusal: z.string().nullish(),
    // Hearth offers function tools only, so any other kind of call is a reply it cannot act on.
    tool_calls: z
      .array(
        z.object({
          id: z.string(),
          type: z.literal('function'),
          function: z.object({ name: z.string(), arguments: z.string() }),
        }),
      )
      .nullish(),
  }),
  finish_reason: z.enum(FINISH_REASONS).catch('stop'),
});

const wireCompletionSchema = z.object({
  model: z.string().optional().catch(undefined),
  // Only the first choice is read (Hearth asks for one).
  choices: z.tuple([wireChoiceSchema], z.unknown()),
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number() }).nullish().catch(undefined),
});

/** `choices.0.message: expected object, received null`, or the whole body's problem. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'the body'}: ${issue.message}`)
    .join('; ');
}

function fromWire(completion: z.output<typeof wireCompletionSchema>, requestedModel: string): Completion {
  const { message, finish_reason: finishReason } = completion.choices[0];
  const { usage } = completion;
  return {
    text: message.content ?? message.refusal ?? '',
    toolCalls: (message.tool_calls ?? []).map((call) => ({
      id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
    })),
    finishReason,
    usage: usage ? { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens } : undefined,
    model: completion.model ?? requestedModel,
  };
}
