/**
 * A local stand-in for an organization's webhook endpoint, for tests and the CLI demo: a
 * `node:http` server on 127.0.0.1 that verifies every request with the `standardwebhooks`
 * package's `Webhook.verify` and the secret it was given, as a real receiver would, keeps each
 * message once by its `webhook-id` (an idempotent receiver acknowledges a duplicate but does not
 * act on it twice), and can be taken down and brought back up by the test.
 *
 * Answers: 204 for a verified message (and for a duplicate of one), 403 with `{ error: reason }`
 * when verification fails (missing headers, stale timestamp, no matching signature), 400 for a
 * verified body that is not a Hearth webhook payload, 405 for anything but POST.
 *
 * @example
 * const receiver = await startWebhookReceiver({ secret });
 * await receiver.down(); // answers 503 until up()
 * const first = await deliverWebhook({ url: receiver.url, secret, messageId: 'msg_1', payload });
 * await receiver.up();
 * const second = await deliverWebhook({ url: receiver.url, secret, messageId: 'msg_1', payload });
 * // first: { ok: false, status: 503, retryable: true, … }; second: { ok: true, status: 204, … }
 * receiver.messages; // [{ id: 'msg_1', payload, deliveries: 1, … }]
 * await receiver.close();
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { type WebhookPayload, webhookPayloadSchema } from '../../src/escalation/webhooks.js';

/** A message that verified, kept once however often it arrived. */
export interface ReceivedMessage {
  /** Its `webhook-id`. */
  id: string;
  payload: WebhookPayload;
  /** The `webhook-timestamp` (unix seconds) of its first verified arrival. */
  firstTimestamp: number;
  /** Verified arrivals of this id; more than 1 means the sender retried one the receiver had. */
  deliveries: number;
}

/** A request that reached the receiver while up and failed verification or the payload check. */
export interface RejectedRequest {
  /** Its `webhook-id`, if it had one. */
  id: string | undefined;
  status: number;
  /** What the receiver answered, e.g. `No matching signature found` (the package's words). */
  reason: string;
}

/** Every request that got an answer, in order, including ones answered while down. */
export interface ReceivedRequest {
  method: string;
  path: string;
  /** Lower-case header names, as Node gives them. */
  headers: Record<string, string>;
  /** The raw body, exactly as signed. */
  body: string;
  /** The status the receiver answered. */
  status: number;
}

/**
 * How the receiver is down: answering `status` (default 503, optionally with a `Retry-After`) to
 * every request without looking at it; refusing connections (nothing listens on the port); or
 * accepting requests and never answering (the sender's timeout fires).
 */
export type DownMode = { status?: number; retryAfter?: string } | { refuse: true } | { hang: true };

export interface WebhookReceiverOptions {
  /** The `whsec_…` secret the sender signs with. */
  secret: string;
  /** Default 0: an ephemeral port. */
  port?: number;
}

export interface WebhookReceiver {
  /** Where to deliver, e.g. `http://127.0.0.1:41234/webhooks`. */
  readonly url: string;
  /** Verified messages, one per `webhook-id`, in the order they first arrived. */
  readonly messages: readonly ReceivedMessage[];
  /** Requests refused for a bad signature or payload, in order. */
  readonly rejected: readonly RejectedRequest[];
  /** Every answered request, in order. */
  readonly requests: readonly ReceivedRequest[];
  /** Takes the receiver down (default: answers 503) until `up()`. */
  down(mode?: DownMode): Promise<void>;
  /** Verifies and accepts again, listening on the same port if it had stopped. */
  up(): Promise<void>;
  /** Verifies with this secret from now on (e.g. the one an endpoint was created with). */
  useSecret(secret: string): void;
  /** Forgets messages, rejections and requests (the mode stays). */
  reset(): void;
  close(): Promise<void>;
}

type Mode =
  | { kind: 'up' }
  | { kind: 'answering'; status: number; retryAfter: string | undefined }
  | { kind: 'refusing' }
  | { kind: 'hanging' };

const WEBHOOK_PATH = '/webhooks';

/** Starts the receiver; resolves once it listens. */
export async function startWebhookReceiver(options: WebhookReceiverOptions): Promise<WebhookReceiver> {
  let webhook = new Webhook(options.secret);
  const messages: ReceivedMessage[] = [];
  const rejected: RejectedRequest[] = [];
  const requests: ReceivedRequest[] = [];
  let mode: Mode = { kind: 'up' };

  function answer(res: ServerResponse, request: Omit<ReceivedRequest, 'status'>, status: number, body?: unknown) {
    requests.push({ ...request, status });
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    if (mode.kind === 'answering' && mode.retryAfter !== undefined) headers['retry-after'] = mode.retryAfter;
    res.writeHead(status, headers);
    res.end(body === undefined ? undefined : JSON.stringify(body));
  }

  function reject(res: ServerResponse, request: Omit<ReceivedRequest, 'status'>, status: number, reason: string) {
    rejected.push({ id: request.headers['webhook-id'], status, reason });
    answer(res, request, status, { error: reason });
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([name, value]) => [
        name,
        Array.isArray(value) ? value.join(', ') : (value ?? ''),
      ]),
    );
    const request = {
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?')[0] ?? '/',
      headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    if (mode.kind === 'hanging') return;
    if (mode.kind === 'answering') return answer(res, request, mode.status, { error: 'receiver is down' });
    if (request.method !== 'POST') return answer(res, request, 405, { error: 'POST only' });

    let verified: unknown;
    try {
      verified = webhook.verify(request.body, headers);
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      return reject(res, request, 403, error.message);
    }
    const payload = webhookPayloadSchema.safeParse(verified);
    if (!payload.success) return reject(res, request, 400, `not a Hearth webhook payload: ${payload.error.message}`);

    // verify() succeeded, so the header is there.
    const id = headers['webhook-id'] ?? '';
    const known = messages.find((message) => message.id === id);
    if (known) known.deliveries += 1;
    else {
      messages.push({ id, payload: payload.data, firstTimestamp: Number(headers['webhook-timestamp']), deliveries: 1 });
    }
    answer(res, request, 204);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `webhook-receiver failed: ${String(error)}` }));
    });
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Kept-alive sockets would otherwise still reach the handler while "refusing".
      server.closeAllConnections();
    });

  await listen(options.port ?? 0);
  const { port } = server.address() as AddressInfo;

  return {
    useSecret(secret) {
      webhook = new Webhook(secret);
    },
    url: `http://127.0.0.1:${port}${WEBHOOK_PATH}`,
    messages,
    rejected,
    requests,
    async down(down: DownMode = {}) {
      const wasListening = mode.kind !== 'refusing';
      if ('refuse' in down) {
        mode = { kind: 'refusing' };
        if (wasListening) await stopListening();
      } else {
        if (!wasListening) await listen(port);
        mode =
          'hang' in down
            ? { kind: 'hanging' }
            : { kind: 'answering', status: down.status ?? 503, retryAfter: down.retryAfter };
      }
    },
    async up() {
      if (mode.kind === 'refusing') await listen(port);
      mode = { kind: 'up' };
    },
    reset() {
      messages.length = 0;
      rejected.length = 0;
      requests.length = 0;
    },
    async close() {
      if (mode.kind === 'refusing') return;
      mode = { kind: 'refusing' };
      await stopListening();
    },
  };
}
