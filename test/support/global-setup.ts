/**
 * Builds the migrated template database once per test run; every test file then starts
 * from a copy of it (hundreds of milliseconds) instead of migrating (seconds). Brings dist/ up
 * to date first, since the CLI tests run the compiled `hearth` as users do.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { applyMigrations, openDatabase } from '../../src/db/index.js';
import { createPostgresTemplate, dropPostgresTemplate } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplatePath: string;
    /** The same migrated database as a data directory, for tests that run the `hearth` command. */
    pgliteTemplateDir: string;
    postgresTemplate: string | undefined;
  }
}

export default async function setup(project: TestProject) {
  // A no-op unless src/ changed since the last build.
  execFileSync(process.execPath, [fileURLToPath(new URL('../../scripts/build.mjs', import.meta.url))], {
    stdio: 'inherit',
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-test-'));
  const templatePath = path.join(dir, 'template.tar');
  const db = await openDatabase({ kind: 'pglite' });
  await applyMigrations(db);
  const dump = await db.pglite?.dumpDataDir('none');
  if (!dump) throw new Error('PGlite did not produce a dump');
  await writeFile(templatePath, Buffer.from(await dump.arrayBuffer()));
  await db.close();
  project.provide('pgliteTemplatePath', templatePath);
  const templateDir = path.join(dir, 'data');
  await (await openDatabase({ kind: 'pglite', dataDir: templateDir, template: dump })).close();
  project.provide('pgliteTemplateDir', templateDir);

  const url = process.env.TEST_DATABASE_URL;
  project.provide('postgresTemplate', url ? await createPostgresTemplate(url) : undefined);

  return async () => {
    await rm(dir, { recursive: true, force: true });
    if (url) await dropPostgresTemplate(url);
  };
}
