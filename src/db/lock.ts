/**
 * One process owns the embedded database: PGlite opened by two processes at once corrupts
 * its directory. The owner keeps `hearth.lock` (its pid) in the data directory; a lock
 * whose pid is gone is stale and taken over.
 *
 * Taking the lock is atomic: the file is written in full under a temporary name, then
 * hard-linked to `hearth.lock`, which fails if that name exists. Each lock file carries a
 * unique token, so a stale lock is told apart from the fresh lock that replaces it. Only
 * the process that first creates `hearth.lock.takeover-<token of the stale lock>` may
 * remove that stale lock, so two processes that judge one stale lock at once never remove
 * each other's new lock. If that process dies mid-takeover, its takeover file is stale in
 * turn, and the right passes to whoever creates `hearth.lock.takeover-<its token>`.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DataDirLockedError } from '../errors.js';

const LOCK_FILE_NAME = 'hearth.lock';
/** How long to wait for another process that is replacing a stale lock (it takes microseconds). */
const TAKEOVER_WAIT_MS = 2_000;
const TAKEOVER_RETRY_MS = 5;
const TOKEN_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TEMP_NAME_PATTERN = /^hearth\.lock\.(\d+)\.[0-9a-f-]{36}\.tmp$/;
const TAKEOVER_NAME_PREFIX = `${LOCK_FILE_NAME}.takeover-`;

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

interface LockFile {
  pid: number | undefined;
  /** Names this file among all lock files ever written here: its token, or its inode for a tokenless file. */
  identity: string;
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

const isErrno = (error: unknown, code: string) => (error as NodeJS.ErrnoException).code === code;

/** The lock file at `file`, or undefined if there is none. */
function readLockFile(file: string): LockFile | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
  try {
    const [pidLine = '', , token = ''] = fs.readFileSync(fd, 'utf8').split('\n');
    const pid = Number.parseInt(pidLine, 10);
    let identity = token;
    if (!TOKEN_PATTERN.test(token)) {
      // Torn, or written by an older Hearth. Not ctime: it changes whenever the file gains or loses a link.
      const stat = fs.fstatSync(fd, { bigint: true });
      identity = `inode-${stat.ino}-${stat.mtimeNs}`;
    }
    return { pid: Number.isInteger(pid) && pid > 0 ? pid : undefined, identity };
  } finally {
    fs.closeSync(fd);
  }
}

const isHeld = (lock: LockFile): lock is LockFile & { pid: number } => lock.pid !== undefined && isAlive(lock.pid);

/**
 * Writes a complete lock file for this process under a temporary name in `dir`. Not fsynced: every
 * process reads it through the same page cache, and after a machine crash no owner is alive, so
 * a lock torn by the crash is rightly stale.
 */
function writeLockFile(dir: string): { file: string; token: string } {
  const token = randomUUID();
  // The pid is in the name because a file still being written cannot tell whose it is.
  const file = path.join(dir, `${LOCK_FILE_NAME}.${process.pid}.${token}.tmp`);
  const fd = fs.openSync(file, 'wx');
  try {
    fs.writeSync(fd, `${process.pid}\n${new Date().toISOString()}\n${token}\n`);
  } finally {
    fs.closeSync(fd);
  }
  return { file, token };
}

/** Gives `source` the name `target` too, unless `target` exists: the one atomic create-if-absent. */
function linkIfAbsent(source: string, target: string): boolean {
  try {
    fs.linkSync(source, target);
    return true;
  } catch (error) {
    if (isErrno(error, 'EEXIST')) return false;
    throw error;
  }
}

const takeoverPath = (dataDir: string, identity: string) => path.join(dataDir, `${TAKEOVER_NAME_PREFIX}${identity}`);

function sleep(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Replaces the stale lock named `stale` with `ours`. `taken`: ours is the lock now. `busy`:
 * a live process is replacing it. `moved`: it is no longer the lock; look again.
 */
function replaceStaleLock(dataDir: string, stale: string, ours: string): 'taken' | 'busy' | 'moved' {
  const lockPath = path.join(dataDir, LOCK_FILE_NAME);
  const guard = writeLockFile(dataDir);
  try {
    const deadGuards: string[] = [];
    let guardPath = takeoverPath(dataDir, stale);
    while (!linkIfAbsent(guard.file, guardPath)) {
      const holder = readLockFile(guardPath);
      if (holder === undefined) continue;
      if (isHeld(holder)) return 'busy';
      deadGuards.push(guardPath);
      guardPath = takeoverPath(dataDir, holder.identity);
    }
    try {
      // Holding the takeover right, we alone may remove the stale lock: if it is still there, it stays until we do.
      if (readLockFile(lockPath)?.identity !== stale) return 'moved';
      fs.rmSync(lockPath, { force: true });
      const taken = linkIfAbsent(ours, lockPath);
      // These took part only in replacing the lock just removed, so no one can need them any more.
      for (const dead of deadGuards) fs.rmSync(dead, { force: true });
      // Not taken: a process that found no lock at all took it in between, rightfully.
      return taken ? 'taken' : 'moved';
    } finally {
      fs.rmSync(guardPath, { force: true });
    }
  } finally {
    fs.rmSync(guard.file, { force: true });
  }
}

/**
 * Removes the files of processes that died while taking the lock. Call it only holding the lock:
 * then every takeover file is about a lock that is gone, and no one can act on it any more.
 */
function removeLeftovers(dataDir: string) {
  try {
    for (const name of fs.readdirSync(dataDir)) {
      const file = path.join(dataDir, name);
      const temp = TEMP_NAME_PATTERN.exec(name);
      let pid: number | undefined;
      if (temp) pid = Number(temp[1]);
      else if (name.startsWith(TAKEOVER_NAME_PREFIX)) pid = readLockFile(file)?.pid;
      else continue;
      if (pid === undefined || !isAlive(pid)) fs.rmSync(file, { force: true });
    }
  } catch {
    // Tidying is a courtesy: failing it must not fail taking the lock, which is already ours.
  }
}

function heldLock(dataDir: string, token: string): DataDirLock {
  const lockPath = path.join(dataDir, LOCK_FILE_NAME);
  removeLeftovers(dataDir);
  let released = false;
  return {
    path: lockPath,
    release() {
      if (released) return;
      released = true;
      // While we live no one else removes our lock, so it cannot change between this check and the removal.
      if (readLockFile(lockPath)?.identity === token) fs.rmSync(lockPath, { force: true });
    },
  };
}

/** The pid holding the data directory, if a live process holds it. */
export function dataDirOwner(dataDir: string): number | undefined {
  try {
    const lock = readLockFile(path.join(dataDir, LOCK_FILE_NAME));
    return lock && isHeld(lock) ? lock.pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the lock on `dataDir` for this process, or throws `DataDirLockedError` naming
 * the pid that holds it.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true });
  const lockPath = path.join(dataDir, LOCK_FILE_NAME);
  const ours = writeLockFile(dataDir);
  try {
    const deadline = Date.now() + TAKEOVER_WAIT_MS;
    while (Date.now() < deadline) {
      if (linkIfAbsent(ours.file, lockPath)) return heldLock(dataDir, ours.token);
      const current = readLockFile(lockPath);
      if (current === undefined) continue;
      if (isHeld(current)) {
        const { pid } = current;
        const who = pid === process.pid ? 'this process already' : `process ${pid}`;
        throw new DataDirLockedError(
          `The embedded database in ${dataDir} is in use by ${who} (a running Hearth server?). ` +
            `Only one process may open it: stop pid ${pid} first, or use the running server's admin API, ` +
            'or set DATABASE_URL to use a Postgres server, which has no such limit.',
          pid,
        );
      }
      // Stale: its owner died without releasing it (or the file is torn). Take it over.
      const outcome = replaceStaleLock(dataDir, current.identity, ours.file);
      if (outcome === 'taken') return heldLock(dataDir, ours.token);
      if (outcome === 'busy') sleep(TAKEOVER_RETRY_MS);
    }
  } finally {
    fs.rmSync(ours.file, { force: true });
  }
  throw new DataDirLockedError(`Could not take the lock ${lockPath}; another process keeps racing for it.`, 0);
}
