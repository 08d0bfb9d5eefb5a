/**
 * The realtime model for the concurrent-calls bench: a WebSocket server speaking the Realtime
 * API's events that echoes each appended 20 ms frame straight back as output audio, so audio
 * flows both ways at 50 frames/s per call. Traffic a real call also has: a transcript line each
 * way every few seconds (the response ends and a new one starts), and a memory tool call every
 * 30 s, from the caller's first audio (BENCH_TRANSCRIPT_MS sets the transcript interval, e.g.
 * very long to see the bridge alone). Every frame carries a timestamp in its first 8 bytes (the callers run in this process,
 * so they share the clock): frames in are timed on arrival here, frames out are stamped here.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { FRAME_BYTES, readStamp, stamp } from './frames.js';

const TRANSCRIPT_EVERY_MS = Number(process.env.BENCH_TRANSCRIPT_MS ?? 3_000);
const TOOL_CALL_EVERY_MS = 30_000;

export interface EchoModel {
  /** ws://127.0.0.1:<port>/v1/realtime */
  readonly url: string;
  /** ms from a caller's send to its frame's arrival here, per frame since the last `reset`. */
  readonly inLatencies: number[];
  /** Frames echoed since the last `reset`. */
  framesOut(): number;
  framesIn(): number;
  /** Tool calls answered by the client since the last `reset`. */
  toolOutputs(): number;
  /** Calls `listener` with the time (performance.now) each session.update arrives; returns an unsubscribe. */
  onSessionUpdate(listener: (at: number) => void): () => void;
  reset(): void;
  close(): Promise<void>;
}

let ids = 0;
const id = (prefix: string) => `${prefix}_${(++ids).toString(36)}`;

class EchoConnection {
  #response: { id: string; itemId: string } | undefined;
  #transcriptTimer: NodeJS.Timeout | undefined;
  #toolTimer: NodeJS.Timeout | undefined;
  #lines = 0;

  constructor(
    readonly socket: WebSocket,
    readonly stats: { inLatencies: number[]; framesIn: number; framesOut: number; toolOutputs: number },
    readonly sessionUpdated: (at: number) => void,
  ) {
    this.#emit('session.created', { session: { object: 'realtime.session', id: id('sess'), type: 'realtime' } });
    socket.on('message', (data) => this.#receive(data.toString()));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(this.#transcriptTimer);
      clearInterval(this.#toolTimer);
    });
  }

  /** The conversation starts with the caller's audio: transcripts and tool calls from then on. */
  #startTalking(): void {
    // Spread over the interval, so calls dialled together do not all speak at once.
    this.#transcriptTimer = setInterval(() => this.#transcriptLines(), TRANSCRIPT_EVERY_MS + Math.random() * 500);
    this.#toolTimer = setInterval(() => this.#toolCall(), TOOL_CALL_EVERY_MS + Math.random() * 5_000);
  }

  #emit(type: string, fields: Record<string, unknown>): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    this.socket.send(JSON.stringify({ type, event_id: id('event'), ...fields }));
  }

  #receive(text: string): void {
    const event = JSON.parse(text) as { type: string; audio?: string; session?: object; item?: { type?: string } };
    switch (event.type) {
      case 'session.update':
        this.sessionUpdated(performance.now());
        this.#emit('session.updated', { session: { object: 'realtime.session', ...event.session } });
        break;
      case 'input_audio_buffer.append':
        this.#echo(Buffer.from(event.audio ?? '', 'base64'));
        break;
      case 'response.create':
        this.#endResponse();
        this.#startResponse();
        break;
      case 'conversation.item.create':
        if (event.item?.type === 'function_call_output') this.stats.toolOutputs++;
        this.#emit('conversation.item.added', { previous_item_id: null, item: { id: id('item'), ...event.item } });
        break;
    }
  }

  #startResponse(): void {
    const response = { id: id('resp'), itemId: id('item') };
    this.#response = response;
    const base = { object: 'realtime.response', id: response.id, output_modalities: ['audio'] };
    this.#emit('response.created', { response: { ...base, status: 'in_progress', output: [] } });
    const item = { id: response.itemId, object: 'realtime.item', type: 'message', role: 'assistant' };
    this.#emit('response.output_item.added', {
      response_id: response.id,
      output_index: 0,
      item: { ...item, status: 'in_progress', content: [] },
    });
  }

  #endResponse(transcript?: string): void {
    const response = this.#response;
    if (!response) return;
    this.#response = undefined;
    const part = { response_id: response.id, item_id: response.itemId, output_index: 0, content_index: 0 };
    if (transcript) this.#emit('response.output_audio_transcript.done', { ...part, transcript });
    const base = { object: 'realtime.response', id: response.id, output_modalities: ['audio'] };
    this.#emit('response.done', { response: { ...base, status: 'completed', status_details: null, output: [] } });
  }

  #echo(audio: Buffer): void {
    if (!this.#transcriptTimer) this.#startTalking();
    if (!this.#response) this.#startResponse();
    const response = this.#response;
    if (!response) return;
    const now = performance.now();
    for (let offset = 0; offset + FRAME_BYTES <= audio.length; offset += FRAME_BYTES) {
      const frame = Buffer.from(audio.subarray(offset, offset + FRAME_BYTES));
      const sent = readStamp(frame);
      if (sent !== undefined) this.stats.inLatencies.push(now - sent);
      this.stats.framesIn++;
      stamp(frame);
      this.stats.framesOut++;
      this.#emit('response.output_audio.delta', {
        response_id: response.id,
        item_id: response.itemId,
        output_index: 0,
        content_index: 0,
        delta: frame.toString('base64'),
      });
    }
  }

  /** A caller's line and the agent's, as recall writes them. */
  #transcriptLines(): void {
    const line = ++this.#lines;
    const itemId = id('item');
    this.#emit('input_audio_buffer.committed', { item_id: itemId, previous_item_id: null });
    this.#emit('conversation.item.input_audio_transcription.completed', {
      item_id: itemId,
      content_index: 0,
      transcript: `Caller line ${line}: how is the weather today?`,
    });
    this.#endResponse(`Agent line ${line}: it is sunny and mild.`);
    this.#startResponse();
  }

  /** A memory tool call: the response ends with it, and the client answers with its output and a new response. */
  #toolCall(): void {
    const response = this.#response;
    if (!response) return;
    const callId = id('call');
    const itemId = id('item');
    const args = JSON.stringify({ query: 'weather', page: 0 });
    const at = { response_id: response.id, output_index: 1 };
    this.#emit('response.function_call_arguments.done', {
      ...at,
      item_id: itemId,
      call_id: callId,
      name: 'conversation_search',
      arguments: args,
    });
    this.#endResponse();
  }
}

export async function startEchoModel(): Promise<EchoModel> {
  const stats = { inLatencies: [] as number[], framesIn: 0, framesOut: 0, toolOutputs: 0 };
  const server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, path: '/v1/realtime' });
  const sessionListeners = new Set<(at: number) => void>();
  const sessionUpdated = (at: number) => {
    for (const listener of sessionListeners) listener(at);
  };
  wss.on('connection', (socket) => new EchoConnection(socket, stats, sessionUpdated));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/v1/realtime`,
    get inLatencies() {
      return stats.inLatencies;
    },
    framesIn: () => stats.framesIn,
    framesOut: () => stats.framesOut,
    toolOutputs: () => stats.toolOutputs,
    onSessionUpdate(listener) {
      sessionListeners.add(listener);
      return () => sessionListeners.delete(listener);
    },
    reset() {
      stats.inLatencies = [];
      stats.framesIn = 0;
      stats.framesOut = 0;
      stats.toolOutputs = 0;
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
