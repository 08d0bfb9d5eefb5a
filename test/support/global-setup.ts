/**
 * Builds the migrated template database once per test run; every test file then starts
 * from a copy of it (hundreds of milliseconds) instead of migrating (seconds). Brings dist/ up
 * to date first, since the CLI tests run the compiled `hearth` as users do.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { seedDemo } from '../../src/admin/index.js';
import { applyMigrations, type Database, openDatabase } from '../../src/db/index.js';
import { createEmbedder, createMemoryEngine } from '../../src/memory/index.js';
import { createPostgresTemplate, dropPostgresTemplate } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplatePath: string;
    /** The same migrated database as a data directory, for tests that run the `hearth` command. */
    pgliteTemplateDir: string;
    /** A data directory with the demo seeded (`hearth seed --demo`), and the demo's ids. */
    pgliteDemo: { dir: string; householdId: string; memberIds: string[] };
    postgresTemplate: string | undefined;
  }
}

/** Writes the embedded database's data directory as a tarball `openDatabase({ template })` can start from. */
async function dumpTo(db: Database, file: string): Promise<string> {
  const dump = await db.pglite?.dumpDataDir('none');
  if (!dump) throw new Error('PGlite did not produce a dump');
  await writeFile(file, Buffer.from(await dump.arrayBuffer()));
  return file;
}

/**
 * Writes a tarball's database out as a data directory, as `hearth` keeps it. The tarball holds
 * the data directory's files from its root, so unpacking it is what PGlite's own load does, in a
 * twentieth of the time (no Postgres start-up).
 */
async function writeDataDir(dataDir: string, tarball: string): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  execFileSync('tar', ['-xf', tarball, '-C', dataDir]);
}

export default async function setup(project: TestProject) {
  // A no-op unless src/ changed since the last build.
  execFileSync(process.execPath, [fileURLToPath(new URL('../../scripts/build.mjs', import.meta.url))], {
    stdio: 'inherit',
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-test-'));
  const db = await openDatabase({ kind: 'pglite' });
  await applyMigrations(db);
  const templatePath = await dumpTo(db, path.join(dir, 'template.tar'));
  project.provide('pgliteTemplatePath', templatePath);
  const templateDir = path.join(dir, 'data');
  await writeDataDir(templateDir, templatePath);
  project.provide('pgliteTemplateDir', templateDir);

  // The same, with the demo seeded, for tests of commands that talk to the demo household.
  const memory = createMemoryEngine({ prisma: db.prisma, embedder: createEmbedder() });
  const seed = await seedDemo({ prisma: db.prisma, memory });
  await memory.close();
  const demoDir = path.join(dir, 'demo');
  await writeDataDir(demoDir, await dumpTo(db, path.join(dir, 'demo.tar')));
  await db.close();
  project.provide('pgliteDemo', { dir: demoDir, householdId: seed.householdId, memberIds: seed.memberIds });

  const url = process.env.TEST_DATABASE_URL;
  project.provide('postgresTemplate', url ? await createPostgresTemplate(url) : undefined);

  return async () => {
    await rm(dir, { recursive: true, force: true });
    if (url) await dropPostgresTemplate(url);
  };
}
