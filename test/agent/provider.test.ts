import http from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createModelProvider,
  createSummarizer,
  householdModel,
  type ModelProvider,
  type ModelTool,
  modelProviderFromConfig,
} from '../../src/agent/index.js';
import { loadConfig } from '../../src/config/index.js';
import { type HearthError, UnavailableError, UpstreamError } from '../../src/errors.js';
import { type OpenAIStub, type RawReply, startOpenAIStub } from '../support/openai-stub.js';

let stub: OpenAIStub;

beforeAll(async () => {
  stub = await startOpenAIStub();
});
afterAll(() => stub.close());
beforeEach(() => stub.reset());

function provider(options: { maxRetries?: number; timeoutMs?: number } = {}): ModelProvider {
  return createModelProvider({ apiKey: 'sk-test', baseUrl: stub.url, defaultModel: 'gpt-default', ...options });
}

const appendTool: ModelTool = {
  name: 'core_memory_append',
  description: 'Append to a memory block.',
  parameters: { type: 'object', properties: { label: { type: 'string' }, content: { type: 'string' } } },
};
const question = [{ role: 'user' as const, content: 'What is the cat called?' }];

async function failure<E extends HearthError = UnavailableError>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => E = UnavailableError as unknown as new (
    ...args: never[]
  ) => E,
): Promise<E> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  return error as E;
}

describe('completions', () => {
  it('sends the instructions as the system message and returns the reply', async () => {
    stub.queueChat({ text: 'Miso.', usage: { promptTokens: 40, completionTokens: 2 } });
    const reply = await provider().complete({ instructions: 'You are Hearth.', messages: question });
    expect(reply).toEqual({
      text: 'Miso.',
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 40, outputTokens: 2 },
      model: 'gpt-default',
    });
    const sent = stub.chatRequests()[0];
    expect(sent?.messages).toEqual([{ role: 'system', content: 'You are Hearth.' }, ...question]);
    expect(sent?.tools).toBeUndefined();
    expect(sent?.stream).toBeFalsy();
  });

  it('returns parallel tool calls and sends calls and results back in the wire format', async () => {
    stub.queueChat(
      {
        toolCalls: [
          { id: 'call_a', name: 'core_memory_append', arguments: { label: 'household', content: 'Cat: Miso' } },
          { id: 'call_b', name: 'core_memory_append', arguments: '{"label": "caller"' },
        ],
      },
      { text: 'Saved.' },
    );
    const model = provider();
    const first = await model.complete({ instructions: 'i', messages: question, tools: [appendTool] });
    expect(first.finishReason).toBe('tool_calls');
    expect(first.text).toBe('');
    expect(first.toolCalls).toEqual([
      { id: 'call_a', name: 'core_memory_append', arguments: '{"label":"household","content":"Cat: Miso"}' },
      { id: 'call_b', name: 'core_memory_append', arguments: '{"label": "caller"' },
    ]);
    expect(stub.chatRequests()[0]?.tools).toEqual([
      {
        type: 'function',
        function: { name: appendTool.name, description: appendTool.description, parameters: appendTool.parameters },
      },
    ]);

    await model.complete({
      instructions: 'i',
      tools: [appendTool],
      messages: [
        ...question,
        { role: 'assistant', content: '', toolCalls: first.toolCalls },
        { role: 'tool', toolCallId: 'call_a', content: 'Appended.' },
        { role: 'tool', toolCallId: 'call_b', content: 'Error: arguments are not valid JSON.' },
      ],
    });
    expect(stub.chatRequests()[1]?.messages.slice(2)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_a',
            type: 'function',
            function: { name: 'core_memory_append', arguments: first.toolCalls[0]?.arguments },
          },
          { id: 'call_b', type: 'function', function: { name: 'core_memory_append', arguments: '{"label": "caller"' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a', content: 'Appended.' },
      { role: 'tool', tool_call_id: 'call_b', content: 'Error: arguments are not valid JSON.' },
    ]);
  });

  it('streams text deltas to onTextDelta and still returns the whole reply with usage', async () => {
    stub.queueChat({ text: 'The cat is called Miso, and she eats at six.' });
    const deltas: string[] = [];
    const reply = await provider().complete({
      instructions: 'i',
      messages: question,
      onTextDelta: (delta) => deltas.push(delta),
    });
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe('The cat is called Miso, and she eats at six.');
    expect(reply.text).toBe(deltas.join(''));
    expect(reply.usage?.outputTokens).toBeGreaterThan(0);
    expect(stub.chatRequests()[0]).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('assembles streamed parallel tool calls', async () => {
    const args = { label: 'household', content: 'The cat is called Miso and eats at six.' };
    stub.queueChat({
      toolCalls: [
        { name: 'core_memory_append', arguments: args },
        { name: 'end_call', arguments: {} },
      ],
    });
    const reply = await provider().complete({ instructions: 'i', messages: question, onTextDelta: () => {} });
    expect(reply.finishReason).toBe('tool_calls');
    expect(reply.toolCalls.map((call) => [call.name, JSON.parse(call.arguments)])).toEqual([
      ['core_memory_append', args],
      ['end_call', {}],
    ]);
  });

  it("uses the household's model when its agentSettings name one", async () => {
    const model = householdModel({
      agentSettings: { model: 'gpt-household', voice: 'alloy' },
      defaultModel: 'gpt-default',
    });
    expect(householdModel({ agentSettings: { model: 42 }, defaultModel: 'gpt-default' })).toBe('gpt-default');
    expect(householdModel({ agentSettings: {}, defaultModel: 'gpt-default' })).toBe('gpt-default');
    stub.queueChat({ text: 'ok' });
    const reply = await provider().complete({ model, instructions: 'i', messages: question });
    expect(stub.chatRequests()[0]?.model).toBe('gpt-household');
    expect(reply.model).toBe('gpt-household');
  });

  it('is configured from the environment, and works with a base URL and no key', async () => {
    const config = loadConfig({ OPENAI_BASE_URL: stub.url, HEARTH_MODEL: 'local-model', LOG_LEVEL: 'silent' });
    const local = modelProviderFromConfig(config);
    expect(local.configured).toBe(true);
    stub.queueChat({ text: 'ok' });
    await local.complete({ instructions: 'i', messages: question });
    expect(stub.chatRequests()[0]?.model).toBe('local-model');
    expect(stub.requests[0]?.headers.authorization).toMatch(/^Bearer \S+$/);
  });
});

describe('failures', () => {
  it('retries a 500 with backoff and succeeds', async () => {
    stub.queueChat({ error: { status: 500 } }, { text: 'Recovered.' });
    const reply = await provider({ maxRetries: 2 }).complete({ instructions: 'i', messages: question });
    expect(reply.text).toBe('Recovered.');
    expect(stub.chatRequests()).toHaveLength(2);
  });

  it('retries a 429, honouring retry-after', async () => {
    stub.queueChat({ error: { status: 429 }, headers: { 'retry-after-ms': '10' } }, { text: 'Recovered.' });
    const reply = await provider({ maxRetries: 1 }).complete({ instructions: 'i', messages: question });
    expect(reply.text).toBe('Recovered.');
    expect(stub.chatRequests()).toHaveLength(2);
  });

  it('gives up on a persistent 500 with an UnavailableError naming the attempts', async () => {
    stub.queueChat(
      { error: { status: 500, message: 'overloaded' } },
      { error: { status: 503, message: 'overloaded' } },
    );
    const error = await failure(provider({ maxRetries: 1 }).complete({ instructions: 'i', messages: question }));
    expect(error.message).toMatch(/kept failing \(2 attempts, last: 503 overloaded\)/);
    expect(error.details).toMatchObject({ reason: 'upstream_error', status: 503, model: 'gpt-default' });
    expect(error.httpStatus).toBe(503);
    expect(stub.chatRequests()).toHaveLength(2);
  });

  it('times out with an UnavailableError that says which setting to raise', async () => {
    stub.queueChat({ text: 'late', delayMs: 5_000 });
    const error = await failure(
      provider({ timeoutMs: 150, maxRetries: 0 }).complete({ instructions: 'i', messages: question }),
    );
    expect(error.message).toContain('did not answer within 150 ms');
    expect(error.message).toContain('HEARTH_MODEL_TIMEOUT_MS');
    expect(error.details).toMatchObject({ reason: 'timeout' });
  });

  it('retries a timed-out attempt', async () => {
    stub.queueChat({ text: 'late', delayMs: 5_000 }, { text: 'On time.' });
    const reply = await provider({ timeoutMs: 150, maxRetries: 1 }).complete({ instructions: 'i', messages: question });
    expect(reply.text).toBe('On time.');
  });

  it('fails clearly when no provider is configured', async () => {
    const none = createModelProvider({ defaultModel: 'gpt-default' });
    expect(none.configured).toBe(false);
    const error = await failure(none.complete({ instructions: 'i', messages: question }));
    expect(error.message).toContain('OPENAI_API_KEY');
    expect(error.message).toContain('OPENAI_BASE_URL');
    expect(error.details).toEqual({ reason: 'not_configured' });
    expect(modelProviderFromConfig(loadConfig({})).configured).toBe(false);
  });

  it('names the setting to fix for a refused key and an unknown model, without retrying', async () => {
    stub.queueChat({ error: { status: 401 } }, { error: { status: 404 } });
    const model = provider({ maxRetries: 2 });
    const refused = await failure(model.complete({ instructions: 'i', messages: question }), UpstreamError);
    expect(refused.message).toContain('OPENAI_API_KEY');
    expect(refused.httpStatus).toBe(502);
    const unknown = await failure(
      model.complete({ model: 'gpt-nope', instructions: 'i', messages: question }),
      UpstreamError,
    );
    expect(unknown.message).toContain('"gpt-nope"');
    expect(unknown.message).toContain('agentSettings.model');
    expect(stub.chatRequests()).toHaveLength(2);
  });

  const completionWith = (choices: unknown[]) =>
    JSON.stringify({ id: 'chatcmpl_1', object: 'chat.completion', created: 0, model: 'gpt-default', choices });
  const unreadable: Array<[string, RawReply['raw']]> = [
    ['invalid JSON', { contentType: 'application/json', body: '{"id": "chatcmpl_1", "choices": [' }],
    ['an HTML page', { contentType: 'text/html', body: '<html><body><h1>Welcome to nginx!</h1></body></html>' }],
    [
      'a message of null',
      {
        contentType: 'application/json',
        body: completionWith([{ index: 0, message: null, finish_reason: 'stop' }]),
      },
    ],
    ['no choices', { contentType: 'application/json', body: completionWith([]) }],
    [
      'a tool call without a name',
      {
        contentType: 'application/json',
        body: completionWith([
          {
            index: 0,
            message: { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: {} }] },
            finish_reason: 'tool_calls',
          },
        ]),
      },
    ],
  ];

  it.each(unreadable)('a reply that is %s is an UpstreamError (502) that says so, not retried', async (_, raw) => {
    stub.queueChat({ raw });
    const error = await failure(
      provider({ maxRetries: 2 }).complete({ instructions: 'i', messages: question }),
      UpstreamError,
    );
    expect(error.httpStatus).toBe(502);
    expect(error.message).toContain(`The model provider at ${stub.url} sent a reply Hearth could not read`);
    expect(error.details).toMatchObject({ reason: 'bad_reply', model: 'gpt-default' });
    expect(stub.chatRequests()).toHaveLength(1);
  });

  it('a streamed reply that is an HTML page or broken chunks is an UpstreamError too', async () => {
    const broken = { contentType: 'text/event-stream', body: 'data: {"id": "c1", "choices": [\n\n' };
    for (const raw of [unreadable[1]![1], broken]) {
      stub.queueChat({ raw });
      const streamed = provider().complete({ instructions: 'i', messages: question, onTextDelta: () => {} });
      expect((await failure(streamed, UpstreamError)).details).toMatchObject({ reason: 'bad_reply' });
    }
  });

  it('reports a cancelled request as cancelled', async () => {
    stub.queueChat({ text: 'late', delayMs: 5_000 });
    const controller = new AbortController();
    const pending = provider().complete({ instructions: 'i', messages: question, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const error = await failure(pending);
    expect(error.details).toMatchObject({ reason: 'aborted' });
  });

  it('rejects bad options at construction', () => {
    expect(() => createModelProvider({ defaultModel: 'm', maxRetries: -1 })).toThrow(RangeError);
    expect(() => createModelProvider({ defaultModel: 'm', timeoutMs: 0 })).toThrow(RangeError);
  });
});

describe('summarizer', () => {
  it('asks the model to summarize the transcript and returns the summary', async () => {
    stub.queueChat({ text: '  Nana said the cat Miso eats at six.  ' });
    const summarizer = createSummarizer({ provider: provider(), model: 'gpt-small' });
    const summary = await summarizer.summarize([
      { role: 'user', content: 'The cat eats at six.' },
      { role: 'assistant', content: 'Noted.' },
    ]);
    expect(summary).toBe('Nana said the cat Miso eats at six.');
    const sent = stub.chatRequests()[0];
    expect(sent?.model).toBe('gpt-small');
    expect(sent?.messages[0]?.content).toContain('summary');
    expect(sent?.messages[1]?.content).toBe(
      '<transcript>\nuser: The cat eats at six.\nassistant: Noted.\n</transcript>',
    );
  });

  it('refuses an empty summary', async () => {
    stub.queueChat({ text: '   ' });
    const error = await failure(
      createSummarizer({ provider: provider() }).summarize([{ role: 'user', content: 'hi' }]),
    );
    expect(error.details).toMatchObject({ reason: 'empty_summary' });
  });
});

describe('a provider that stalls after answering the headers', () => {
  /** A server that sends 200 and, when streaming, one chunk, then never finishes the body. */
  async function stallingServer() {
    const sockets = new Set<import('node:net').Socket>();
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk;
      });
      req.on('end', () => {
        const streaming = (JSON.parse(body) as { stream?: boolean }).stream === true;
        res.writeHead(200, { 'content-type': streaming ? 'text/event-stream' : 'application/json' });
        if (streaming) {
          const chunk = {
            id: 'c1',
            object: 'chat.completion.chunk',
            created: 0,
            model: 'm',
            choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' }, finish_reason: null }],
          };
          res.write(`data: ${JSON.stringify(chunk)}\n\n`);
        } else {
          res.write('{"id":"c1","object":"chat.completion",');
        }
      });
    });
    server.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as import('node:net').AddressInfo;
    return {
      url: `http://127.0.0.1:${port}/v1`,
      close: () => {
        for (const socket of sockets) socket.destroy();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  it('times out instead of hanging, streaming or not', async () => {
    const stalling = await stallingServer();
    try {
      const model = createModelProvider({
        apiKey: 'sk-test',
        baseUrl: stalling.url,
        defaultModel: 'm',
        timeoutMs: 300,
        maxRetries: 0,
      });
      const whole = await failure(model.complete({ instructions: 'i', messages: question }));
      expect(whole.details).toMatchObject({ reason: 'timeout' });
      expect(whole.message).toContain('HEARTH_MODEL_TIMEOUT_MS');
      const deltas: string[] = [];
      const streamed = await failure(
        model.complete({ instructions: 'i', messages: question, onTextDelta: (delta) => deltas.push(delta) }),
      );
      expect(streamed.details).toMatchObject({ reason: 'timeout' });
      expect(deltas).toEqual(['Hel']);
    } finally {
      await stalling.close();
    }
  });
});
