/**
 * Prisma's schema engine as WebAssembly, driven through our driver adapters. Prisma 7's CLI
 * only ships a native engine that cannot be downloaded here; the WebAssembly build does the
 * same work (apply migrations, diff schemas) and records `_prisma_migrations` the same way,
 * so `prisma migrate deploy` can take over wherever the native engine exists.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type * as Bindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { MigrationSession } from './migration-session.js';

export type SchemaEngine = Bindings.SchemaEngine;
export type { DiffTarget, MigrationList } from '@prisma/schema-engine-wasm/schema_engine_bg';

// Node has WebAssembly, but @types/node does not declare it (lib.dom does): type what we use.
interface WebAssemblyApi {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, Record<string, unknown>>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
}
const { WebAssembly } = globalThis as unknown as { WebAssembly: WebAssemblyApi };

let wasmReady: Promise<typeof Bindings> | undefined;

/**
 * Node 20 cannot `import` a .wasm module, so instantiate it by hand, once per process, and
 * only when a migration or drift check needs it: it costs seconds of start-up.
 */
function loadWasm(): Promise<typeof Bindings> {
  wasmReady ??= (async () => {
    const bg = await import('@prisma/schema-engine-wasm/schema_engine_bg');
    const bindings = createRequire(import.meta.url).resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const wasmPath = path.join(path.dirname(bindings), 'schema_engine_bg.wasm');
    const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), {
      './schema_engine_bg.js': withUnrefTimers(bg),
    });
    const exports = instance.exports as { __wbindgen_start: () => void };
    bg.__wbg_set_wasm(exports);
    exports.__wbindgen_start();
    return bg;
  })();
  return wasmReady;
}

/**
 * The engine arms a 10-second timer that outlives its work; unref'd, it no longer keeps a
 * finished `hearth migrate` waiting to exit.
 */
function withUnrefTimers(imports: Record<string, unknown>): Record<string, unknown> {
  const patched: Record<string, unknown> = { ...imports };
  for (const name of Object.keys(patched).filter((key) => key.startsWith('__wbg_setTimeout_'))) {
    patched[name] = (callback: () => void, ms: number) => setTimeout(callback, ms >>> 0).unref();
  }
  return patched;
}

/**
 * Runs `work` with a schema engine over `session`, then frees the engine and releases the
 * session's connections (either left alive keeps the process from exiting).
 */
export async function withSchemaEngine<T>(
  session: MigrationSession,
  schema: { path: string; content: string },
  work: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const bg = await loadWasm();
  const log = () => {};
  try {
    const engine = await bg.SchemaEngine.new(
      { datamodels: [[schema.path, schema.content]] },
      log,
      bindMigrationAwareSqlAdapterFactory(session),
    );
    try {
      return await work(engine);
    } finally {
      engine.free();
    }
  } finally {
    await session.release();
  }
}

/** The schema engine's empty filter: every table and enum is ours. */
export const NO_FILTER = { externalTables: [], externalEnums: [] };
