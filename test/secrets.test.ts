import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSecretBox, loadServerSecret } from '../src/secrets.js';

describe('the secret box', () => {
  it('opens what it sealed, and nothing sealed under another key or altered', () => {
    const box = createSecretBox('a server key of at least thirty-two characters');
    const sealed = box.seal('whsec_c2VjcmV0');
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('c2VjcmV0');
    expect(box.seal('whsec_c2VjcmV0')).not.toBe(sealed); // a fresh IV each time
    expect(box.open(sealed)).toBe('whsec_c2VjcmV0');
    expect(() => createSecretBox('another server key, also long enough').open(sealed)).toThrow();
    const [version, iv, tag, ciphertext] = sealed.split('.');
    const flipped = `${ciphertext?.[0] === 'A' ? 'B' : 'A'}${ciphertext?.slice(1)}`;
    expect(() => box.open([version, iv, tag, flipped].join('.'))).toThrow();
    expect(() => box.open('plaintext')).toThrow('Not a sealed secret');
  });
});

describe('the server secret', () => {
  it('is the configured one; embedded without one, it is generated once into the data directory', () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'hearth-secret-'));
    expect(loadServerSecret({ configured: 'configured', dataDir, embedded: true })).toBe('configured');
    const generated = loadServerSecret({ configured: undefined, dataDir, embedded: true });
    expect(generated).toMatch(/^[\w-]{43}$/);
    expect(loadServerSecret({ configured: undefined, dataDir, embedded: true })).toBe(generated);
    const file = path.join(dataDir, 'secret-key');
    expect(readFileSync(file, 'utf8').trim()).toBe(generated);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // On Postgres every instance must share one: nothing is generated.
    expect(loadServerSecret({ configured: undefined, dataDir, embedded: false })).toBeUndefined();
  });
});
