import { defineConfig } from 'prisma/config';

// The Prisma CLI is used here only for `prisma generate` (offline). Migrations are applied
// by `hearth migrate` through the WebAssembly schema engine; see src/db/migrate.ts.
// Where Prisma's native engine is available, `prisma migrate deploy` reads the same files.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/hearth' },
});
