/** The real HTTP server on a test database, on an ephemeral port. */
import { loadConfig } from '../../src/config/index.js';
import type { Database } from '../../src/db/index.js';
import { createLogger } from '../../src/logger.js';
import { createServer, type HearthServer } from '../../src/server.js';

export interface TestServer {
  url: string;
  server: HearthServer;
  close(): Promise<void>;
}

export async function startTestServer(db: Database, env: Record<string, string> = {}): Promise<TestServer> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', LOG_FORMAT: 'json', ...env });
  const server = createServer({ config, logger: createLogger(config), db });
  const url = await server.listen();
  server.setReady(true);
  return { url, server, close: () => server.close() };
}
