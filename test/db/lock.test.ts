import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataDirOwner, lockDataDir } from '../../src/db/lock.js';
import { DataDirLockedError } from '../../src/errors.js';
import type { RacerCommand, RacerReply } from '../support/lock-racer.js';

const RACER = fileURLToPath(new URL('../support/lock-racer.ts', import.meta.url));
const RACE_ROUNDS = 50;
/** Long enough for the command to reach both racers before they start, short enough to keep rounds quick. */
const RACE_START_DELAY_NS = 15_000_000n;

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hearth-lock-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A pid that certainly belongs to no live process: one that just exited. */
const DEAD_PID = Number(
  spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString(),
);

const firstLine = (file: string) => readFileSync(file, 'utf8').split('\n')[0];

describe('data directory lock', () => {
  it('records our pid and refuses a second holder, naming the pid', () => {
    const dir = tempDir();
    const lock = lockDataDir(dir);
    expect(firstLine(lock.path)).toBe(String(process.pid));
    expect(readdirSync(dir)).toEqual(['hearth.lock']);
    expect(dataDirOwner(dir)).toBe(process.pid);
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    expect(() => lockDataDir(dir)).toThrow(`pid ${process.pid}`);
    lock.release();
    expect(dataDirOwner(dir)).toBeUndefined();
    lockDataDir(dir).release();
  });

  it('takes over a stale lock whose process is gone', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'hearth.lock'), `${DEAD_PID}\n`);
    expect(dataDirOwner(dir)).toBeUndefined();
    const lock = lockDataDir(dir);
    expect(firstLine(lock.path)).toBe(String(process.pid));
    lock.release();
  });

  it('takes over a stale lock whose last taker died mid-takeover, and clears what both left', () => {
    const dir = tempDir();
    const lockFile = (token: string) => `${DEAD_PID}\n${new Date().toISOString()}\n${token}\n`;
    const [staleToken, takerToken] = [randomUUID(), randomUUID()];
    writeFileSync(path.join(dir, 'hearth.lock'), lockFile(staleToken));
    // The taker died holding the right to replace the stale lock, before its own lock was in place.
    writeFileSync(path.join(dir, `hearth.lock.takeover-${staleToken}`), lockFile(takerToken));
    writeFileSync(path.join(dir, `hearth.lock.${DEAD_PID}.${takerToken}.tmp`), lockFile(takerToken));
    const lock = lockDataDir(dir);
    expect(firstLine(lock.path)).toBe(String(process.pid));
    expect(readdirSync(dir)).toEqual(['hearth.lock']);
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
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
    expect(firstLine(lockPath)).toBe(String(process.pid));
    expect(dataDirOwner(dir)).toBe(process.pid);
    lock.release();
    expect(existsSync(lockPath)).toBe(false);
  });
});

interface Racer {
  pid: number;
  request(command: RacerCommand): Promise<RacerReply>;
  stop(): void;
}

async function startRacer(): Promise<Racer> {
  const child: ChildProcess = fork(RACER, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`A lock racer exited (code ${code})`);
  });
  exited.catch(() => {});
  const nextReply = async () => {
    const [reply] = (await Promise.race([once(child, 'message'), exited])) as [RacerReply];
    return reply;
  };
  const ready = await nextReply();
  if (ready.kind !== 'ready') throw new Error(`Racer said ${ready.kind} before it was ready`);
  return {
    pid: ready.pid,
    request(command) {
      const reply = nextReply();
      child.send(command);
      return reply;
    },
    stop: () => child.disconnect(),
  };
}

describe('data directory lock raced by two processes', () => {
  // Started once: a process per round would spend seconds starting node, and the race needs them warm.
  let racers: Racer[] = [];
  beforeAll(async () => {
    racers = await Promise.all([startRacer(), startRacer()]);
  });
  afterAll(() => {
    for (const racer of racers) racer.stop();
  });

  /**
   * Races both racers `RACE_ROUNDS` times, each time for a fresh directory that `prepare` fills,
   * and lists the rounds that went wrong.
   */
  async function raceRounds(prepare: (dir: string, round: number) => void) {
    const bothHeld: number[] = [];
    const noneHeld: number[] = [];
    const wrongOwner: number[] = [];
    const errors: string[] = [];
    for (let round = 0; round < RACE_ROUNDS; round++) {
      const dir = tempDir();
      prepare(dir, round);
      const startAt = String(process.hrtime.bigint() + RACE_START_DELAY_NS);
      const replies = await Promise.all(racers.map((racer) => racer.request({ kind: 'race', dir, startAt })));
      const winners = racers.filter((_racer, i) => {
        const reply = replies[i];
        if (reply?.kind === 'raced' && reply.error) errors.push(`round ${round}: ${reply.error}`);
        return reply?.kind === 'raced' && reply.got;
      });
      if (winners.length > 1) bothHeld.push(round);
      if (winners.length === 0) noneHeld.push(round);
      if (winners.length === 1 && dataDirOwner(dir) !== winners[0]?.pid) wrongOwner.push(round);
      await Promise.all(racers.map((racer) => racer.request({ kind: 'release' })));
    }
    return { bothHeld, noneHeld, wrongOwner, errors };
  }

  it(`never lets both hold the lock (${RACE_ROUNDS} races)`, async () => {
    const outcome = await raceRounds(() => {});
    expect(outcome).toEqual({ bothHeld: [], noneHeld: [], wrongOwner: [], errors: [] });
  });

  it(`lets exactly one take over a stale lock (${RACE_ROUNDS} races)`, async () => {
    const outcome = await raceRounds((dir, round) => {
      // Both shapes a crashed owner leaves: an older Hearth's pid and time, or this one's with its token.
      const token = round % 2 === 0 ? '' : `${randomUUID()}\n`;
      writeFileSync(path.join(dir, 'hearth.lock'), `${DEAD_PID}\n${new Date().toISOString()}\n${token}`);
    });
    expect(outcome).toEqual({ bothHeld: [], noneHeld: [], wrongOwner: [], errors: [] });
  });
});
