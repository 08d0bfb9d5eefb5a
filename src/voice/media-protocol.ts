/**
 * The Twilio Media Streams WebSocket protocol (bidirectional `<Connect><Stream>`), both ways, as
 * zod schemas. Inbound frames (Twilio → us) are parsed at the edge by `parseInboundFrame`, which
 * never throws; outbound frames (us → Twilio) are built here so that only `media`, `mark` and
 * `clear` ever leave, and the simulated caller checks them with `parseOutboundFrame`.
 * Numbers in inbound frames arrive as decimal strings; the parsed frames carry them as numbers.
 */
import { z } from 'zod';

/** Largest frame we accept. A 20 ms media frame is ~300 bytes; `start` with parameters a few KB. */
export const MAX_TWILIO_FRAME_BYTES = 64 * 1024;

/** A decimal string as Twilio sends counters and timestamps ("42"), read as a number. */
const numericString = z
  .string()
  .regex(/^\d{1,15}$/, 'expected a decimal number in a string')
  .transform(Number);

const base64 = z
  .string()
  .min(1, 'expected base64 audio, got an empty string')
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64')
  .refine((value) => value.length % 4 === 0, 'expected base64 (length a multiple of 4)');

const streamSid = z.string().min(1, 'expected a stream SID');

export const connectedFrameSchema = z.object({
  event: z.literal('connected'),
  protocol: z.string(),
  version: z.string(),
});

export const startFrameSchema = z.object({
  event: z.literal('start'),
  sequenceNumber: numericString,
  streamSid,
  start: z.object({
    accountSid: z.string(),
    streamSid,
    callSid: z.string(),
    tracks: z.array(z.string()),
    customParameters: z.record(z.string(), z.string()).default({}),
    mediaFormat: z.object({
      encoding: z.literal('audio/x-mulaw'),
      sampleRate: z.literal(8000),
      channels: z.literal(1),
    }),
  }),
});

export const inboundMediaFrameSchema = z.object({
  event: z.literal('media'),
  sequenceNumber: numericString,
  streamSid,
  media: z.object({
    track: z.enum(['inbound', 'outbound']),
    chunk: numericString,
    timestamp: numericString,
    payload: base64,
  }),
});

export const dtmfFrameSchema = z.object({
  event: z.literal('dtmf'),
  sequenceNumber: numericString,
  streamSid,
  dtmf: z.object({
    track: z.string(),
    digit: z.string().regex(/^[0-9*#A-Da-d]$/, 'expected one key: 0-9, *, # or A-D'),
  }),
});

export const inboundMarkFrameSchema = z.object({
  event: z.literal('mark'),
  sequenceNumber: numericString,
  streamSid,
  mark: z.object({ name: z.string() }),
});

export const stopFrameSchema = z.object({
  event: z.literal('stop'),
  sequenceNumber: numericString,
  streamSid,
  stop: z.object({ accountSid: z.string(), callSid: z.string() }),
});

/** Every frame Twilio sends on a Media Stream. */
export const inboundFrameSchema = z.discriminatedUnion('event', [
  connectedFrameSchema,
  startFrameSchema,
  inboundMediaFrameSchema,
  dtmfFrameSchema,
  inboundMarkFrameSchema,
  stopFrameSchema,
]);

export const outboundMediaFrameSchema = z.object({
  event: z.literal('media'),
  streamSid,
  media: z.object({ payload: base64 }),
});

export const outboundMarkFrameSchema = z.object({
  event: z.literal('mark'),
  streamSid,
  mark: z.object({ name: z.string().min(1, 'expected a mark name') }),
});

export const clearFrameSchema = z.object({
  event: z.literal('clear'),
  streamSid,
});

/** The only frames Twilio accepts from us; anything else is an error on Twilio's side. */
export const outboundFrameSchema = z.discriminatedUnion('event', [
  outboundMediaFrameSchema,
  outboundMarkFrameSchema,
  clearFrameSchema,
]);

/** A parsed inbound frame; counters and timestamps are numbers. */
export type InboundFrame = z.infer<typeof inboundFrameSchema>;
/** An inbound frame as it travels, counters and timestamps as strings (what the simulated caller sends). */
export type InboundWireFrame = z.input<typeof inboundFrameSchema>;
export type StartFrame = z.infer<typeof startFrameSchema>;
export type InboundMediaFrame = z.infer<typeof inboundMediaFrameSchema>;
export type DtmfFrame = z.infer<typeof dtmfFrameSchema>;
export type InboundMarkFrame = z.infer<typeof inboundMarkFrameSchema>;
export type StopFrame = z.infer<typeof stopFrameSchema>;
export type OutboundFrame = z.infer<typeof outboundFrameSchema>;

/** Why a frame was refused, for counting; `reason` says it in words. */
export type FrameProblem = 'too_large' | 'not_json' | 'unknown_event' | 'invalid';

export type ParseResult<T> = { ok: true; frame: T } | { ok: false; problem: FrameProblem; reason: string };

/** What `ws` hands a message listener. */
export type RawFrame = string | Buffer | ArrayBuffer | Buffer[];

export interface ParseOptions {
  /** Default `MAX_TWILIO_FRAME_BYTES`. */
  maxBytes?: number;
}

const INBOUND_EVENTS = new Set(['connected', 'start', 'media', 'dtmf', 'mark', 'stop']);
const OUTBOUND_EVENTS = new Set(['media', 'mark', 'clear']);

function byteLength(data: RawFrame): number {
  if (typeof data === 'string') return Buffer.byteLength(data, 'utf8');
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.byteLength, 0);
  return data.byteLength;
}

function toText(data: RawFrame): string {
  if (typeof data === 'string') return data;
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}

function parseFrame<S extends z.ZodType>(
  data: RawFrame,
  schema: S,
  events: ReadonlySet<string>,
  options: ParseOptions,
): ParseResult<z.infer<S>> {
  const maxBytes = options.maxBytes ?? MAX_TWILIO_FRAME_BYTES;
  // Checked before decoding or JSON.parse, so an oversized frame costs nothing to refuse.
  const size = byteLength(data);
  if (size > maxBytes) {
    return {
      ok: false,
      problem: 'too_large',
      reason: `frame too large: ${size} bytes, more than the ${maxBytes} allowed`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(toText(data));
  } catch (error) {
    return { ok: false, problem: 'not_json', reason: `not JSON: ${(error as Error).message}` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, problem: 'invalid', reason: 'expected a JSON object' };
  }
  const event = (json as Record<string, unknown>).event;
  if (typeof event !== 'string' || !events.has(event)) {
    const shown = typeof event === 'string' ? `'${event.slice(0, 40)}'` : 'missing';
    return {
      ok: false,
      problem: 'unknown_event',
      reason: `unknown event ${shown}: expected one of ${[...events].join(', ')}`,
    };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, frame: parsed.data };
  const issues = parsed.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(frame)'}: ${issue.message}`)
    .join('; ');
  return { ok: false, problem: 'invalid', reason: `invalid ${event} frame: ${issues}` };
}

/** Parses a frame from Twilio. Never throws: a bad frame is `{ ok: false, reason }`, to count and drop. */
export function parseInboundFrame(data: RawFrame, options: ParseOptions = {}): ParseResult<InboundFrame> {
  return parseFrame(data, inboundFrameSchema, INBOUND_EVENTS, options);
}

/** Parses a frame sent to Twilio, as Twilio would judge it. Never throws. */
export function parseOutboundFrame(data: RawFrame, options: ParseOptions = {}): ParseResult<OutboundFrame> {
  return parseFrame(data, outboundFrameSchema, OUTBOUND_EVENTS, options);
}

/** A `media` frame to Twilio: `payload` is base64 μ-law, 8 kHz mono. */
export function mediaFrame(streamSid: string, payload: string): string {
  return JSON.stringify({ event: 'media', streamSid, media: { payload } });
}

/** A `mark` frame: Twilio echoes it once the audio sent before it has played (or was cleared). */
export function markFrame(streamSid: string, name: string): string {
  return JSON.stringify({ event: 'mark', streamSid, mark: { name } });
}

/** A `clear` frame: Twilio drops the audio it has not played yet and echoes pending marks. */
export function clearFrame(streamSid: string): string {
  return JSON.stringify({ event: 'clear', streamSid });
}
