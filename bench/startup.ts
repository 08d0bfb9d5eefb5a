/**
 * How long the real `hearth` commands take, start to finish, as an operator runs them: each a
 * new process running the compiled dist/, timed from spawn to exit (or, for `serve`, to the
 * first 200 from `/readyz`). The baseline is `node -e 0`, the floor for any Node command.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchResult, progress, type Timing } from './harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'hearth.js');
const READY_POLL_MS = 10;

function environment(dataDir: string): NodeJS.ProcessEnv {
  const { DATABASE_URL: _url, ...rest } = process.env;
  return { ...rest, HEARTH_DATA_DIR: dataDir, LOG_FORMAT: 'json', LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1' };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Milliseconds from spawn to a clean exit of `node <args>`. */
async function timeCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const code = await exited(child);
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited with ${code}:\n${stderr}`);
  return performance.now() - started;
}

/** Milliseconds from spawning `hearth serve` to its first 200 from /readyz; then stops it. */
async function timeServeReady(env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stopped = exited(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  try {
    for (;;) {
      const url = /"url":"(http:\/\/[^"]+)","msg":"listening"/.exec(output)?.[1];
      if (url) {
        const status = await fetch(`${url}/readyz`).then(
          (response) => response.status,
          () => 0,
        );
        if (status === 200) return performance.now() - started;
      }
      if (child.exitCode !== null) throw new Error(`hearth serve exited with ${child.exitCode}:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
    }
  } finally {
    child.kill('SIGTERM');
    await stopped;
  }
}

/** Runs `once` `iterations` times, each with a data directory `prepare` made, untimed. */
async function repeat(
  iterations: number,
  prepare: () => string,
  once: (env: NodeJS.ProcessEnv) => Promise<number>,
): Promise<Timing> {
  const samples: number[] = [];
  const start = performance.now();
  for (let index = 0; index < iterations; index++) {
    const dataDir = prepare();
    try {
      samples.push(await once(environment(dataDir)));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return { samples, wallMs: performance.now() - start };
}

/** The start-up cost of each command, against `node -e 0`. */
/** `quick`: each command once (a smoke run), not the 3 to 10 times that make a median worth quoting. */
export async function startupBench({ quick = false } = {}): Promise<BenchResult> {
  progress('startup: building dist/ if src/ changed');
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });

  const scratch = mkdtempSync(path.join(os.tmpdir(), 'hearth-bench-startup-'));
  const empty = () => mkdtempSync(path.join(scratch, 'data-'));
  progress('startup: preparing a migrated data directory');
  const migratedTemplate = empty();
  execFileSync(process.execPath, [BIN, 'migrate'], { env: environment(migratedTemplate), stdio: 'ignore' });
  // What an operator has after `hearth migrate` and `hearth org create`: a restart seeds nothing.
  const organizedTemplate = empty();
  cpSync(migratedTemplate, organizedTemplate, { recursive: true });
  execFileSync(process.execPath, [BIN, 'org', 'create', 'Bench'], {
    env: environment(organizedTemplate),
    stdio: 'ignore',
  });
  const copyOf = (template: string) => () => {
    const dir = empty();
    cpSync(template, dir, { recursive: true });
    return dir;
  };
  const migrated = copyOf(migratedTemplate);
  const organized = copyOf(organizedTemplate);

  try {
    progress('startup: node -e 0 (baseline)');
    const baseline = await repeat(quick ? 3 : 10, empty, (env) => timeCommand(['-e', '0'], env));
    const rows = [];
    const commands: Array<[string, number, () => string, (env: NodeJS.ProcessEnv) => Promise<number>]> = [
      ['hearth --help', 10, empty, (env) => timeCommand([BIN, '--help'], env)],
      ['hearth migrate, fresh data dir', 3, empty, (env) => timeCommand([BIN, 'migrate'], env)],
      ['hearth migrate, nothing to apply', 5, migrated, (env) => timeCommand([BIN, 'migrate'], env)],
      ['hearth org create, migrated', 5, migrated, (env) => timeCommand([BIN, 'org', 'create', 'Bench'], env)],
      ['hearth serve -> /readyz 200, migrated, with an organization', 5, organized, timeServeReady],
      ['hearth serve -> /readyz 200, migrated, no organization (seeds the demo)', 5, migrated, timeServeReady],
      ['hearth serve -> /readyz 200, first start', 3, empty, timeServeReady],
    ];
    for (const [name, planned, prepare, once] of commands) {
      const iterations = quick ? 1 : planned;
      progress(`startup: ${name} (${iterations}x)`);
      rows.push({ name: `${name} (node -e 0)`, subject: await repeat(iterations, prepare, once), baseline });
    }
    return { rows, notes: [] };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
