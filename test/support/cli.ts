/** Runs the real `hearth` command in a child process, as a user at a terminal would. */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/hearth.js', import.meta.url));

/**
 * For tests that start `hearth` processes one after another: each is a cold start (2 to 5 s on
 * two busy cores), so they get a budget per process rather than the 30 s of in-process tests.
 */
export const PROCESS_TEST_TIMEOUT_MS = 90_000;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** An empty directory: the first command there creates and migrates the embedded database. */
export function freshDataDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'hearth-cli-'));
}

/**
 * A data directory holding a migrated database with no data yet: a copy of the test template,
 * so a test of a command does not pay Postgres's initdb and the migrations again.
 */
export function migratedDataDir(): string {
  const dir = freshDataDir();
  cpSync(inject('pgliteTemplateDir'), dir, { recursive: true });
  return dir;
}

/** A data directory with the demo organization seeded, as after `hearth seed --demo`, and its ids. */
export function demoDataDir(): { dataDir: string; householdId: string; memberIds: string[] } {
  const { dir, householdId, memberIds } = inject('pgliteDemo');
  const dataDir = freshDataDir();
  cpSync(dir, dataDir, { recursive: true });
  return { dataDir, householdId, memberIds };
}

/** Environment for a child: ours minus what would point it at another database. */
export function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const { DATABASE_URL: _url, HEARTH_DATA_DIR: _dir, ...rest } = process.env;
  return { ...rest, LOG_FORMAT: 'json', NODE_ENV: 'test', ...env };
}

const TRACE_IMPORTS = fileURLToPath(new URL('./trace-imports.mjs', import.meta.url));

/**
 * Runs `hearth <args>` to completion; `input` is written to its stdin, which is then closed.
 * With `traceImportsTo`, the child lists every module it loads in that file.
 */
export function runHearth(
  args: string[],
  env: Record<string, string>,
  input = '',
  options: { traceImportsTo?: string } = {},
): Promise<CliResult> {
  const trace = options.traceImportsTo ? ['--import', TRACE_IMPORTS] : [];
  const traceEnv: Record<string, string> = options.traceImportsTo
    ? { HEARTH_TRACE_IMPORTS: options.traceImportsTo }
    : {};
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [...trace, BIN, ...args],
      { env: cliEnv({ ...env, ...traceEnv }), timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(input);
  });
}

/** Starts `hearth <args>` with its stdin open, for tests that type into it or signal it. */
export function spawnHearth(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const exited = new Promise<CliResult>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  return { stdin: child.stdin, kill: (signal: NodeJS.Signals) => child.kill(signal), exited };
}

export interface RunningServer {
  child: ChildProcess;
  url: string;
  /** Everything the server printed on stdout so far. */
  output(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `hearth serve` and resolves once it logs that it is ready. */
export function startHearth(env: Record<string, string>): Promise<RunningServer> {
  const child = spawn(process.execPath, [BIN, 'serve'], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`hearth serve did not become ready:\n${stdout}\n${stderr}`)),
      30_000,
    );
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      const listening = /"url":"(http:\/\/[^"]+)","msg":"listening"/.exec(stdout);
      if (listening?.[1] && stdout.includes('"msg":"ready"')) {
        clearTimeout(timer);
        const url = listening[1];
        resolve({
          child,
          url,
          output: () => stdout,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`hearth serve exited with ${code}:\n${stdout}\n${stderr}`));
    });
  });
}
