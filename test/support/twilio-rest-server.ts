/**
 * A local stand-in for Twilio's REST API (2010-04-01), for tests and the CLI demo: a `node:http`
 * server on 127.0.0.1 that answers `POST …/Accounts/{AccountSid}/Messages.json` and `…/Calls.json`
 * as Twilio does (form-encoded in, JSON out, HTTP Basic auth with the account SID and auth token),
 * follows a per-resource script of failures, and records every request it was sent. Point the
 * official SDK at it with the pager's `apiBaseUrl: server.url`.
 *
 * @example
 * const server = await startTwilioRestServer({ accountSid: 'AC' + '0'.repeat(32), authToken: 'secret' });
 * server.failNext('Messages', { status: 429 }); // then answers 201 again
 * const pager = createTwilioPager({ accountSid, authToken: 'secret', from: '+15005550006', apiBaseUrl: server.url, logger });
 * await pager.sendSms({ to: '+15551234567', body: 'Page' }).catch(() => {}); // 429
 * await pager.sendSms({ to: '+15551234567', body: 'Page' }); // 201
 * expect(server.requestsTo('Messages')[1]?.params).toMatchObject({ To: '+15551234567', Body: 'Page' });
 * await server.close();
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The resources this stand-in serves. */
export type TwilioResource = 'Messages' | 'Calls';

/** Twilio's error body, as the REST API sends it. */
export interface TwilioErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
}

/**
 * One scripted answer for the next request to a resource: an error status (code and message
 * default to Twilio's for that status), a request that is never answered (a client timeout), or
 * a connection dropped mid-request.
 */
export type TwilioRestStep = { status: number; code?: number; message?: string } | { hang: true } | { reset: true };

/** A request as the stand-in received it. */
export interface RecordedTwilioRequest {
  method: string;
  /** Path without the query string, e.g. `/2010-04-01/Accounts/AC…/Messages.json`. */
  path: string;
  /** Which resource the path names, when it names one this stand-in knows. */
  resource: TwilioResource | undefined;
  /** The form fields; a field sent more than once (e.g. `StatusCallbackEvent`) is an array. */
  params: Record<string, string | string[]>;
  /** Lower-case header names, as Node gives them. */
  headers: Record<string, string>;
}

export interface TwilioRestServerOptions {
  /** The account the stand-in belongs to: `AC` + 32 hex digits. */
  accountSid: string;
  authToken: string;
  /** Default 0: an ephemeral port. */
  port?: number;
}

export interface TwilioRestServer {
  /** The origin to send requests to instead of `https://api.twilio.com`, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Every request received, in order (including ones answered with an error). */
  readonly requests: readonly RecordedTwilioRequest[];
  /** The requests that named `resource`, in order. */
  requestsTo(resource: TwilioResource): RecordedTwilioRequest[];
  /** Answers the next requests to `resource` with these steps, one request each; then 201 again. */
  failNext(resource: TwilioResource, ...steps: TwilioRestStep[]): void;
  /**
   * Stops listening until `acceptConnections`: new connections are refused (ECONNREFUSED). Open
   * ones are closed, so a client that reuses a kept-alive socket may see ECONNRESET instead.
   */
  refuseConnections(): Promise<void>;
  /** Listens again on the same port. */
  acceptConnections(): Promise<void>;
  /** Forgets the scripts and the recorded requests, and accepts connections again. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

const API_VERSION = '2010-04-01';
const RESOURCE_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)\.json$/;
const SID_PREFIX: Record<TwilioResource, string> = { Messages: 'SM', Calls: 'CA' };
// Twilio counts an SMS over 160 GSM characters as several segments of 153 each.
const SMS_SINGLE_SEGMENT_CHARS = 160;
const SMS_CONCATENATED_SEGMENT_CHARS = 153;

/** Twilio's usual code and message for a bare status, so a script can say just `{ status: 429 }`. */
const DEFAULT_ERRORS: Record<number, { code: number; message: string }> = {
  400: { code: 21211, message: "The 'To' number is not a valid phone number." },
  401: { code: 20003, message: 'Authenticate' },
  404: { code: 20404, message: 'The requested resource was not found' },
  429: { code: 20429, message: 'Too Many Requests' },
  500: { code: 20500, message: 'An internal server error has occurred' },
  503: { code: 20503, message: 'Service Unavailable' },
};

/** Twilio's error JSON for `status`, with `more_info` pointing at the code's page as Twilio's does. */
export function twilioErrorBody(status: number, code?: number, message?: string): TwilioErrorBody {
  const fallback = DEFAULT_ERRORS[status] ?? DEFAULT_ERRORS[status >= 500 ? 500 : 400];
  const resolved = code ?? fallback?.code ?? 20001;
  return {
    code: resolved,
    message: message ?? (code === undefined ? fallback?.message : undefined) ?? `Error ${resolved}`,
    more_info: `https://www.twilio.com/docs/errors/${resolved}`,
    status,
  };
}

/** Twilio writes dates in RFC 2822 with a numeric zone: `Thu, 24 Aug 2023 05:01:45 +0000`. */
function rfc2822(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

function param(params: Record<string, string | string[]>, name: string): string | undefined {
  const value = params[name];
  return Array.isArray(value) ? value.at(-1) : value;
}

/** The first missing required field, as Twilio reports it (400), or undefined when the request is complete. */
function missingField(
  resource: TwilioResource,
  params: Record<string, string | string[]>,
): TwilioErrorBody | undefined {
  const has = (...names: string[]) => names.some((name) => param(params, name));
  if (resource === 'Messages') {
    if (!has('To')) return twilioErrorBody(400, 21604, "A 'To' phone number is required.");
    if (!has('From', 'MessagingServiceSid')) return twilioErrorBody(400, 21603, "A 'From' phone number is required.");
    if (!has('Body', 'MediaUrl', 'ContentSid')) return twilioErrorBody(400, 21602, 'Message body is required.');
    return undefined;
  }
  if (!has('To')) return twilioErrorBody(400, 21201, "No 'To' number is specified");
  if (!has('From')) return twilioErrorBody(400, 21213, "No 'From' number is specified");
  if (!has('Url', 'Twiml', 'ApplicationSid')) return twilioErrorBody(400, 21205, 'Url parameter is required.');
  return undefined;
}

function createdBody(
  resource: TwilioResource,
  accountSid: string,
  params: Record<string, string | string[]>,
): Record<string, unknown> {
  const sid = `${SID_PREFIX[resource]}${randomBytes(16).toString('hex')}`;
  const now = rfc2822(new Date());
  const base = `/${API_VERSION}/Accounts/${accountSid}/${resource}/${sid}`;
  const common = {
    account_sid: accountSid,
    api_version: API_VERSION,
    date_created: now,
    date_updated: now,
    direction: 'outbound-api',
    from: param(params, 'From') ?? null,
    price: null,
    price_unit: 'USD',
    sid,
    status: 'queued',
    to: param(params, 'To') ?? null,
    uri: `${base}.json`,
  };
  if (resource === 'Messages') {
    const body = param(params, 'Body') ?? '';
    const segments =
      body.length <= SMS_SINGLE_SEGMENT_CHARS ? 1 : Math.ceil(body.length / SMS_CONCATENATED_SEGMENT_CHARS);
    return {
      ...common,
      body,
      date_sent: null,
      error_code: null,
      error_message: null,
      messaging_service_sid: param(params, 'MessagingServiceSid') ?? null,
      num_media: '0',
      num_segments: String(segments),
      subresource_uris: { media: `${base}/Media.json` },
    };
  }
  return {
    ...common,
    annotation: null,
    answered_by: null,
    caller_name: null,
    duration: null,
    end_time: null,
    forwarded_from: null,
    group_sid: null,
    parent_call_sid: null,
    queue_time: '0',
    start_time: null,
    subresource_uris: {
      notifications: `${base}/Notifications.json`,
      recordings: `${base}/Recordings.json`,
      events: `${base}/Events.json`,
    },
    trunk_sid: null,
  };
}

function parseForm(text: string): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(text)) {
    const previous = params[name];
    params[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return params;
}

/** Whether `header` is HTTP Basic auth for `username:password`. */
function basicAuthMatches(header: string | undefined, username: string, password: string): boolean {
  if (!header?.startsWith('Basic ')) return false;
  return Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8') === `${username}:${password}`;
}

/** Starts the stand-in; resolves once it listens. */
export async function startTwilioRestServer(options: TwilioRestServerOptions): Promise<TwilioRestServer> {
  const { accountSid, authToken } = options;
  const scripts: Record<TwilioResource, TwilioRestStep[]> = { Messages: [], Calls: [] };
  const requests: RecordedTwilioRequest[] = [];

  function sendJson(res: ServerResponse, status: number, body: unknown) {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'twilio-request-id': requestId() });
    res.end(JSON.stringify(body));
  }
  const sendError = (res: ServerResponse, body: TwilioErrorBody) => sendJson(res, body.status, body);
  const requestId = () => `RQ${randomBytes(16).toString('hex')}`;

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const params = parseForm(Buffer.concat(chunks).toString('utf8'));
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([name, value]) => [
        name,
        Array.isArray(value) ? value.join(', ') : (value ?? ''),
      ]),
    );
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const match = RESOURCE_PATH.exec(path);
    const resource = match?.[2] as TwilioResource | undefined;
    requests.push({ method: req.method ?? 'GET', path, resource, params, headers });

    // Twilio checks credentials before it looks at the path.
    if (!basicAuthMatches(headers.authorization, accountSid, authToken)) {
      return sendError(res, twilioErrorBody(401, 20003, 'Authenticate'));
    }
    if (req.method !== 'POST' || !match || !resource || match[1] !== accountSid) {
      return sendError(res, twilioErrorBody(404, 20404, `The requested resource ${path} was not found`));
    }
    const step = scripts[resource].shift();
    if (step && 'hang' in step) return; // answered never; close() ends it
    if (step && 'reset' in step) return void req.socket.destroy();
    if (step) return sendError(res, twilioErrorBody(step.status, step.code, step.message));
    const missing = missingField(resource, params);
    if (missing) return sendError(res, missing);
    sendJson(res, 201, createdBody(resource, accountSid, params));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      sendError(res, twilioErrorBody(500, 20500, `twilio-rest-server failed: ${String(error)}`));
    });
  });

  function listen(port: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  }
  function stopListening(): Promise<void> {
    if (!server.listening) return Promise.resolve();
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  }

  await listen(options.port ?? 0);
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    requestsTo: (resource) => requests.filter((request) => request.resource === resource),
    failNext(resource, ...steps) {
      scripts[resource].push(...steps);
    },
    refuseConnections: stopListening,
    async acceptConnections() {
      if (!server.listening) await listen(port);
    },
    async reset() {
      scripts.Messages.length = 0;
      scripts.Calls.length = 0;
      requests.length = 0;
      if (!server.listening) await listen(port);
    },
    close: stopListening,
  };
}
