import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataDirOwner, lockDataDir } from '../../src/db/lock.js';
import { DataDirLockedError } from '../../src/errors.js';

const tempDir = () => mkdtempSync(path.join(os.tmpdir(), 'hearth-lock-'));

/** A pid that certainly belongs to no live process: one that just exited. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());
}

describe('data directory lock', () => {
  it('records our pid and refuses a second holder, naming the pid', () => {
    const dir = tempDir();
    const lock = lockDataDir(dir);
    expect(readFileSync(lock.path, 'utf8').split('\n')[0]).toBe(String(process.pid));
    expect(dataDirOwner(dir)).toBe(process.pid);
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    expect(() => lockDataDir(dir)).toThrow(`pid ${process.pid}`);
    lock.release();
    expect(dataDirOwner(dir)).toBeUndefined();
    lockDataDir(dir).release();
  });

  it('takes over a stale lock whose process is gone', () => {
    const dir = tempDir();
    const pid = deadPid();
    writeFileSync(path.join(dir, 'hearth.lock'), `${pid}\n`);
    expect(dataDirOwner(dir)).toBeUndefined();
    const lock = lockDataDir(dir);
    expect(readFileSync(lock.path, 'utf8').split('\n')[0]).toBe(String(process.pid));
    lock.release();
  });

  it.each([
    ['garbage', 'garbage'],
    ['empty', ''],
  ])('takes over a torn lock file (%s)', (_name, content) => {
    const dir = tempDir();
    const lockPath = path.join(dir, 'hearth.lock');
    writeFileSync(lockPath, content);
    expect(dataDirOwner(dir)).toBeUndefined();
    const lock = lockDataDir(dir);
    expect(lock.path).toBe(lockPath);
    expect(readFileSync(lockPath, 'utf8').split('\n')[0]).toBe(String(process.pid));
    expect(dataDirOwner(dir)).toBe(process.pid);
    lock.release();
    expect(existsSync(lockPath)).toBe(false);
  });
});
