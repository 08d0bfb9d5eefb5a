import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import { ConfigError } from '../src/errors.js';

describe('loadConfig', () => {
  it('fills every default on an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      HEARTH_DATA_DIR: path.resolve('./data'),
      HEARTH_DEMO_SEED: true,
      HEARTH_BODY_LIMIT_BYTES: 1_048_576,
      LOG_LEVEL: 'info',
    });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('treats an empty variable as unset', () => {
    const config = loadConfig({ PORT: '', DATABASE_URL: '' });
    expect(config.PORT).toBe(3000);
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('refuses a bad value with a message naming the variable and the value', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT="eighty"/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://db/x' })).toThrow(/DATABASE_URL="mysql:\/\/db\/x"/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL="loud"/);
    expect(() => loadConfig({ HEARTH_DEMO_SEED: 'maybe' })).toThrow(/HEARTH_DEMO_SEED/);
  });

  it('refuses an eviction threshold at or below the warning threshold, naming both', () => {
    expect(() => loadConfig({ HEARTH_MEMORY_WARN_TOKENS: '5000', HEARTH_MEMORY_EVICT_TOKENS: '4000' })).toThrow(
      /HEARTH_MEMORY_EVICT_TOKENS="4000": must be greater than HEARTH_MEMORY_WARN_TOKENS/,
    );
  });

  it('reads HEARTH_TRUST_PROXY as express does: a boolean, a hop count or addresses', () => {
    expect(loadConfig({ HEARTH_TRUST_PROXY: 'true' }).HEARTH_TRUST_PROXY).toBe(true);
    expect(loadConfig({ HEARTH_TRUST_PROXY: '1' }).HEARTH_TRUST_PROXY).toBe(1);
    expect(loadConfig({ HEARTH_TRUST_PROXY: 'loopback, 10.0.0.0/8' }).HEARTH_TRUST_PROXY).toBe('loopback, 10.0.0.0/8');
  });

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ PORT: '-1', PUBLIC_URL: 'not a url' })).toThrow(/PORT="-1".*PUBLIC_URL="not a url"/);
  });
});
