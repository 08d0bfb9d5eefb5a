/** Child processes for the benches that measure Hearth from outside: start, wait until ready, stop. */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/hearth.js', import.meta.url));

/** Starts `node <args>` and resolves with its URL once `findUrl` finds it in the output. */
export async function startProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  findUrl: (output: string) => string | undefined,
) {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let started = false;
  // Until it is up, its output says where it listens (or why it failed); after, it is drained unread.
  const collect = (chunk: Buffer) => {
    if (!started) output += chunk;
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const deadline = performance.now() + 60_000;
  for (;;) {
    const url = findUrl(output);
    if (url) {
      started = true;
      return { child, url };
    }
    if (child.exitCode !== null || performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`node ${args.join(' ')} did not start:\n${output.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Polls `${url}/readyz` until it answers 200 (a minute at most). */
export async function waitReady(url: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const status = await fetch(`${url}/readyz`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url}/readyz never answered 200`);
}

/**
 * `hearth serve` (the compiled build) on an ephemeral loopback port with `env` over this process's
 * environment (never its DATABASE_URL), once `/readyz` answers 200. `nodeArgs` go before the
 * script, e.g. `--cpu-prof`.
 */
export async function startHearthServe(env: Record<string, string>, nodeArgs: string[] = []) {
  const { DATABASE_URL: _url, ...inherited } = process.env;
  const hearth = await startProcess(
    [...nodeArgs, BIN, 'serve'],
    { ...inherited, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', LOG_FORMAT: 'json', ...env },
    (output) => /"url":"(http:\/\/[^"]+)","msg":"listening"/.exec(output)?.[1],
  );
  await waitReady(hearth.url);
  return hearth;
}

/** `BENCH_CPU_PROFILE_DIR=<dir>`: the flags that make a process write its V8 CPU profile there when it stops. */
export function cpuProfileArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROFILE_DIR;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(dir)}`] : [];
}
