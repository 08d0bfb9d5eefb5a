/**
 * `OpenAIRealtimeWebSocket` against the wire-level stand-in (`test/support/realtime-server.ts`):
 * every byte goes through a real socket, and what the transport sent is checked as the server saw it.
 */
import { type AddressInfo, createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { ConfigError, ConflictError, UnavailableError, UpstreamError } from '../../src/errors.js';
import { OpenAIRealtimeWebSocket, RealtimeApiError, realtimeUrl } from '../../src/voice/openai-realtime.js';
import type { RealtimeSessionConfig, RealtimeTransportEvents } from '../../src/voice/transport.js';
import { mulawSilence, mulawTone } from '../support/mulaw.js';
import { type RealtimeServer, startRealtimeServer } from '../support/realtime-server.js';

const SESSION: RealtimeSessionConfig = {
  instructions: 'You are Hearth, the household assistant.',
  voice: 'marin',
  transcriptionModel: 'gpt-4o-mini-transcribe',
  tools: [
    {
      name: 'search_memory',
      description: 'Search what the household told you before.',
      parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
    },
  ],
};

/** The first argument of the next `name` event. */
function next<K extends keyof RealtimeTransportEvents>(
  transport: OpenAIRealtimeWebSocket,
  name: K,
  match: (...args: RealtimeTransportEvents[K]) => boolean = () => true,
): Promise<RealtimeTransportEvents[K][0]> {
  return new Promise((resolve) => {
    const listener = (...args: RealtimeTransportEvents[K]) => {
      if (!match(...args)) return;
      transport.off(name, listener as never);
      resolve(args[0]);
    };
    transport.on(name, listener as never);
  });
}

/** Every argument `name` is emitted with, from now on. */
function collect<K extends keyof RealtimeTransportEvents>(transport: OpenAIRealtimeWebSocket, name: K) {
  const seen: RealtimeTransportEvents[K][0][] = [];
  transport.on(name, ((...args: RealtimeTransportEvents[K]) => seen.push(args[0])) as never);
  return seen;
}

/** A caller's utterance as Twilio would send it: speech, then enough silence to end it, in 20 ms frames. */
function speak(transport: OpenAIRealtimeWebSocket, speechMs = 400, silenceMs = 500): void {
  const audio = Buffer.concat([mulawTone(speechMs), mulawSilence(silenceMs)]);
  for (let offset = 0; offset < audio.length; offset += 160) {
    transport.sendAudio(audio.subarray(offset, offset + 160).toString('base64'));
  }
}

/** A port on 127.0.0.1 with nothing listening. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('OpenAIRealtimeWebSocket', () => {
  let server: RealtimeServer;
  let transport: OpenAIRealtimeWebSocket;

  beforeEach(async () => {
    server = await startRealtimeServer({ pacing: 'fast' });
    transport = new OpenAIRealtimeWebSocket({ connectTimeoutMs: 2_000 });
  });

  afterEach(async () => {
    transport.close();
    await server.close();
  });

  it('connects, sends the whole session in the GA shape (audio/pcmu both ways) and waits for session.updated', async () => {
    const statuses = collect(transport, 'connection_change');
    await transport.connect({ url: `${server.url}?model=gpt-realtime`, apiKey: 'sk-test', session: SESSION });

    expect(transport.status).toBe('connected');
    expect(statuses).toEqual(['connecting', 'connected']);
    const [connection] = server.connections;
    expect(connection?.headers.authorization).toBe('Bearer sk-test');
    expect(connection?.requestUrl).toBe('/v1/realtime?model=gpt-realtime');
    expect(connection?.rejected).toEqual([]);
    expect(connection?.events).toEqual([
      {
        type: 'session.update',
        session: {
          type: 'realtime',
          instructions: SESSION.instructions,
          output_modalities: ['audio'],
          audio: {
            input: {
              format: { type: 'audio/pcmu' },
              turn_detection: { type: 'server_vad' },
              transcription: { model: 'gpt-4o-mini-transcribe' },
            },
            output: { format: { type: 'audio/pcmu' }, voice: 'marin' },
          },
          tools: [{ type: 'function', ...SESSION.tools[0] }],
          tool_choice: 'auto',
        },
      },
    ]);

    transport.updateSession({ ...SESSION, instructions: 'Now you know about the cat.' });
    const update = await server.waitForClientEvent(
      'session.update',
      (event) => event.session.instructions !== SESSION.instructions,
    );
    expect(update.session.audio.output.voice).toBe('marin');
  });

  it('passes the caller’s μ-law bytes through unchanged', async () => {
    await transport.connect({ url: server.url, apiKey: 'sk-test', session: SESSION });
    // Every byte value, in uneven chunks, so nothing re-frames or re-encodes them.
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) % 256));
    const chunks = [bytes.subarray(0, 1), bytes.subarray(1, 161), bytes.subarray(161, 700), bytes.subarray(700)];
    for (const chunk of chunks) transport.sendAudio(chunk.toString('base64'));

    const last = chunks.at(-1)!.toString('base64');
    await server.waitForClientEvent('input_audio_buffer.append', (event) => event.audio === last);
    expect(server.connections[0]?.audioIn().equals(bytes)).toBe(true);
  });

  it('passes the model’s audio through unchanged, with the response and item ids', async () => {
    await transport.connect({ url: server.url, apiKey: 'sk-test', session: SESSION });
    server.scriptResponses([{ say: 'Hello, this is Hearth.', audioMs: 340 }]);
    const audio = collect(transport, 'audio');
    const started = next(transport, 'response_started');
    const transcript = next(transport, 'assistant_transcript');
    const done = next(transport, 'response_done');
    const item = next(transport, 'item_added');

    transport.requestResponse();

    const { responseId } = await started;
    expect(await item).toMatchObject({ role: 'assistant', type: 'message' });
    expect(await transcript).toMatchObject({ responseId, transcript: 'Hello, this is Hearth.' });
    expect(await done).toEqual({ responseId, status: 'completed' });
    expect(audio.length).toBeGreaterThan(1);
    expect(new Set(audio.map((chunk) => `${chunk.responseId}/${chunk.itemId}`)).size).toBe(1);
    const received = Buffer.concat(audio.map((chunk) => Buffer.from(chunk.audio, 'base64')));
    expect(received.equals(mulawTone(340))).toBe(true);

    // A hand-pushed delta arrives as the very same base64 string.
    const payload = Buffer.from([0x00, 0x7f, 0x80, 0xff]).toString('base64');
    const pushed = next(transport, 'audio');
    server.send({
      type: 'response.output_audio.delta',
      response_id: 'resp_1',
      item_id: 'item_1',
      output_index: 0,
      content_index: 0,
      delta: payload,
    });
    expect(await pushed).toEqual({ responseId: 'resp_1', itemId: 'item_1', audio: payload });
  });

  it('hears an utterance: speech_started, the caller’s transcript, then the reply’s transcript', async () => {
    await transport.connect({ url: server.url, apiKey: 'sk-test', session: SESSION });
    server.scriptUtterances({ heard: 'Is the vet on Tuesday?', reply: [{ say: 'Yes, at ten.' }] });
    const speech = next(transport, 'speech_started');
    const heard = next(transport, 'user_transcript');
    const answer = next(transport, 'assistant_transcript');
    const userItem = next(transport, 'item_added', (item) => item.role === 'user');

    speak(transport);

    const { itemId, audioStartMs } = await speech;
    expect(audioStartMs).toBe(0);
    expect(await userItem).toEqual({ itemId, role: 'user', type: 'message' });
    expect(await heard).toEqual({ itemId, transcript: 'Is the vet on Tuesday?' });
    expect((await answer).transcript).toBe('Yes, at ten.');
  });

  it('runs a tool call round trip: function_call, output, next response', async () => {
    await transport.connect({ url: server.url, apiKey: 'sk-test', session: SESSION });
    server.scriptUtterances({
      heard: 'When is the vet?',
      reply: [
        { say: 'Let me look.' },
        { call: 'search_memory', arguments: { query: 'vet' } },
        { say: 'Tuesday at ten.' },
      ],
    });
    const transcripts = collect(transport, 'assistant_transcript');
    const done = collect(transport, 'response_done');
    transport.on('function_call', (call) => {
      transport.sendFunctionOutput({ callId: call.callId, output: JSON.stringify({ found: 'Vet: Tuesday 10:00' }) });
      transport.requestResponse();
    });
    const call = next(transport, 'function_call');
    const final = next(transport, 'assistant_transcript', (line) => line.transcript === 'Tuesday at ten.');

    speak(transport);

    const { callId, name, arguments: args, responseId } = await call;
    expect(name).toBe('search_memory');
    expect(JSON.parse(args)).toEqual({ query: 'vet' });
    const second = await final;
    expect(second.responseId).not.toBe(responseId);
    expect(transcripts.map((line) => line.transcript)).toEqual(['Let me look.', 'Tuesday at ten.']);
    expect(done.map((response) => response.status)).toEqual(['completed', 'completed']);
    const output = await server.waitForClientEvent('conversation.item.create');
    expect(output.item).toEqual({
      type: 'function_call_output',
      call_id: callId,
      output: '{"found":"Vet: Tuesday 10:00"}',
    });
  });

  it('interrupts: cancels the running response, then truncates the item at what was heard', async () => {
    const paced = await startRealtimeServer({ pacing: 'realtime' });
    try {
      await transport.connect({ url: paced.url, apiKey: 'sk-test', session: SESSION });
      paced.scriptResponses([{ say: 'A very long story about the garden.', audioMs: 10_000 }]);
      let receivedBytes = 0;
      transport.on('audio', (chunk) => {
        receivedBytes += Buffer.byteLength(chunk.audio, 'base64');
      });
      const first = next(transport, 'audio');
      const done = next(transport, 'response_done');
      transport.requestResponse();
      const { itemId } = await first;

      transport.interrupt({ itemId, audioEndMs: 60.9, cancelResponse: true });

      expect(await done).toMatchObject({ status: 'cancelled' });
      const truncate = await paced.waitForClientEvent('conversation.item.truncate');
      expect(truncate).toEqual({
        type: 'conversation.item.truncate',
        item_id: itemId,
        content_index: 0,
        audio_end_ms: 60,
      });
      const types = paced.connections[0]?.events.map((event) => event.type);
      expect(types?.slice(-2)).toEqual(['response.cancel', 'conversation.item.truncate']);

      // Past the audio received, the truncate is cut to its end (the API would refuse it), and with
      // nothing to cancel only the truncate goes.
      const heardMs = Math.floor(receivedBytes / 8);
      transport.interrupt({ itemId, audioEndMs: 3_600_000, cancelResponse: false });
      const clamped = await paced.waitForClientEvent(
        'conversation.item.truncate',
        (event) => event.audio_end_ms !== 60,
      );
      expect(clamped.audio_end_ms).toBe(heardMs);
      expect(paced.clientEvents('response.cancel')).toHaveLength(1);
    } finally {
      transport.close();
      await paced.close();
    }
  });

  it('reports an abrupt drop as closed with expected=false, drops sends after it, and can connect again', async () => {
    await transport.connect({ url: server.url, apiKey: 'sk-test', session: SESSION });
    const closed = next(transport, 'closed');
    const errors = collect(transport, 'error');

    server.dropConnections();

    expect(await closed).toMatchObject({ expected: false, code: 1006 });
    expect(transport.status).toBe('disconnected');
    expect(() => transport.sendAudio(mulawSilence(20).toString('base64'))).not.toThrow();
    expect(() => transport.interrupt({ itemId: 'item_1', audioEndMs: 10, cancelResponse: true })).not.toThrow();
    expect(errors).toEqual([]);

    await transport.connect({ url: server.url, apiKey: 'sk-test', session: SESSION });
    expect(server.connections).toHaveLength(2);
    expect(transport.status).toBe('connected');
  });

  it('reports close() as closed with expected=true', async () => {
    await transport.connect({ url: server.url, apiKey: 'sk-test', session: SESSION });
    const closed = next(transport, 'closed');
    transport.close();
    expect(transport.status).toBe('disconnected');
    expect(await closed).toEqual({ expected: true, code: 1000, reason: 'client closed' });
  });

  it('fails to connect with an UnavailableError naming the URL when nothing listens', async () => {
    const url = `ws://127.0.0.1:${await closedPort()}/v1/realtime`;
    const statuses = collect(transport, 'connection_change');
    const attempt = transport.connect({ url, apiKey: 'sk-test', session: SESSION });
    await expect(attempt).rejects.toThrow(UnavailableError);
    await expect(attempt).rejects.toThrow(`Could not connect to the realtime API at ${url}`);
    expect(statuses).toEqual(['connecting', 'disconnected']);
  });

  it('times out a server that never confirms the session, naming the URL', async () => {
    const silent = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => silent.once('listening', resolve));
    const { port } = silent.address() as AddressInfo;
    const url = `ws://127.0.0.1:${port}/v1/realtime`;
    try {
      const impatient = new OpenAIRealtimeWebSocket({ connectTimeoutMs: 100 });
      const attempt = impatient.connect({ url, apiKey: 'sk-test', session: SESSION });
      await expect(attempt).rejects.toThrow(UnavailableError);
      await expect(attempt).rejects.toThrow(`${url} did not confirm the session within 100 ms`);
      expect(impatient.status).toBe('disconnected');
    } finally {
      for (const client of silent.clients) client.terminate();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('tells a refused upgrade apart: 401 is an UpstreamError, 503 an UnavailableError', async () => {
    await expect(transport.connect({ url: server.url, session: SESSION })).rejects.toMatchObject({
      name: 'UpstreamError',
      message: expect.stringContaining('HTTP 401'),
    });
    server.refuseConnections();
    await expect(transport.connect({ url: server.url, apiKey: 'sk-test', session: SESSION })).rejects.toMatchObject({
      name: 'UnavailableError',
      message: expect.stringContaining('HTTP 503'),
    });
    expect(server.connections).toHaveLength(0);
  });

  it('rejects connect with a RealtimeApiError when the server refuses the session', async () => {
    const attempt = transport.connect({
      url: server.url,
      apiKey: 'sk-test',
      session: { ...SESSION, tools: [{ name: '', description: 'nameless', parameters: {} }] },
    });
    await expect(attempt).rejects.toThrow(RealtimeApiError);
    expect(server.connections[0]?.rejected).toHaveLength(1);
  });

  it('emits garbage and malformed frames as errors, ignores unknown event types, and keeps going', async () => {
    await transport.connect({ url: server.url, apiKey: 'sk-test', session: SESSION });
    const errors = collect(transport, 'error');

    server.send('this is not JSON');
    server.send('{"no":"type"}');
    server.send('[1,2,3]');
    server.send({ type: 'response.output_audio.delta', response_id: 'resp_1' });
    server.send({ type: 'rate_limits.updated', rate_limits: [] });
    const stillHere = next(transport, 'response_started');
    server.send({ type: 'response.created', response: { id: 'resp_after_garbage' } });

    expect(await stillHere).toEqual({ responseId: 'resp_after_garbage' });
    expect(errors).toHaveLength(4);
    for (const error of errors) expect(error).toBeInstanceOf(UpstreamError);
    expect(errors.map((error) => error.message)).toEqual([
      expect.stringContaining('not JSON: this is not JSON'),
      expect.stringContaining('no event type'),
      expect.stringContaining('no event type'),
      expect.stringContaining('malformed response.output_audio.delta'),
    ]);
    expect(transport.status).toBe('connected');
  });

  it('does not crash on garbage when nobody listens for errors', async () => {
    await transport.connect({ url: server.url, apiKey: 'sk-test', session: SESSION });
    server.send('garbage');
    const stillHere = next(transport, 'response_started');
    server.send({ type: 'response.created', response: { id: 'resp_2' } });
    expect(await stillHere).toEqual({ responseId: 'resp_2' });
  });

  it('emits server error events as RealtimeApiError with the server’s code', async () => {
    await transport.connect({ url: server.url, apiKey: 'sk-test', session: SESSION });
    const error = next(transport, 'error');
    transport.interrupt({ itemId: 'item_x', audioEndMs: 0, cancelResponse: true });
    const received = await error;
    expect(received).toBeInstanceOf(RealtimeApiError);
    expect((received as RealtimeApiError).error.code).toBe('response_cancel_not_active');
  });

  it('sends messages, deletes and response instructions in the GA shape', async () => {
    await transport.connect({ url: server.url, apiKey: 'sk-test', session: SESSION });
    transport.addMessage({ role: 'system', text: 'The caller verified their PIN.' });
    transport.deleteItem('item_old');
    transport.requestResponse({ instructions: 'Greet the caller by name.' });

    await server.waitForClientEvent('response.create');
    expect(server.connections[0]?.events.slice(1)).toEqual([
      {
        type: 'conversation.item.create',
        item: {
          type: 'message',
          role: 'system',
          content: [{ type: 'input_text', text: 'The caller verified their PIN.' }],
        },
      },
      { type: 'conversation.item.delete', item_id: 'item_old' },
      { type: 'response.create', response: { instructions: 'Greet the caller by name.' } },
    ]);
    expect(server.connections[0]?.rejected).toEqual([]);
  });

  it('tells of the caller barging in while the model speaks, and the server cancels that response', async () => {
    const paced = await startRealtimeServer({ pacing: 'realtime' });
    try {
      await transport.connect({ url: paced.url, apiKey: 'sk-test', session: SESSION });
      paced.scriptResponses([{ say: 'Let me tell you about the garden.', audioMs: 10_000 }]);
      const first = next(transport, 'audio');
      const done = next(transport, 'response_done');
      const bargeIn = next(transport, 'speech_started');
      transport.requestResponse();
      await first;

      speak(transport);

      expect(await bargeIn).toMatchObject({ audioStartMs: 0 });
      expect(await done).toMatchObject({ status: 'cancelled' });
    } finally {
      transport.close();
      await paced.close();
    }
  });

  it('reports a listener that throws as an error instead of letting it into the socket', async () => {
    await transport.connect({ url: server.url, apiKey: 'sk-test', session: SESSION });
    transport.on('response_started', () => {
      throw new Error('listener bug');
    });
    const error = next(transport, 'error');
    server.send({ type: 'response.created', response: { id: 'resp_1' } });
    expect((await error).message).toBe('listener bug');
    expect(transport.status).toBe('connected');
  });

  it('rejects a pending connect when closed first', async () => {
    const silent = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => silent.once('listening', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const attempt = transport.connect({ url: `ws://127.0.0.1:${port}/v1/realtime`, apiKey: 'k', session: SESSION });
      transport.close();
      await expect(attempt).rejects.toThrow(UnavailableError);
      expect(transport.status).toBe('disconnected');
    } finally {
      for (const client of silent.clients) client.terminate();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('throws on misuse: sends before connect, a second connect, a bad timeout', async () => {
    expect(() => transport.sendAudio('AAAA')).toThrow(ConflictError);
    expect(() => transport.requestResponse()).toThrow('call connect() first');
    expect(() => new OpenAIRealtimeWebSocket({ connectTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => new OpenAIRealtimeWebSocket({ connectTimeoutMs: Number.NaN })).toThrow(RangeError);
    expect(() => transport.connect({ url: server.baseUrl, session: SESSION })).toThrow(ConfigError);
    await transport.connect({ url: server.url, apiKey: 'sk-test', session: SESSION });
    expect(() => transport.connect({ url: server.url, apiKey: 'sk-test', session: SESSION })).toThrow(ConflictError);
  });
});

describe('realtimeUrl', () => {
  it('derives the socket URL from the OpenAI base URL', () => {
    expect(realtimeUrl({ model: 'gpt-realtime' })).toBe('wss://api.openai.com/v1/realtime?model=gpt-realtime');
    expect(realtimeUrl({ baseUrl: 'http://127.0.0.1:8080/v1/', model: 'gpt-realtime' })).toBe(
      'ws://127.0.0.1:8080/v1/realtime?model=gpt-realtime',
    );
    expect(realtimeUrl({ baseUrl: 'https://proxy.example/openai/v1?tenant=a', model: 'gpt-realtime-mini' })).toBe(
      'wss://proxy.example/openai/v1/realtime?tenant=a&model=gpt-realtime-mini',
    );
  });

  it('lets an explicit realtime URL win, adding the model only when absent', () => {
    expect(realtimeUrl({ baseUrl: 'https://x.example/v1', realtimeUrl: 'ws://127.0.0.1:9/rt', model: 'm' })).toBe(
      'ws://127.0.0.1:9/rt?model=m',
    );
    expect(realtimeUrl({ realtimeUrl: 'wss://x.example/v1/realtime?model=pinned', model: 'm' })).toBe(
      'wss://x.example/v1/realtime?model=pinned',
    );
  });

  it('refuses what is not a URL or not ws(s)/http(s)', () => {
    expect(() => realtimeUrl({ baseUrl: 'not a url', model: 'm' })).toThrow('Not a URL');
    expect(() => realtimeUrl({ realtimeUrl: 'ftp://x.example/rt', model: 'm' })).toThrow('ws(s) or http(s)');
  });
});
