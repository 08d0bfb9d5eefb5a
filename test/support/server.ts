/** The real HTTP server, with its memory engine, on a test database, on an ephemeral port. */
import type { TextChannel } from '../../src/calls/index.js';
import { loadConfig } from '../../src/config/index.js';
import type { Database } from '../../src/db/index.js';
import { createLogger } from '../../src/logger.js';
import { createEmbedder, createMemoryEngine, type Embedder, type MemoryEngine } from '../../src/memory/index.js';
import { createServer, type HearthServer } from '../../src/server.js';

export interface TestServer {
  url: string;
  server: HearthServer;
  /** The engine the server routes to, for fixtures (messages, passages) the API does not write. */
  memory: MemoryEngine;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Default: the local embedder (no network; ~290 MB once loaded). */
  embedder?: Embedder;
  /** The text channel behind the `/v1` messages routes, built on the server's memory engine. */
  conversations?: (memory: MemoryEngine) => TextChannel;
}

export async function startTestServer(
  db: Database,
  env: Record<string, string> = {},
  options: TestServerOptions = {},
): Promise<TestServer> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', LOG_FORMAT: 'json', ...env });
  const memory = createMemoryEngine({ prisma: db.prisma, embedder: options.embedder ?? createEmbedder({}) });
  const server = createServer({
    config,
    logger: createLogger(config),
    db,
    memory,
    conversations: options.conversations?.(memory),
  });
  const url = await server.listen();
  server.setReady(true);
  return {
    url,
    server,
    memory,
    close: async () => {
      await server.close();
      await memory.close();
    },
  };
}
