/**
 * Pages on-call staff by SMS and by voice call through Twilio's REST API, with the official SDK.
 * The SDK is loaded on the first page, not at start-up (it is some 250 ms of module loading).
 * Every failure is a `PageDeliveryError` that says whether another attempt may succeed; the caller,
 * a durable job, owns retries and their backoff, so the SDK's own retry stays off.
 *
 * @example
 * const pager = createTwilioPager({ accountSid, authToken, from: '+15005550006', logger });
 * const twiml = pageTwiml({ summary: 'Ana at 12 Elm Road reports trouble breathing.', actionUrl });
 * try {
 *   await pager.placeCall({ to: '+15551234567', twiml });
 * } catch (error) {
 *   if (error instanceof PageDeliveryError && error.transient) throw error; // the job retries later
 *   // permanent: record it and page the next channel
 * }
 */
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type Twilio from 'twilio/lib/rest/Twilio.js';
import VoiceResponse from 'twilio/lib/twiml/VoiceResponse.js';
import { z } from 'zod';
import { UnavailableError, ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';

/** Twilio's limit for one message body; longer bodies are refused (error 21617). */
export const SMS_BODY_MAX_CHARS = 1_600;
/** Twilio's limit for the `Twiml` parameter of a call. */
export const CALL_TWIML_MAX_CHARS = 4_000;
/** Spoken twice in the page's TwiML, so it must leave room within `CALL_TWIML_MAX_CHARS`. */
export const PAGE_SUMMARY_MAX_CHARS = 1_000;
/** Per request: a page that hangs must fail in time for the job's next attempt, not hold it for the SDK's 30 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

const TWILIO_API_ORIGIN = 'https://api.twilio.com';
const ACCOUNT_SID_PATTERN = /^AC[0-9a-fA-F]{32}$/;
const E164_PATTERN = /^\+[1-9]\d{1,14}$/;
const HTTP_TOO_MANY_REQUESTS = 429;
const HTTP_SERVER_ERROR_MIN = 500;

export type PageChannel = 'sms' | 'call';

export interface PageDeliveryErrorOptions {
  /** The HTTP status Twilio answered with; absent when no answer came (network error, timeout). */
  status?: number;
  /** Twilio's error code, e.g. 21211 (invalid 'To' number) or 20429 (rate limited). */
  twilioCode?: number;
  /** Whether a later attempt may succeed (429, 5xx, network errors); otherwise the page needs a fix first. */
  transient: boolean;
  details?: unknown;
  cause?: unknown;
}

/**
 * A page that Twilio did not accept. `transient` tells the caller whether to retry with backoff;
 * the message says what to do. (`HearthError.code` is Hearth's string code, so Twilio's numeric
 * code is `twilioCode`.)
 */
export class PageDeliveryError extends UnavailableError {
  readonly status: number | undefined;
  readonly twilioCode: number | undefined;
  readonly transient: boolean;

  constructor(message: string, options: PageDeliveryErrorOptions) {
    super(message, {
      cause: options.cause,
      details: options.details ?? {
        status: options.status,
        twilioCode: options.twilioCode,
        transient: options.transient,
      },
    });
    this.status = options.status;
    this.twilioCode = options.twilioCode;
    this.transient = options.transient;
  }
}

export interface TwilioPagerOptions {
  /** `AC` + 32 hex digits. */
  accountSid: string;
  authToken: string;
  /** The Twilio number pages come from (E.164); it must be able to send SMS and place calls. */
  from: string;
  /** Another origin for every request, e.g. `http://127.0.0.1:41234` for a local stand-in; default Twilio's. */
  apiBaseUrl?: string;
  /** Per request; default `DEFAULT_REQUEST_TIMEOUT_MS`. */
  requestTimeoutMs?: number;
  /** Receives one line per page with its SID, or the failure; never numbers or message text. */
  logger: Logger;
}

export interface SmsPage {
  /** E.164, e.g. `+15551234567`. */
  to: string;
  body: string;
}

export interface CallPage {
  /** E.164, e.g. `+15551234567`. */
  to: string;
  /** What the call does when answered, e.g. from `pageTwiml`. */
  twiml: string;
  /** Receives the call's `completed` status (answered, busy, no-answer, failed). */
  statusCallbackUrl?: string;
}

/** Pages one person at a time; each method resolves with the SID Twilio gave the message or call. */
export interface TwilioPager {
  sendSms(page: SmsPage): Promise<{ sid: string }>;
  placeCall(page: CallPage): Promise<{ sid: string }>;
}

const e164 = (field: string) =>
  z.string().regex(E164_PATTERN, `${field} must be a phone number in E.164 form, like +15551234567`);
const httpUrl = (field: string) => z.url({ protocol: /^https?$/, error: `${field} must be an absolute http(s) URL` });

const smsPageSchema = z.object({
  to: e164('to'),
  body: z
    .string()
    .trim()
    .min(1, 'body must not be empty')
    .max(SMS_BODY_MAX_CHARS, `body must be at most ${SMS_BODY_MAX_CHARS} characters`),
});

const callPageSchema = z.object({
  to: e164('to'),
  twiml: z
    .string()
    .trim()
    .min(1, 'twiml must not be empty')
    .max(CALL_TWIML_MAX_CHARS, `twiml must be at most ${CALL_TWIML_MAX_CHARS} characters`),
  statusCallbackUrl: httpUrl('statusCallbackUrl').optional(),
});

const ACK_DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

const pageTwimlSchema = z.object({
  summary: z
    .string()
    .trim()
    .min(1, 'summary must not be empty')
    .max(PAGE_SUMMARY_MAX_CHARS, `summary must be at most ${PAGE_SUMMARY_MAX_CHARS} characters`),
  ackDigit: z.enum(ACK_DIGITS).default('1'),
  actionUrl: httpUrl('actionUrl'),
});

export type PageTwimlInput = z.input<typeof pageTwimlSchema>;

/** Parses `input` or throws a `ValidationError` naming the first bad field. */
function parse<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.join('.') || 'input';
  const reason = issue?.message ?? 'is invalid';
  throw new ValidationError(`Invalid ${what}: ${reason.startsWith(field) ? reason : `${field}: ${reason}`}`, {
    details: { field, issues: parsed.error.issues.map(({ path, message }) => ({ path: path.join('.'), message })) },
  });
}

/**
 * TwiML for a paging call: says the summary and asks for `ackDigit` (default 1) to acknowledge,
 * which Twilio posts to `actionUrl` as `Digits`; if nothing is pressed it says it all once more,
 * then hangs up.
 */
export function pageTwiml(input: PageTwimlInput): string {
  const { summary, ackDigit, actionUrl } = parse(pageTwimlSchema, input, 'page TwiML');
  const response = new VoiceResponse();
  // A <Gather> that times out falls through to the next verb: the second one is the repeat.
  for (let attempt = 0; attempt < 2; attempt++) {
    // The prompt is inside the <Gather> so a key pressed while it is spoken counts.
    const gather = response.gather({ numDigits: 1, action: actionUrl, method: 'POST', input: ['dtmf'] });
    gather.say(summary);
    gather.say(`Press ${ackDigit} to acknowledge.`);
  }
  response.say('No key was pressed. Goodbye.');
  response.hangup();
  return response.toString();
}

/** Twilio's advice for the error codes a page meets most, phrased as what to do. */
const TWILIO_CODE_ADVICE: Record<number, string> = {
  20003:
    'Twilio rejected the credentials: check the account SID and auth token (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN).',
  21211: "the 'To' number is not a valid phone number: correct the contact's number.",
  21212: "the 'From' number is not a valid caller ID for this account: set a Twilio number of this account.",
  21215: "the account's geo permissions do not allow calls to this number: enable the country in the Twilio console.",
  21219: 'a trial account can only call verified numbers: verify the number or upgrade the account.',
  21408: "the account's geo permissions do not allow SMS to this region: enable it in the Twilio console.",
  21606: "the 'From' number cannot send SMS to this destination: use an SMS-capable Twilio number of this account.",
  21608: 'a trial account can only text verified numbers: verify the number or upgrade the account.',
  21610:
    'the recipient has opted out of SMS from this number (replied STOP): they can text START to it; page them by call meanwhile.',
  21614: "the 'To' number cannot receive SMS: page it by voice call instead.",
};

/** The parts of the SDK's `RestException` / `TwilioServiceException` that a page needs. */
const twilioExceptionSchema = z.object({
  status: z.number().int(),
  code: z.number().int().optional(),
  message: z.string().optional(),
  moreInfo: z.string().optional(),
});
/** What axios throws when no answer came: `ECONNREFUSED`, `ECONNRESET`, `ECONNABORTED` (timeout)… */
const networkErrorSchema = z.object({ code: z.string(), message: z.string() });

/** Hides all but the last digits: enough to tell contacts apart in a message, not to dial. */
function maskNumber(number: string): string {
  return `…${number.slice(-4)}`;
}

/** Turns whatever the SDK threw into a `PageDeliveryError` with a message a person can act on. */
function toPageDeliveryError(error: unknown, channel: PageChannel, to: string, origin: string): PageDeliveryError {
  const what = `${channel === 'sms' ? 'SMS' : 'call'} page to ${maskNumber(to)}`;
  const answer = twilioExceptionSchema.safeParse(error);
  if (answer.success) {
    const { status, code: twilioCode, message, moreInfo } = answer.data;
    const label = `HTTP ${status}${twilioCode === undefined ? '' : `, Twilio error ${twilioCode}`}`;
    const details = { channel, status, twilioCode, moreInfo };
    if (status === HTTP_TOO_MANY_REQUESTS) {
      return new PageDeliveryError(`Twilio is rate-limiting requests (${label}): the ${what} will be tried again.`, {
        status,
        twilioCode,
        transient: true,
        details: { ...details, transient: true },
        cause: error,
      });
    }
    if (status >= HTTP_SERVER_ERROR_MIN) {
      return new PageDeliveryError(
        `Twilio failed the ${what} (${label}): it will be tried again; see status.twilio.com if this persists.`,
        { status, twilioCode, transient: true, details: { ...details, transient: true }, cause: error },
      );
    }
    const advice =
      (twilioCode === undefined ? undefined : TWILIO_CODE_ADVICE[twilioCode]) ??
      `${message ?? 'no reason given'}${moreInfo ? ` (see ${moreInfo})` : ''}.`;
    return new PageDeliveryError(`Twilio refused the ${what} (${label}): ${advice}`, {
      status,
      twilioCode,
      transient: false,
      details: { ...details, transient: false },
      cause: error,
    });
  }
  // No HTTP answer: the request may or may not have reached Twilio, and a later attempt may pass.
  const network = networkErrorSchema.safeParse(error);
  const reason = network.success ? network.data.code : error instanceof Error ? error.message : String(error);
  return new PageDeliveryError(
    `Could not reach Twilio at ${origin} for the ${what} (${reason}): it will be tried again; check the network if this persists.`,
    { transient: true, details: { channel, reason, transient: true }, cause: error },
  );
}

/** `uri` with its origin (and any base path) replaced by `base`'s: the path and query stay Twilio's. */
function rebase(uri: string, base: URL): string {
  const target = new URL(uri);
  const prefix = base.pathname.replace(/\/$/, '');
  return new URL(`${prefix}${target.pathname}${target.search}`, base).href;
}

/**
 * Loads the SDK and builds a client whose `httpClient` is the SDK's own `RequestClient` (so the
 * Basic auth header, form encoding and user agent are the SDK's), re-pointed at `apiBaseUrl` when
 * one is given. Retries are off: `autoRetry` is false, which is also the SDK's default, but it is
 * spelled out because the durable job that calls the pager retries with backoff and records every
 * attempt, and retrying inside the SDK as well would multiply attempts and hide rate limits from it.
 */
async function loadClient(options: {
  accountSid: string;
  authToken: string;
  apiBaseUrl: URL | undefined;
  requestTimeoutMs: number;
}): Promise<Twilio> {
  const [{ default: TwilioClient }, { default: SdkRequestClient }] = await Promise.all([
    import('twilio/lib/rest/Twilio.js'),
    import('twilio/lib/base/RequestClient.js'),
  ]);
  const clientOptions: RequestClient.RequestClientOptions = {
    timeout: options.requestTimeoutMs,
    autoRetry: false,
  };
  const base = options.apiBaseUrl;
  const httpClient = base
    ? new (class RebasedRequestClient extends SdkRequestClient {
        override request<TData>(opts: RequestClient.RequestOptions<TData>) {
          return super.request({ ...opts, uri: rebase(opts.uri, base) });
        }
      })(clientOptions)
    : new SdkRequestClient(clientOptions);
  return new TwilioClient(options.accountSid, options.authToken, { httpClient });
}

class SdkTwilioPager implements TwilioPager {
  readonly #accountSid: string;
  readonly #authToken: string;
  readonly #from: string;
  readonly #apiBaseUrl: URL | undefined;
  readonly #requestTimeoutMs: number;
  readonly #logger: Logger;
  #client: Promise<Twilio> | undefined;

  constructor(options: TwilioPagerOptions) {
    if (!ACCOUNT_SID_PATTERN.test(options.accountSid)) {
      throw new RangeError('accountSid must be AC followed by 32 hex digits (TWILIO_ACCOUNT_SID)');
    }
    if (!options.authToken) throw new RangeError('authToken must not be empty (TWILIO_AUTH_TOKEN)');
    if (!E164_PATTERN.test(options.from)) {
      throw new RangeError(`from must be a Twilio number in E.164 form, like +15551234567; got ${options.from}`);
    }
    if (options.apiBaseUrl !== undefined) {
      const url = URL.canParse(options.apiBaseUrl) ? new URL(options.apiBaseUrl) : undefined;
      if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
        throw new RangeError(`apiBaseUrl must be an absolute http(s) URL, got ${options.apiBaseUrl}`);
      }
      this.#apiBaseUrl = url;
    }
    const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new RangeError(`requestTimeoutMs must be positive, got ${timeoutMs}`);
    }
    this.#accountSid = options.accountSid;
    this.#authToken = options.authToken;
    this.#from = options.from;
    this.#requestTimeoutMs = timeoutMs;
    this.#logger = options.logger;
  }

  #connect(): Promise<Twilio> {
    this.#client ??= loadClient({
      accountSid: this.#accountSid,
      authToken: this.#authToken,
      apiBaseUrl: this.#apiBaseUrl,
      requestTimeoutMs: this.#requestTimeoutMs,
    }).catch((error: unknown) => {
      this.#client = undefined; // a failed load is tried again on the next page
      throw error;
    });
    return this.#client;
  }

  async #send(channel: PageChannel, to: string, create: (client: Twilio) => Promise<{ sid: string }>) {
    const origin = this.#apiBaseUrl?.origin ?? TWILIO_API_ORIGIN;
    let sid: string;
    try {
      ({ sid } = await create(await this.#connect()));
    } catch (error) {
      const failure = toPageDeliveryError(error, channel, to, origin);
      this.#logger.warn(
        { channel, status: failure.status, twilioCode: failure.twilioCode, transient: failure.transient },
        `page not delivered: ${failure.message}`,
      );
      throw failure;
    }
    this.#logger.info({ channel, sid }, 'page handed to Twilio');
    return { sid };
  }

  async sendSms(page: SmsPage): Promise<{ sid: string }> {
    const { to, body } = parse(smsPageSchema, page, 'SMS page');
    return this.#send('sms', to, (client) => client.messages.create({ to, from: this.#from, body }));
  }

  async placeCall(page: CallPage): Promise<{ sid: string }> {
    const { to, twiml, statusCallbackUrl } = parse(callPageSchema, page, 'call page');
    return this.#send('call', to, (client) =>
      client.calls.create({
        to,
        from: this.#from,
        twiml,
        ...(statusCallbackUrl ? { statusCallback: statusCallbackUrl, statusCallbackMethod: 'POST' } : {}),
      }),
    );
  }
}

/** A `TwilioPager` over the official SDK; checks its options now and loads the SDK on the first page. */
export function createTwilioPager(options: TwilioPagerOptions): TwilioPager {
  return new SdkTwilioPager(options);
}
