import { describe, expect, it } from 'vitest';
import { MAX_TWILIO_BUFFERED_AUDIO_MS, SimulatedPlayback } from '../../src/voice/simulated-playback.js';

const ms = (n: number, byte = 0x10) => Buffer.alloc(n * 8, byte);

describe('SimulatedPlayback (a clock passed in)', () => {
  it('plays 8 bytes a millisecond and releases a mark when the audio before it has played', () => {
    const playback = new SimulatedPlayback();
    expect(playback.enqueueAudio(ms(100), 0)).toEqual([]);
    expect(playback.enqueueMark('a', 0)).toEqual([]);
    expect(playback.advance(50)).toEqual([]);
    expect(playback.playedMs).toBe(50);
    expect(playback.pendingMarks).toEqual(['a']);
    expect(playback.advance(100)).toEqual(['a']);
    expect(playback.playedMs).toBe(100);
    expect(playback.queuedBytes).toBe(0);
  });

  it('releases a mark at once when nothing is queued before it', () => {
    const playback = new SimulatedPlayback();
    expect(playback.enqueueMark('now', 5)).toEqual(['now']);
  });

  it('plays silence while empty: idle time does not count toward audio that comes later', () => {
    const playback = new SimulatedPlayback();
    playback.enqueueAudio(ms(20), 0);
    playback.advance(1000);
    playback.enqueueAudio(ms(100), 1000);
    playback.enqueueMark('b', 1000);
    expect(playback.advance(1050)).toEqual([]);
    expect(playback.playedMs).toBe(70);
    expect(playback.advance(1100)).toEqual(['b']);
  });

  it('clear drops what has not played and returns every pending mark in order', () => {
    const playback = new SimulatedPlayback();
    playback.enqueueAudio(ms(100, 1), 0);
    playback.enqueueMark('x', 0);
    playback.enqueueAudio(ms(100, 2), 0);
    playback.enqueueMark('y', 0);
    expect(playback.clear(30)).toEqual(['x', 'y']);
    expect(playback.playedMs).toBe(30);
    expect(playback.discardedBytes).toBe(170 * 8);
    expect(playback.played().equals(ms(30, 1))).toBe(true);
    expect(playback.advance(500)).toEqual([]);
    expect(playback.playedMs).toBe(30);
  });

  it('drops audio beyond 10 minutes buffered, as Twilio does', () => {
    const playback = new SimulatedPlayback();
    playback.enqueueAudio(ms(MAX_TWILIO_BUFFERED_AUDIO_MS - 10), 0);
    playback.enqueueAudio(ms(30), 0);
    expect(playback.queuedBytes).toBe(MAX_TWILIO_BUFFERED_AUDIO_MS * 8);
    expect(playback.droppedBytes).toBe(20 * 8);
  });
});
