import { describe, expect, it } from 'vitest';
import { PlaybackTracker } from '../../src/voice/playback.js';

describe('what the caller has heard', () => {
  it('counts audio as heard only when Twilio echoes the mark after it', () => {
    const playback = new PlaybackTracker();
    const first = playback.sent('item-1', 800); // 100 ms
    const second = playback.sent('item-1', 1600); // 200 ms more
    expect(playback.current).toEqual({ itemId: 'item-1', sentMs: 300, playedMs: 0 });
    expect(playback.playing).toBe(true);
    playback.played(first);
    expect(playback.current?.playedMs).toBe(100);
    playback.played(second);
    expect(playback.playing).toBe(false);
  });

  it('cuts at the heard position, and ignores the marks a clear sends back', () => {
    const playback = new PlaybackTracker();
    const first = playback.sent('item-1', 800);
    const second = playback.sent('item-1', 800);
    playback.played(first);
    expect(playback.interrupt()).toEqual({ itemId: 'item-1', sentMs: 200, playedMs: 100 });
    playback.played(second); // Twilio returns pending marks at a clear: not heard
    expect(playback.current).toBeUndefined();
    expect(playback.playing).toBe(false);
  });

  it('starts over for a new item, and ignores marks it never sent', () => {
    const playback = new PlaybackTracker();
    const old = playback.sent('item-1', 800);
    playback.sent('item-2', 400);
    playback.played(old);
    playback.played('someone-else');
    expect(playback.current).toEqual({ itemId: 'item-2', sentMs: 50, playedMs: 0 });
  });
});
