import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deterministicVector, type OpenAIStub, startOpenAIStub } from '../support/openai-stub.js';

let stub: OpenAIStub;
let client: OpenAI;

beforeAll(async () => {
  stub = await startOpenAIStub();
  client = new OpenAI({ apiKey: 'sk-test', baseURL: stub.url, maxRetries: 0 });
});
afterAll(() => stub.close());
beforeEach(() => stub.reset());

const hello = [{ role: 'user' as const, content: 'Hello' }];

describe('chat completions through the real SDK', () => {
  it('answers a scripted text reply and records what it was sent', async () => {
    stub.queueChat({ text: 'Hi there.', usage: { promptTokens: 12, completionTokens: 3 } });
    const completion = await client.chat.completions.create({ model: 'gpt-test', messages: hello });
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-test');
    expect(completion.choices[0]?.message).toMatchObject({ role: 'assistant', content: 'Hi there.' });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 });
    expect(stub.requests).toHaveLength(1);
    expect(stub.requests[0]).toMatchObject({ method: 'POST', path: '/v1/chat/completions' });
    expect(stub.requests[0]?.headers.authorization).toBe('Bearer sk-test');
    expect(stub.chatRequests()[0]?.messages).toEqual(hello);
  });

  it('answers parallel tool calls with ids and JSON-encoded arguments', async () => {
    stub.queueChat({
      toolCalls: [
        { name: 'archival_memory_search', arguments: { query: 'cat' } },
        { id: 'call_fixed', name: 'conversation_search', arguments: '{"query": "vet"' },
      ],
    });
    const completion = await client.chat.completions.create({
      model: 'gpt-test',
      messages: hello,
      tools: [{ type: 'function', function: { name: 'archival_memory_search', parameters: { type: 'object' } } }],
    });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    const calls = choice?.message.tool_calls ?? [];
    expect(calls.map((call) => call.type === 'function' && call.function)).toEqual([
      { name: 'archival_memory_search', arguments: '{"query":"cat"}' },
      { name: 'conversation_search', arguments: '{"query": "vet"' },
    ]);
    expect(calls[0]?.id).toMatch(/^call_/);
    expect(calls[1]?.id).toBe('call_fixed');
    expect(stub.chatRequests()[0]?.tools?.[0]?.function.name).toBe('archival_memory_search');
  });

  it('streams text as chunks ending with [DONE], usage last when asked for', async () => {
    stub.queueChat({ text: 'The cat is called Miso.' });
    const stream = await client.chat.completions.create({
      model: 'gpt-test',
      messages: hello,
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    const finishReasons: Array<string | null> = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      for (const choice of chunk.choices) {
        if (choice.delta.content) deltas.push(choice.delta.content);
        finishReasons.push(choice.finish_reason);
      }
      usage = chunk.usage ?? usage;
    }
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe('The cat is called Miso.');
    expect(finishReasons.at(-1)).toBe('stop');
    expect(usage?.total_tokens).toBeGreaterThan(0);
    expect(stub.chatRequests()[0]).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('streams tool calls with incremental argument deltas that the SDK reassembles', async () => {
    const args = { label: 'household', content: 'The cat is called Miso and eats at six.' };
    stub.queueChat({
      text: 'Saving that.',
      toolCalls: [
        { name: 'core_memory_append', arguments: args },
        { name: 'end_call', arguments: {} },
      ],
    });
    const stream = client.chat.completions.stream({ model: 'gpt-test', messages: hello });
    const argumentDeltas: string[] = [];
    for await (const chunk of stream) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        if (call.index === 0 && call.function?.arguments) argumentDeltas.push(call.function.arguments);
      }
    }
    const final = await stream.finalChatCompletion();
    expect(argumentDeltas.length).toBeGreaterThan(2);
    const message = final.choices[0]?.message;
    expect(message?.content).toBe('Saving that.');
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    const calls = (message?.tool_calls ?? []).map((call) => (call.type === 'function' ? call.function : undefined));
    expect(calls[0]?.name).toBe('core_memory_append');
    expect(JSON.parse(calls[0]?.arguments ?? '')).toEqual(args);
    expect(calls[1]).toMatchObject({ name: 'end_call', arguments: '{}' });
  });

  it('lets a function step answer from the request it was sent', async () => {
    stub.queueChat((request) => ({ text: `You said: ${String(request.messages.at(-1)?.content)}` }));
    const completion = await client.chat.completions.create({ model: 'gpt-test', messages: hello });
    expect(completion.choices[0]?.message.content).toBe('You said: Hello');
  });
});

describe('errors and delays', () => {
  it('answers a scripted error with an OpenAI error body the SDK turns into an APIError', async () => {
    stub.queueChat({ error: { status: 400, message: 'Bad tool schema', code: 'invalid_tools', param: 'tools' } });
    const error = await client.chat.completions.create({ model: 'gpt-test', messages: hello }).catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_tools', param: 'tools', type: 'invalid_request_error' });
    expect(error.message).toContain('Bad tool schema');
  });

  it('serves 500 then success to an SDK that retries', async () => {
    const retrying = new OpenAI({ apiKey: 'sk-test', baseURL: stub.url, maxRetries: 1 });
    stub.queueChat({ error: { status: 500 }, headers: { 'retry-after-ms': '0' } }, { text: 'Recovered.' });
    const completion = await retrying.chat.completions.create({ model: 'gpt-test', messages: hello });
    expect(completion.choices[0]?.message.content).toBe('Recovered.');
    expect(stub.chatRequests()).toHaveLength(2);
    expect(stub.pendingChat).toBe(0);
  });

  it('delays an answer past the client timeout, then serves the next step', async () => {
    stub.queueChat({ text: 'Too late.', delayMs: 5_000 }, { text: 'On time.' });
    const error = await client.chat.completions
      .create({ model: 'gpt-test', messages: hello }, { timeout: 100 })
      .catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    const completion = await client.chat.completions.create({ model: 'gpt-test', messages: hello });
    expect(completion.choices[0]?.message.content).toBe('On time.');
  });

  it('says so when the script is used up, and refuses requests without a key', async () => {
    const exhausted = await client.chat.completions.create({ model: 'gpt-test', messages: hello }).catch((e) => e);
    expect(exhausted).toMatchObject({ status: 400, code: 'stub_script_exhausted' });
    const response = await fetch(`${stub.url}/chat/completions`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });
});

describe('a stand-in with a fallback (the CLI demo)', () => {
  it('answers unscripted chat requests with the fallback, scripted ones first', async () => {
    const demo = await startOpenAIStub({
      fallbackChat: (request) => ({ text: `(${request.messages.length} messages)` }),
    });
    try {
      const demoClient = new OpenAI({ apiKey: 'sk-demo', baseURL: demo.url, maxRetries: 0 });
      demo.queueChat({ text: 'Scripted.' });
      const ask = async () =>
        (await demoClient.chat.completions.create({ model: 'm', messages: hello })).choices[0]?.message.content;
      expect([await ask(), await ask(), await ask()]).toEqual(['Scripted.', '(1 messages)', '(1 messages)']);
    } finally {
      await demo.close();
    }
  });
});

describe('embeddings through the real SDK', () => {
  it('decodes the base64 the SDK asks for by default, honouring dimensions', async () => {
    const response = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['The cat is called Miso.', 'Nana prefers Portuguese.'],
      dimensions: 512,
    });
    expect(stub.embeddingRequests()[0]).toMatchObject({ encoding_format: 'base64', dimensions: 512 });
    expect(response.data.map((item) => item.index)).toEqual([0, 1]);
    const [first, second] = response.data.map((item) => item.embedding);
    expect(first).toHaveLength(512);
    expect(Math.hypot(...(first ?? []))).toBeCloseTo(1, 4);
    const expected = deterministicVector('The cat is called Miso.', 512);
    expect(first).toEqual(Array.from(new Float32Array(expected)));
    expect(second?.[0]).not.toBeCloseTo(first?.[0] ?? 0, 5);
    expect(response.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('returns float arrays when asked, the same vector for the same text, and scripted vectors', async () => {
    const create = () =>
      client.embeddings.create({ model: 'text-embedding-3-small', input: 'same text', encoding_format: 'float' });
    const [one, two] = [await create(), await create()];
    expect(one.data[0]?.embedding).toHaveLength(1536);
    expect(one.data[0]?.embedding).toEqual(two.data[0]?.embedding);
    stub.queueEmbeddings({ vectors: [[1, 0, 0]] }, { error: { status: 429 }, headers: { 'x-should-retry': 'false' } });
    expect((await create()).data[0]?.embedding).toEqual([1, 0, 0]);
    await expect(create()).rejects.toBeInstanceOf(OpenAI.RateLimitError);
  });
});
