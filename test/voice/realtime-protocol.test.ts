/** The Realtime wire format: frames in are read without throwing, events out pass the stand-in's schema. */
import { describe, expect, it } from 'vitest';
import {
  clientEventSchema,
  functionCallOutput,
  inputAudioAppend,
  itemDelete,
  itemTruncate,
  messageItem,
  parseServerEvent,
  responseCancel,
  responseCreate,
  sessionUpdate,
} from '../../src/voice/realtime-protocol.js';

describe('parseServerEvent', () => {
  it('reads a known event from text, a Buffer or fragments', () => {
    const frame = JSON.stringify({
      type: 'input_audio_buffer.speech_started',
      event_id: 'event_1',
      audio_start_ms: 120,
      item_id: 'item_1',
      extra: 'the API adds fields',
    });
    for (const data of [frame, Buffer.from(frame), [Buffer.from(frame.slice(0, 10)), Buffer.from(frame.slice(10))]]) {
      expect(parseServerEvent(data)).toMatchObject({
        kind: 'known',
        event: { type: 'input_audio_buffer.speech_started', audio_start_ms: 120, item_id: 'item_1' },
      });
    }
  });

  it('passes a well-formed event of another type as generic', () => {
    expect(parseServerEvent('{"type":"rate_limits.updated","rate_limits":[]}')).toEqual({
      kind: 'generic',
      event: { type: 'rate_limits.updated', rate_limits: [] },
    });
  });

  it('reports garbage and known types with the wrong shape as invalid, never throwing', () => {
    expect(parseServerEvent('{"type":')).toMatchObject({
      kind: 'invalid',
      reason: expect.stringContaining('not JSON'),
    });
    expect(parseServerEvent('null')).toMatchObject({
      kind: 'invalid',
      reason: expect.stringContaining('no event type'),
    });
    expect(parseServerEvent('{"type":7}')).toMatchObject({ kind: 'invalid' });
    expect(parseServerEvent('{"type":"response.done","response":{"id":"r"}}')).toEqual({
      kind: 'invalid',
      reason: expect.stringContaining('malformed response.done: response.status'),
    });
    // An audio frame is quoted only in part.
    const huge = `x${'A'.repeat(100_000)}`;
    const result = parseServerEvent(huge);
    expect(result.kind === 'invalid' && result.reason.length).toBeLessThan(200);
  });
});

describe('client event builders', () => {
  it('build events that pass clientEventSchema', () => {
    const events = [
      sessionUpdate({ instructions: 'Hi', voice: 'marin', transcriptionModel: 'gpt-4o-mini-transcribe', tools: [] }),
      inputAudioAppend(Buffer.from([0xff, 0x7f]).toString('base64')),
      functionCallOutput({ callId: 'call_1', output: '{}' }),
      messageItem({ role: 'user', text: 'Hello' }),
      responseCreate(),
      responseCreate({ instructions: 'Be brief.' }),
      responseCancel(),
      itemTruncate({ itemId: 'item_1', audioEndMs: 1234.9 }),
      itemDelete('item_1'),
    ];
    for (const event of events) expect(clientEventSchema.parse(event)).toEqual(event);
    expect(itemTruncate({ itemId: 'item_1', audioEndMs: -5 }).audio_end_ms).toBe(0);
    expect(itemTruncate({ itemId: 'item_1', audioEndMs: 1234.9 }).audio_end_ms).toBe(1234);
  });

  it('refuses what the API would refuse: unknown fields, other formats', () => {
    expect(clientEventSchema.safeParse({ type: 'response.cancel', response_id: 'r' }).success).toBe(false);
    const session = sessionUpdate({ instructions: '', voice: 'marin', transcriptionModel: 't', tools: [] });
    const pcm = JSON.parse(JSON.stringify(session).replace('"audio/pcmu"', '"audio/pcm"'));
    expect(clientEventSchema.safeParse(pcm).success).toBe(false);
    expect(clientEventSchema.safeParse({ type: 'input_audio_buffer.append', audio: 'not base64!' }).success).toBe(
      false,
    );
  });
});
