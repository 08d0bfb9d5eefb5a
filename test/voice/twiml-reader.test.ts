import VoiceResponse from 'twilio/lib/twiml/VoiceResponse.js';
import { describe, expect, it } from 'vitest';
import { readTwiml, TwimlError } from '../../src/voice/twiml-reader.js';

describe('readTwiml', () => {
  it('reads <Connect><Stream> with its parameters, as the twilio package writes it', () => {
    const response = new VoiceResponse();
    response.say('Connecting you.');
    const stream = response.connect().stream({ url: 'wss://hearth.example/twilio/media' });
    stream.parameter({ name: 'callId', value: 'c-1' });
    stream.parameter({ name: 'token', value: `a&b<c>"d'` });
    response.say('Never reached.');
    expect(readTwiml(response.toString())).toEqual({
      kind: 'stream',
      url: 'wss://hearth.example/twilio/media',
      parameters: { callId: 'c-1', token: `a&b<c>"d'` },
      said: ['Connecting you.'],
    });
  });

  it('reads a spoken answer, with or without <Hangup>', () => {
    const xml = `<?xml version="1.0"?>
      <!-- no household for this number -->
      <Response>
        <Say voice='alice'>Sorry, this number is not in service.</Say>
        <Hangup />
      </Response>`;
    expect(readTwiml(xml)).toEqual({ kind: 'spoken', said: ['Sorry, this number is not in service.'], hangUp: true });
    expect(readTwiml('<Response><Say>Goodbye &amp; take care.</Say></Response>')).toEqual({
      kind: 'spoken',
      said: ['Goodbye & take care.'],
      hangUp: false,
    });
  });

  it.each([
    ['not XML', 'OK', /expected one root element/],
    ['HTML', '<html><body>Bad gateway</body></html>', /root element is <html>/],
    ['an unclosed element', '<Response><Say>hi</Response>', /does not close <Say>/],
    ['a stream without url', '<Response><Connect><Stream/></Connect></Response>', /no url attribute/],
  ])('refuses %s with a TwimlError', (_name, xml, message) => {
    expect(() => readTwiml(xml)).toThrow(TwimlError);
    expect(() => readTwiml(xml)).toThrow(message);
  });
});
