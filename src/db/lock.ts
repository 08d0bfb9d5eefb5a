/**
 * One process owns the embedded database: PGlite opened by two processes at once corrupts
 * its directory. The owner keeps `hearth.lock` (its pid) in the data directory; a lock
 * whose pid is gone is stale and taken over.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataDirLockedError } from '../errors.js';

const LOCK_FILE_NAME = 'hearth.lock';

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwnerPid(lockPath: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(lockPath, 'utf8').split('\n')[0] ?? '', 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid holding the data directory, if a live process holds it. */
export function dataDirOwner(dataDir: string): number | undefined {
  const pid = readOwnerPid(path.join(dataDir, LOCK_FILE_NAME));
  return pid !== undefined && isAlive(pid) ? pid : undefined;
}

/**
 * Takes the lock on `dataDir` for this process, or throws `DataDirLockedError` naming
 * the pid that holds it.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true });
  const lockPath = path.join(dataDir, LOCK_FILE_NAME);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(lockPath, 'wx');
      fs.writeSync(fd, `${process.pid}\n${new Date().toISOString()}\n`);
      fs.closeSync(fd);
      let released = false;
      return {
        path: lockPath,
        release() {
          if (released) return;
          released = true;
          if (readOwnerPid(lockPath) === process.pid) fs.rmSync(lockPath, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = readOwnerPid(lockPath);
      if (pid !== undefined && isAlive(pid)) {
        const who = pid === process.pid ? 'this process already' : `process ${pid}`;
        throw new DataDirLockedError(
          `The embedded database in ${dataDir} is in use by ${who} (a running Hearth server?). ` +
            `Only one process may open it: stop pid ${pid} first, or use the running server's admin API, ` +
            'or set DATABASE_URL to use a Postgres server, which has no such limit.',
          pid,
        );
      }
      // Stale: its owner died without releasing it (or the file is torn). Take it over.
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new DataDirLockedError(`Could not take the lock ${lockPath}; another process keeps racing for it.`, 0);
}
