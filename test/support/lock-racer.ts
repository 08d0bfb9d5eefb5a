/**
 * A child process that competes for the data directory lock when its parent says so, for
 * tests that need real separate processes racing (run with `node --import tsx`).
 */
import { type DataDirLock, lockDataDir } from '../../src/db/lock.js';
import { DataDirLockedError } from '../../src/errors.js';

/** Parent → racer: `startAt` is a `process.hrtime.bigint()` reading, shared by all processes on the machine. */
export type RacerCommand = { kind: 'race'; dir: string; startAt: string } | { kind: 'release' };

/** Racer → parent. */
export type RacerReply =
  | { kind: 'ready'; pid: number }
  | { kind: 'raced'; got: boolean; error?: string }
  | { kind: 'released' };

let held: DataDirLock | undefined;

function reply(message: RacerReply) {
  process.send?.(message);
}

process.on('message', (command: RacerCommand) => {
  if (command.kind === 'release') {
    held?.release();
    held = undefined;
    reply({ kind: 'released' });
    return;
  }
  // Spin rather than sleep: a timer would wake the racers milliseconds apart, and the race is microseconds wide.
  const startAt = BigInt(command.startAt);
  while (process.hrtime.bigint() < startAt) {}
  try {
    held = lockDataDir(command.dir);
    reply({ kind: 'raced', got: true });
  } catch (error) {
    if (error instanceof DataDirLockedError) reply({ kind: 'raced', got: false });
    else reply({ kind: 'raced', got: false, error: String(error) });
  }
});

// Without an IPC channel the racer has no parent to obey; the channel keeps it alive until disconnected.
process.on('disconnect', () => process.exit(0));
reply({ kind: 'ready', pid: process.pid });
