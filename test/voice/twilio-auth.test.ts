import { describe, expect, it } from 'vitest';
import { publicUrl, validTwilioSignature } from '../../src/twilio-webhooks.js';
import { twilioSignature } from '../../src/voice/simulated-caller.js';
import { STREAM_TOKEN_TTL_SECONDS, streamToken, validStreamToken } from '../../src/voice/twilio-auth.js';

const TOKEN = 'auth-token';
const CALL = '3f0c3a52-5b1e-4a55-9a7e-2d4b6c1d9e01';
const OTHER_CALL = '3f0c3a52-5b1e-4a55-9a7e-2d4b6c1d9e02';

describe('stream tokens', () => {
  it('open the stream of their own call until they expire, and no other', () => {
    const now = Date.UTC(2026, 11, 1, 12);
    const token = streamToken(TOKEN, CALL, now);
    expect(validStreamToken(TOKEN, CALL, token, now)).toBe(true);
    expect(validStreamToken(TOKEN, CALL, token, now + (STREAM_TOKEN_TTL_SECONDS - 1) * 1000)).toBe(true);
    expect(validStreamToken(TOKEN, CALL, token, now + (STREAM_TOKEN_TTL_SECONDS + 1) * 1000)).toBe(false);
    expect(validStreamToken(TOKEN, OTHER_CALL, token, now)).toBe(false);
    expect(validStreamToken('another-auth-token', CALL, token, now)).toBe(false);
  });

  it('refuse anything that is not a token, without throwing', () => {
    for (const bad of ['', 'abc', '123.', `99999999999.${'A'.repeat(43)}`, `1.${'A'.repeat(42)}!`]) {
      expect(validStreamToken(TOKEN, CALL, bad)).toBe(false);
    }
  });
});

describe('Twilio signatures', () => {
  it("verify Twilio's own over the public URL, and nothing else", () => {
    const url = publicUrl('https://hearth.example', '/twilio/voice');
    expect(url).toBe('https://hearth.example/twilio/voice');
    const params = { CallSid: 'CA1', From: '+15555550101' };
    const signature = twilioSignature(TOKEN, url, params);
    expect(validTwilioSignature({ authToken: TOKEN, signature, url, params })).toBe(true);
    expect(validTwilioSignature({ authToken: TOKEN, signature, url, params: { ...params, From: '+1999' } })).toBe(
      false,
    );
    expect(
      validTwilioSignature({ authToken: TOKEN, signature, url: 'https://evil.example/twilio/voice', params }),
    ).toBe(false);
    expect(validTwilioSignature({ authToken: TOKEN, signature: undefined, url, params })).toBe(false);
  });

  it('sign the media socket as wss:// on the public host', () => {
    expect(publicUrl('https://hearth.example/', '/twilio/media', { websocket: true })).toBe(
      'wss://hearth.example/twilio/media',
    );
    expect(publicUrl('http://localhost:3000', '/twilio/media', { websocket: true })).toBe(
      'ws://localhost:3000/twilio/media',
    );
  });
});
