/**
 * Admin API throughput, measured from outside: `hearth serve` in its own process on the embedded
 * database, and `CONNECTIONS` concurrent keep-alive clients in this process (Node's fetch) hitting
 * one route at a time for a few seconds. The baseline is `/healthz` on the same server in the
 * same run: no key, no database. The household is seeded through the API itself, as an operator
 * would: its blocks, one block per writer, and `passages` archival passages. Embeddings come from
 * the OpenAI stand-in (deterministic vectors), so the figures are Hearth's, not a model's.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApiKey } from '../src/admin/api-keys.js';
import { applyMigrations, openDatabase } from '../src/db/index.js';
import { startOpenAIStub } from '../test/support/openai-stub.js';
import { type BenchResult, progress, sentence, type Timing } from './harness.js';
import { cpuProfileArgs, startHearthServe, stopProcess } from './processes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONNECTIONS = 10;

/** `CONNECTIONS` loops sending `request` back to back for `seconds`; each response must be `ok`. */
async function load(seconds: number, request: (worker: number) => Promise<Response>): Promise<Timing> {
  const samples: number[] = [];
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, worker) => {
      while (performance.now() < until) {
        const before = performance.now();
        const response = await request(worker);
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`${response.url} answered ${response.status}`);
        samples.push(performance.now() - before);
      }
    }),
  );
  return { samples, wallMs: performance.now() - started };
}

/** An organization and its key, written before the server starts (the embedded database has one owner). */
async function seedOrganization(dataDir: string): Promise<string> {
  const db = await openDatabase({ kind: 'pglite', dataDir });
  try {
    await applyMigrations(db);
    const { id: organizationId } = await db.prisma.organization.create({ data: { name: 'Bench care' } });
    return (await createApiKey(db.prisma, { organizationId })).key;
  } finally {
    await db.close();
  }
}

/** Authenticated block reads, passage search and block writes, against `/healthz`. */
export async function adminThroughputBench({ seconds = 5, passages = 500 } = {}): Promise<BenchResult> {
  progress('admin: building dist/ if src/ changed');
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hearth-bench-admin-'));
  const openai = await startOpenAIStub();
  try {
    const key = await seedOrganization(dataDir);
    const hearth = await startHearthServe(
      {
        HEARTH_DATA_DIR: dataDir,
        OPENAI_API_KEY: 'bench-not-a-key',
        OPENAI_BASE_URL: openai.url,
        // The limit protects a real deployment; here it would cap the figure being measured.
        HEARTH_RATE_LIMIT_PER_MINUTE: '100000000',
      },
      cpuProfileArgs(),
    );
    try {
      const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      const api = async (method: string, route: string, body?: unknown) => {
        const response = await fetch(`${hearth.url}${route}`, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        if (!response.ok) throw new Error(`${method} ${route} answered ${response.status}: ${await response.text()}`);
        return (await response.json()) as { id: string; version: number };
      };
      progress(`admin: seeding a household, ${CONNECTIONS} blocks and ${passages} passages through the API`);
      const household = await api('POST', '/v1/households', { name: 'The Okafor household' });
      const base = `/v1/households/${household.id}`;
      const versions = await Promise.all(
        Array.from(
          { length: CONNECTIONS },
          async (_, worker) =>
            (await api('POST', `${base}/blocks`, { label: `bench_${worker}`, value: 'start' })).version,
        ),
      );
      for (let index = 0; index < passages; index++) await api('POST', `${base}/passages`, { text: sentence(index) });

      progress(`admin: GET /healthz for ${seconds} s (baseline)`);
      const baseline = await load(seconds, () => fetch(`${hearth.url}/healthz`));
      progress(`admin: GET ${base}/blocks for ${seconds} s`);
      const reads = await load(seconds, () => fetch(`${hearth.url}${base}/blocks`, { headers }));
      progress(`admin: GET ${base}/passages/search for ${seconds} s`);
      const searches = await load(seconds, () =>
        fetch(`${hearth.url}${base}/passages/search?q=blood%20pressure%20tablet`, { headers }),
      );
      progress(`admin: PATCH ${base}/blocks/bench_<n> for ${seconds} s (a block per client, If-Match)`);
      const writes = await load(seconds, async (worker) => {
        const response = await fetch(`${hearth.url}${base}/blocks/bench_${worker}`, {
          method: 'PATCH',
          headers: { ...headers, 'if-match': `"${versions[worker]}"` },
          body: JSON.stringify({ value: `written ${versions[worker]}` }),
        });
        if (response.ok) versions[worker] = (versions[worker] ?? 0) + 1;
        return response;
      });
      const row = (name: string, subject: Timing) => ({ name: `${name} (GET /healthz)`, subject, baseline });
      return {
        rows: [
          row(`admin: GET blocks, ${CONNECTIONS} clients`, reads),
          row(`admin: passage search, ${passages} passages`, searches),
          row('admin: PATCH a block (If-Match)', writes),
        ],
        notes: [
          `admin API, ${CONNECTIONS} keep-alive clients: /healthz ${rate(baseline)} req/s; ` +
            `block reads ${rate(reads)}, passage search ${rate(searches)}, block writes ${rate(writes)} req/s`,
        ],
      };
    } finally {
      await stopProcess(hearth.child);
    }
  } finally {
    await openai.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const rate = (timing: Timing) => ((timing.samples.length / timing.wallMs) * 1000).toFixed(0);
