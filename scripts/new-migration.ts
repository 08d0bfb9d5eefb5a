/**
 * Writes a new migration from the difference between `prisma/schema.prisma` and the existing
 * migrations (what `prisma migrate dev --create-only` does, without the native engine).
 *
 * @example npm run db:new-migration -- add_call_tags
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MIGRATIONS_DIR, migrationsDrift } from '../src/db/migrate.js';

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error('usage: npm run db:new-migration -- <name in snake_case>');
  process.exit(64);
}
const sql = await migrationsDrift();
if (!sql) {
  console.log('schema.prisma and prisma/migrations agree: nothing to write.');
} else {
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const dir = path.join(MIGRATIONS_DIR, `${stamp}_${name}`);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'migration.sql'), `${sql}\n`);
  console.log(`wrote ${path.relative(process.cwd(), dir)}/migration.sql`);
}
