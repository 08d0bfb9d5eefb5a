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

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ PORT: '-1', PUBLIC_URL: 'not a url' })).toThrow(/PORT="-1".*PUBLIC_URL="not a url"/);
  });
});
