import { describe, expect, it } from 'vitest';
import { SessionCache } from '../../src/calls/session-cache.js';

describe('the session cache', () => {
  it('gives a session back only for the turn after the one it answered, so a turn answered elsewhere rebuilds it', () => {
    const cache = new SessionCache<string>({ maxSessions: 10 });
    cache.put('call-1', 'session after turn 1', 1);
    expect(cache.take('call-1', 2)).toBe('session after turn 1');
    // Taken out: a turn that fails does not leave it behind.
    expect(cache.take('call-1', 2)).toBeUndefined();

    cache.put('call-1', 'session after turn 2', 2);
    // Turn 3 was answered by another instance: this session never saw it.
    expect(cache.take('call-1', 4)).toBeUndefined();
    expect(cache.take('call-1', 3)).toBeUndefined();
  });

  it('keeps at most maxSessions, dropping the least recently used, and forgets a call that ended', () => {
    const cache = new SessionCache<string>({ maxSessions: 2 });
    cache.put('a', 'A', 1);
    cache.put('b', 'B', 1);
    cache.put('a', 'A', 2);
    cache.put('c', 'C', 1);
    expect(cache.take('b', 2)).toBeUndefined();
    expect(cache.take('a', 3)).toBe('A');
    cache.delete('c');
    expect(cache.take('c', 2)).toBeUndefined();
    expect(() => new SessionCache({ maxSessions: 0 })).toThrow(RangeError);
  });
});
