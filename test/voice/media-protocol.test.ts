import { describe, expect, it } from 'vitest';
import {
  clearFrame,
  MAX_TWILIO_FRAME_BYTES,
  markFrame,
  mediaFrame,
  parseInboundFrame,
  parseOutboundFrame,
} from '../../src/voice/media-protocol.js';

const STREAM_SID = 'MZ18ad3ab5a668481ce02b83e7395059f0';
const CALL_SID = 'CA3cd25f28a4f9d6b8e2c1c1b7a1f2e3d4';
const ACCOUNT_SID = 'AC25e16e9a716a4a1786a7c83f58e30482';
const PAYLOAD = Buffer.alloc(160, 0xff).toString('base64');

/** Frames as Twilio's documentation shows them. */
const inbound = {
  connected: { event: 'connected', protocol: 'Call', version: '1.0.0' },
  start: {
    event: 'start',
    sequenceNumber: '1',
    start: {
      accountSid: ACCOUNT_SID,
      streamSid: STREAM_SID,
      callSid: CALL_SID,
      tracks: ['inbound'],
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      customParameters: { callId: 'c0ffee', token: 'abc.def' },
    },
    streamSid: STREAM_SID,
  },
  media: {
    event: 'media',
    sequenceNumber: '3',
    media: { track: 'inbound', chunk: '1', timestamp: '5', payload: PAYLOAD },
    streamSid: STREAM_SID,
  },
  dtmf: { event: 'dtmf', streamSid: STREAM_SID, sequenceNumber: '5', dtmf: { track: 'inbound_track', digit: '1' } },
  mark: { event: 'mark', sequenceNumber: '4', streamSid: STREAM_SID, mark: { name: 'item_1:3' } },
  stop: {
    event: 'stop',
    sequenceNumber: '5',
    stop: { accountSid: ACCOUNT_SID, callSid: CALL_SID },
    streamSid: STREAM_SID,
  },
} as const;

const reasonOf = (result: ReturnType<typeof parseInboundFrame>) => (result.ok ? 'ok' : result.reason);

describe('parseInboundFrame', () => {
  it.each(Object.entries(inbound))('parses a %s frame', (event, frame) => {
    const result = parseInboundFrame(JSON.stringify(frame));
    expect(result.ok, reasonOf(result)).toBe(true);
    if (result.ok) expect(result.frame.event).toBe(event);
  });

  it('reads counters and timestamps as numbers, from a Buffer as ws delivers it', () => {
    const result = parseInboundFrame(Buffer.from(JSON.stringify(inbound.media)));
    expect(result.ok && result.frame.event === 'media' && result.frame).toMatchObject({
      sequenceNumber: 3,
      media: { chunk: 1, timestamp: 5, payload: PAYLOAD },
    });
  });

  it('keeps the custom parameters of start', () => {
    const result = parseInboundFrame(JSON.stringify(inbound.start));
    expect(result.ok && result.frame.event === 'start' && result.frame.start.customParameters).toEqual({
      callId: 'c0ffee',
      token: 'abc.def',
    });
  });

  const withMedia = (media: Record<string, unknown>) =>
    JSON.stringify({ ...inbound.media, media: { ...inbound.media.media, ...media } });

  it.each([
    ['not JSON', '{"event": "media", ', 'not_json', /not JSON/],
    ['a JSON array', '[1, 2]', 'invalid', /expected a JSON object/],
    [
      'an unknown event',
      JSON.stringify({ event: 'transcript', streamSid: STREAM_SID }),
      'unknown_event',
      /unknown event 'transcript'/,
    ],
    ['no event', JSON.stringify({ streamSid: STREAM_SID }), 'unknown_event', /unknown event missing/],
    [
      'a media frame without streamSid',
      JSON.stringify({ ...inbound.media, streamSid: undefined }),
      'invalid',
      /invalid media frame: streamSid/,
    ],
    ['a number where Twilio sends a string', withMedia({ chunk: 1 }), 'invalid', /media\.chunk: .*expected string/],
    [
      'a non-numeric timestamp',
      withMedia({ timestamp: 'soon' }),
      'invalid',
      /media\.timestamp: expected a decimal number/,
    ],
    [
      'a payload that is not base64',
      withMedia({ payload: 'not base64!' }),
      'invalid',
      /media\.payload: expected base64/,
    ],
    ['an unknown track', withMedia({ track: 'sideways' }), 'invalid', /media\.track/],
    [
      'a start in another audio format',
      JSON.stringify({
        ...inbound.start,
        start: { ...inbound.start.start, mediaFormat: { encoding: 'audio/x-alaw', sampleRate: 8000, channels: 1 } },
      }),
      'invalid',
      /start\.mediaFormat\.encoding/,
    ],
    [
      'a dtmf with two digits',
      JSON.stringify({ ...inbound.dtmf, dtmf: { track: 'inbound_track', digit: '12' } }),
      'invalid',
      /dtmf\.digit: expected one key/,
    ],
    [
      'a stop without callSid',
      JSON.stringify({ ...inbound.stop, stop: { accountSid: ACCOUNT_SID } }),
      'invalid',
      /stop\.callSid/,
    ],
  ])('refuses %s, naming the problem', (_name, data, problem, reason) => {
    const result = parseInboundFrame(data);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problem).toBe(problem);
      expect(result.reason).toMatch(reason);
    }
  });

  it('refuses an oversized frame by its size, before reading it', () => {
    const huge = withMedia({ payload: 'A'.repeat(MAX_TWILIO_FRAME_BYTES) });
    const result = parseInboundFrame(huge);
    expect(result).toMatchObject({ ok: false, problem: 'too_large' });
    expect(reasonOf(result)).toMatch(/frame too large: \d+ bytes, more than the 65536 allowed/);
    // Not JSON either, but the size is what is reported: nothing was parsed.
    expect(parseInboundFrame(`{${'x'.repeat(MAX_TWILIO_FRAME_BYTES)}`)).toMatchObject({ problem: 'too_large' });
    expect(parseInboundFrame(inbound.connected.event, { maxBytes: 4 })).toMatchObject({ problem: 'too_large' });
  });

  it('never throws, whatever it is given', () => {
    for (const data of ['', 'null', '42', '"media"', '{"event":null}', Buffer.from([0xff, 0xfe, 0x00])]) {
      expect(() => parseInboundFrame(data)).not.toThrow();
      expect(parseInboundFrame(data).ok).toBe(false);
    }
  });
});

describe('outbound frames', () => {
  it('builds media, mark and clear that parse back as Twilio reads them', () => {
    expect(parseOutboundFrame(mediaFrame(STREAM_SID, PAYLOAD))).toEqual({
      ok: true,
      frame: { event: 'media', streamSid: STREAM_SID, media: { payload: PAYLOAD } },
    });
    expect(parseOutboundFrame(markFrame(STREAM_SID, 'item_1:3'))).toEqual({
      ok: true,
      frame: { event: 'mark', streamSid: STREAM_SID, mark: { name: 'item_1:3' } },
    });
    expect(parseOutboundFrame(clearFrame(STREAM_SID))).toEqual({
      ok: true,
      frame: { event: 'clear', streamSid: STREAM_SID },
    });
  });

  it.each([
    ['an inbound-only event', JSON.stringify(inbound.stop), /unknown event 'stop': expected one of media, mark, clear/],
    ['media without a payload', JSON.stringify({ event: 'media', streamSid: STREAM_SID, media: {} }), /media\.payload/],
    ['a mark without a name', JSON.stringify({ event: 'mark', streamSid: STREAM_SID, mark: {} }), /mark\.name/],
    ['a clear without streamSid', JSON.stringify({ event: 'clear' }), /streamSid/],
  ])('refuses %s', (_name, data, reason) => {
    const result = parseOutboundFrame(data);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});
