import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/index.js';
import { freshDataDir, migratedDataDir, PROCESS_TEST_TIMEOUT_MS, runHearth, startHearth } from '../support/cli.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const API_KEY = /hth_[a-z2-7]{12}_[A-Za-z0-9_-]{43}/;

/** Runs `hearth <args>` and lists the modules it loaded, to see what a command pays for at start-up. */
async function runTraced(args: string[], env: Record<string, string>) {
  const file = path.join(freshDataDir(), 'imports.txt');
  const result = await runHearth(args, env, '', { traceImportsTo: file });
  return { ...result, loaded: readFileSync(file, 'utf8') };
}
const SCHEMA_ENGINE = '@prisma/schema-engine-wasm';
const EMBEDDINGS = '@energetic-ai/';
const OPENAI_SDK = '/node_modules/openai/';
const JOB_QUEUE = '/node_modules/pg-boss/';

describe('hearth CLI on the embedded database', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('migrate applies the migrations once; a second run is a no-op that never loads the schema engine', async () => {
    const env = { HEARTH_DATA_DIR: freshDataDir() };
    const first = await runTraced(['migrate'], env);
    expect(first).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Applied \d+_init/) });
    expect(first.loaded).toContain(SCHEMA_ENGINE);
    const second = await runTraced(['migrate'], env);
    expect(second).toMatchObject({ code: 0, stdout: 'Database is up to date; no migration applied.\n' });
    expect(second.loaded).not.toContain(SCHEMA_ENGINE);
  });

  it('--help loads the command line parser alone', async () => {
    const help = await runTraced(['--help'], { HEARTH_DATA_DIR: freshDataDir() });
    expect(help).toMatchObject({ code: 0, stdout: expect.stringContaining('org') });
    expect(help.loaded).toContain('commander');
    expect(help.loaded).not.toContain('/dist/db/');
  });

  it('org create prints the id; apikey create prints the key once and stores only its hash; serve then seeds nothing', async () => {
    const dataDir = migratedDataDir();
    const org = await runTraced(['org', 'create', 'Sunrise Care'], { HEARTH_DATA_DIR: dataDir });
    expect(org.code).toBe(0);
    // Neither the schema engine nor the embedding model: nothing to migrate, nothing to embed.
    expect(org.loaded).not.toContain(SCHEMA_ENGINE);
    expect(org.loaded).not.toContain(EMBEDDINGS);
    const organizationId = org.stdout.trim();
    expect(organizationId).toMatch(UUID);

    const key = await runHearth(['apikey', 'create', '--org', organizationId, '--name', 'ops'], {
      HEARTH_DATA_DIR: dataDir,
    });
    expect(key.code).toBe(0);
    expect(key.stdout.trim()).toMatch(new RegExp(`^${API_KEY.source}$`));
    expect(key.stderr).toContain('shown only this once');

    const db = await openDatabase({ kind: 'pglite', dataDir });
    try {
      const rows = await db.prisma.apiKey.findMany();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ organizationId, name: 'ops', secretHash: expect.stringMatching(/^sha256\$/) });
      expect(key.stdout.trim().startsWith(`${rows[0]?.prefix}_`)).toBe(true);
      expect(JSON.stringify(rows)).not.toContain(key.stdout.trim());
    } finally {
      await db.close();
    }

    // A database that has an organization is not a first start: serve seeds nothing and prints no key.
    const server = await startHearth({ HEARTH_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' });
    expect(server.output()).not.toMatch(API_KEY);
    expect(await server.stop()).toBe(0);
  });

  it('refuses bad arguments with a clear message', async () => {
    const env = { HEARTH_DATA_DIR: migratedDataDir() };
    const badId = await runHearth(['apikey', 'create', '--org', 'not-a-uuid'], env);
    expect(badId.code).not.toBe(0);
    expect(badId.stderr).toContain('must be an id (a UUID)');
    const unknownOrg = await runHearth(['apikey', 'create', '--org', '00000000-0000-4000-8000-000000000000'], env);
    expect(unknownOrg).toMatchObject({ code: 2, stderr: expect.stringContaining('No organization 00000000-') });
    const badConfig = await runHearth(['migrate'], { ...env, PORT: 'eighty' });
    expect(badConfig).toMatchObject({ code: 2, stderr: expect.stringContaining('PORT="eighty"') });
  });

  it('seed --demo makes the demo organization and refuses to make it twice', async () => {
    const env = { HEARTH_DATA_DIR: migratedDataDir() };
    const seeded = await runTraced(['seed', '--demo'], env);
    expect(seeded.code).toBe(0);
    // Every service, but no model is asked and no job queued: the SDK and the queue stay unloaded.
    expect(seeded.loaded).not.toContain(OPENAI_SDK);
    expect(seeded.loaded).not.toContain(JOB_QUEUE);
    expect(seeded.stdout).toMatch(API_KEY);
    expect(seeded.stdout).toContain('+15555550100');
    const again = await runHearth(['seed', '--demo'], env);
    expect(again).toMatchObject({ code: 2, stderr: expect.stringContaining('already exists') });
  });

  it('serve prints the demo key on a first start, owns the data directory, and stops on SIGTERM', async () => {
    // Migrated but empty: "first start" is a database with no organization yet.
    const env = { HEARTH_DATA_DIR: migratedDataDir(), PORT: '0', HOST: '127.0.0.1' };
    const server = await startHearth(env);
    try {
      expect(server.output()).toMatch(API_KEY);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

      const blocked = await runHearth(['org', 'create', 'Second writer'], env);
      expect(blocked.code).toBe(2);
      expect(blocked.stderr).toContain(`pid ${server.child.pid}`);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(existsSync(path.join(env.HEARTH_DATA_DIR, 'hearth.lock'))).toBe(false);
  });
});

describe('hearth CLI with DATABASE_URL', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('fails fast on an unreachable server, naming the host', async () => {
    const started = Date.now();
    const result = await runHearth(['migrate'], { DATABASE_URL: 'postgresql://hearth:secret@127.0.0.1:1/hearth' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('127.0.0.1:1/hearth');
    expect(result.stderr).not.toContain('secret');
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
