/**
 * A local stand-in for the OpenAI API, for tests and the CLI demo: a `node:http` server on
 * 127.0.0.1 that answers `POST /v1/chat/completions` (whole or streamed) and `POST /v1/embeddings`
 * in the real wire format, follows a per-test script, and records every request it was sent.
 * Point the official SDK at it with `baseURL: stub.url`.
 *
 * @example
 * const stub = await startOpenAIStub();
 * stub.queueChat({ toolCalls: [{ name: 'core_memory_append', arguments: { label: 'household', content: 'Cat: Miso' } }] },
 *   { text: 'Noted.' });
 * const client = new OpenAI({ apiKey: 'test', baseURL: stub.url });
 * // … the code under test talks to it …
 * expect(stub.chatRequests()[0]?.messages[0]?.content).toContain('<memory_blocks>');
 * await stub.close();
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import {
  type ChatReply,
  type ChatRequest,
  chatCompletionBody,
  chatCompletionChunks,
  chatRequestSchema,
  type EmbeddingReply,
  type EmbeddingRequest,
  type ErrorReply,
  embeddingRequestSchema,
  embeddingsBody,
  errorBody,
  type RawReply,
  resolveReply,
} from './openai-wire.js';

export type {
  ChatReply,
  ChatRequest,
  EmbeddingReply,
  EmbeddingRequest,
  ErrorReply,
  RawReply,
  StubToolCall,
} from './openai-wire.js';
export { deterministicVector } from './openai-wire.js';

/**
 * One scripted chat answer; a function computes it from the request the model was sent. `until`
 * holds the answer back until it settles, so a test can act while the model is "thinking".
 */
export type ChatStep =
  | ((ChatReply | ErrorReply | RawReply) & { until?: Promise<unknown> })
  | ((request: ChatRequest) => ChatReply | ErrorReply | RawReply);
/** One scripted embeddings answer (without a script, vectors are derived from each text). */
export type EmbeddingStep = EmbeddingReply | ErrorReply;

/** A request as the stand-in received it. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  /** Lower-case header names, as Node gives them. */
  headers: Record<string, string>;
  /** The parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
}

export interface OpenAIStubOptions {
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Answers chat requests once the script is used up; default: a 400 naming the exhausted script. */
  fallbackChat?: ChatStep;
}

export interface OpenAIStub {
  /** The SDK's `baseURL`, e.g. `http://127.0.0.1:41234/v1`. */
  readonly url: string;
  /** Every request received, in order (including ones that were answered with an error). */
  readonly requests: readonly RecordedRequest[];
  /** The bodies of the chat-completions requests, in order. */
  chatRequests(): ChatRequest[];
  /** The bodies of the embeddings requests, in order. */
  embeddingRequests(): EmbeddingRequest[];
  /** Appends answers for the next chat-completions requests, one request each. */
  queueChat(...steps: ChatStep[]): void;
  /** Appends answers for the next embeddings requests, one request each. */
  queueEmbeddings(...steps: EmbeddingStep[]): void;
  /** How many scripted chat answers have not been used yet. */
  readonly pendingChat: number;
  /** Forgets the script and the recorded requests. */
  reset(): void;
  close(): Promise<void>;
}

const CHAT_PATH = '/v1/chat/completions';
const EMBEDDINGS_PATH = '/v1/embeddings';

/** Starts the stand-in; resolves once it listens. */
export async function startOpenAIStub(options: OpenAIStubOptions = {}): Promise<OpenAIStub> {
  const chatScript: ChatStep[] = [];
  const embeddingScript: EmbeddingStep[] = [];
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let ids = 0;
  const nextId = (prefix: string) => `${prefix}_stub_${++ids}`;

  function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': nextId('req'), ...headers });
    res.end(JSON.stringify(body));
  }

  function sendError(res: ServerResponse, reply: ErrorReply) {
    sendJson(res, reply.error.status, errorBody(reply.error), reply.headers);
  }

  /** Resolves after `ms`, or never if the client hung up first (the answer is then dropped). */
  function wait(res: ServerResponse, ms = 0): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(!res.destroyed);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        res.off('close', hungUp);
        resolve(!res.destroyed);
      }, ms);
      const hungUp = () => {
        clearTimeout(timer);
        timers.delete(timer);
        resolve(false);
      };
      timers.add(timer);
      res.once('close', hungUp);
    });
  }

  async function answerChat(res: ServerResponse, body: unknown) {
    const parsed = chatRequestSchema.safeParse(body);
    if (!parsed.success) {
      return sendError(res, { error: { status: 400, message: `Invalid chat request: ${parsed.error.message}` } });
    }
    const request = parsed.data;
    const next = chatScript.shift() ?? options.fallbackChat;
    const step = typeof next === 'function' ? next(request) : next;
    if (!step) {
      const message = `openai-stub: no scripted chat reply left for request #${requests.length}`;
      return sendError(res, { error: { status: 400, message, code: 'stub_script_exhausted' } });
    }
    if ('until' in step) await step.until;
    if (!(await wait(res, step.delayMs))) return;
    if ('error' in step) return sendError(res, step);
    if ('raw' in step) {
      res.writeHead(step.raw.status ?? 200, { 'content-type': step.raw.contentType, 'x-request-id': nextId('req') });
      return res.end(step.raw.body);
    }
    const reply = resolveReply(step, request, () => nextId('call'));
    const id = nextId('chatcmpl');
    if (!request.stream) return sendJson(res, 200, chatCompletionBody({ id, model: request.model, reply }));
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': id });
    const includeUsage = request.stream_options?.include_usage === true;
    for (const chunk of chatCompletionChunks({ id, model: request.model, reply, includeUsage })) {
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  }

  async function answerEmbeddings(res: ServerResponse, body: unknown) {
    const parsed = embeddingRequestSchema.safeParse(body);
    if (!parsed.success) {
      return sendError(res, { error: { status: 400, message: `Invalid embeddings request: ${parsed.error.message}` } });
    }
    const step = embeddingScript.shift();
    if (!(await wait(res, step?.delayMs))) return;
    if (step && 'error' in step) return sendError(res, step);
    sendJson(res, 200, embeddingsBody({ request: parsed.data, vectors: step?.vectors }));
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Recorded as text; the route answers 400 below.
    }
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([name, value]) => [
        name,
        Array.isArray(value) ? value.join(', ') : (value ?? ''),
      ]),
    );
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    requests.push({ method: req.method ?? 'GET', path, headers, body });

    if (!headers.authorization?.startsWith('Bearer ')) {
      return sendError(res, { error: { status: 401, message: 'You did not provide an API key.' } });
    }
    if (req.method === 'POST' && path === CHAT_PATH) return answerChat(res, body);
    if (req.method === 'POST' && path === EMBEDDINGS_PATH) return answerEmbeddings(res, body);
    sendError(res, { error: { status: 404, message: `Unknown request URL: ${req.method} ${path}.` } });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      sendError(res, { error: { status: 500, message: `openai-stub failed: ${String(error)}` } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  /** Bodies sent to `path` that passed `schema` (an invalid one was answered 400 and is skipped). */
  const bodiesAt = <T>(path: string, schema: z.ZodType<T>) =>
    requests.flatMap((request) => {
      const parsed = request.path === path ? schema.safeParse(request.body) : undefined;
      return parsed?.success ? [parsed.data] : [];
    });

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    chatRequests: () => bodiesAt(CHAT_PATH, chatRequestSchema),
    embeddingRequests: () => bodiesAt(EMBEDDINGS_PATH, embeddingRequestSchema),
    queueChat: (...steps) => {
      chatScript.push(...steps);
    },
    queueEmbeddings: (...steps) => {
      embeddingScript.push(...steps);
    },
    get pendingChat() {
      return chatScript.length;
    },
    reset() {
      chatScript.length = 0;
      embeddingScript.length = 0;
      requests.length = 0;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
