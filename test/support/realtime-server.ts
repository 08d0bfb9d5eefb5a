/**
 * A wire-level stand-in for the OpenAI Realtime API (GA), for tests and the demo: a `ws` server on
 * 127.0.0.1 that checks every client event against `clientEventSchema`, records it, and answers with
 * GA server events. It cannot recognise speech, so a script says what each utterance "was": it
 * finds utterances by the energy of the μ-law audio appended (server VAD), then sends the scripted
 * transcript and reply. Replies speak a tone, paced in real time unless `pacing: 'fast'`.
 * No test framework here: the demo reuses it.
 *
 * @example
 * const server = await startRealtimeServer({ pacing: 'fast' });
 * server.scriptUtterances({
 *   heard: 'When is the vet?',
 *   reply: [{ call: 'search_memory', arguments: { query: 'vet' } }, { say: 'Tuesday at ten.' }],
 * });
 * const transport = new OpenAIRealtimeWebSocket();
 * await transport.connect({ url: server.url, apiKey: 'test', session });
 * transport.sendAudio(Buffer.concat([mulawTone(500), mulawSilence(500)]).toString('base64'));
 * const call = await server.waitForClientEvent('conversation.item.create');
 * await server.close();
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { RealtimeClientEvent } from '../../src/voice/realtime-protocol.js';
import {
  type ClientEventOf,
  Connection,
  type RealtimeServerOptions,
  type ReplyStep,
  type ScriptedUtterance,
  type StandInConnection,
  type StandInContext,
} from './realtime-conversation.js';

export type {
  RealtimeServerOptions,
  ReplyStep,
  ScriptedUtterance,
  StandInConnection,
} from './realtime-conversation.js';

/** The running stand-in, with what a test needs to script it, watch it and break it. */
export interface RealtimeServer {
  /** The transport's URL: `ws://127.0.0.1:<port>/v1/realtime`. */
  readonly url: string;
  /** The matching REST base URL (`http://127.0.0.1:<port>/v1`), for `realtimeUrl({ baseUrl })`. */
  readonly baseUrl: string;
  /** Every connection accepted, in order (`connections.length` counts them). */
  readonly connections: readonly StandInConnection[];
  /** Appends what the next utterances were and the replies to them (shared by all connections). */
  scriptUtterances(...utterances: ScriptedUtterance[]): void;
  /** Appends replies for the next `response.create`s that do not continue after a tool call. */
  scriptResponses(...replies: ReplyStep[][]): void;
  /** Valid client events of `type` on every connection, in order. */
  clientEvents<K extends RealtimeClientEvent['type']>(type: K): ClientEventOf<K>[];
  /** The first client event of `type` matching `match`, recorded already or within `timeoutMs` (default 2 s). */
  waitForClientEvent<K extends RealtimeClientEvent['type']>(
    type: K,
    match?: (event: ClientEventOf<K>, connection: StandInConnection) => boolean,
    options?: { timeoutMs?: number },
  ): Promise<ClientEventOf<K>>;
  /** Sends a server event to every open connection. */
  send(event: Record<string, unknown> | string): void;
  /** Drops every open connection abruptly. */
  dropConnections(): void;
  /** While true, upgrade requests are answered with HTTP 503. */
  refuseConnections(refuse?: boolean): void;
  close(): Promise<void>;
}

const REALTIME_PATH = '/v1/realtime';
const DEFAULT_SILENCE_MS = 400;
const DEFAULT_SPEECH_THRESHOLD = 500;
const DEFAULT_WAIT_TIMEOUT_MS = 2_000;

interface Waiter {
  test: (event: RealtimeClientEvent, connection: StandInConnection) => boolean;
  resolve: (event: RealtimeClientEvent) => void;
}

/** Starts the stand-in on an ephemeral port; resolves once it listens. */
export async function startRealtimeServer(options: RealtimeServerOptions = {}): Promise<RealtimeServer> {
  const settings: Required<RealtimeServerOptions> = {
    silenceMs: options.silenceMs ?? DEFAULT_SILENCE_MS,
    speechThreshold: options.speechThreshold ?? DEFAULT_SPEECH_THRESHOLD,
    pacing: options.pacing ?? 'realtime',
    interruptResponse: options.interruptResponse ?? true,
  };
  const connections: Connection[] = [];
  const recorded: { event: RealtimeClientEvent; connection: StandInConnection }[] = [];
  const waiters = new Set<Waiter>();
  let ids = 0;
  let refusing = false;
  const shared: StandInContext = {
    options: settings,
    utterances: [],
    responses: [],
    nextId: (prefix) => `${prefix}_standin_${++ids}`,
    record(event, connection) {
      recorded.push({ event, connection });
      for (const waiter of waiters) {
        if (waiter.test(event, connection)) waiter.resolve(event);
      }
    },
  };

  const http = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ noServer: true });
  const refuse = (socket: Socket, status: string) => {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
  http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const requestUrl = req.url ?? '/';
    if (refusing) return refuse(socket, '503 Service Unavailable');
    if (new URL(requestUrl, 'http://stand-in').pathname !== REALTIME_PATH) return refuse(socket, '404 Not Found');
    if (!req.headers.authorization?.startsWith('Bearer ')) return refuse(socket, '401 Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      connections.push(new Connection(connections.length + 1, { ...req.headers }, requestUrl, ws, shared));
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = http.address() as AddressInfo;

  return {
    url: `ws://127.0.0.1:${port}${REALTIME_PATH}`,
    baseUrl: `http://127.0.0.1:${port}/v1`,
    connections,
    scriptUtterances: (...utterances) => {
      shared.utterances.push(...utterances);
    },
    scriptResponses: (...replies) => {
      shared.responses.push(...replies);
    },
    clientEvents: <K extends RealtimeClientEvent['type']>(type: K) =>
      recorded.flatMap(({ event }) => (event.type === type ? [event as ClientEventOf<K>] : [])),
    waitForClientEvent<K extends RealtimeClientEvent['type']>(
      type: K,
      match: (event: ClientEventOf<K>, connection: StandInConnection) => boolean = () => true,
      { timeoutMs = DEFAULT_WAIT_TIMEOUT_MS }: { timeoutMs?: number } = {},
    ): Promise<ClientEventOf<K>> {
      const test = (event: RealtimeClientEvent, connection: StandInConnection): event is ClientEventOf<K> =>
        event.type === type && match(event as ClientEventOf<K>, connection);
      const seen = recorded.find(({ event, connection }) => test(event, connection));
      if (seen) return Promise.resolve(seen.event as ClientEventOf<K>);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          const types = recorded.map(({ event }) => event.type).filter((name) => name !== 'input_audio_buffer.append');
          const got = `${types.slice(-10).join(', ') || 'no other events'}, and audio`;
          reject(new Error(`realtime-server: no matching ${type} within ${timeoutMs} ms (received: ${got})`));
        }, timeoutMs);
        const waiter: Waiter = {
          test,
          resolve: (event) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(event as ClientEventOf<K>);
          },
        };
        waiters.add(waiter);
      });
    },
    send(event) {
      for (const connection of connections) connection.send(event);
    },
    dropConnections() {
      for (const connection of connections) connection.drop();
    },
    refuseConnections(value = true) {
      refusing = value;
    },
    async close() {
      refusing = true;
      for (const connection of connections) connection.drop();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
