/**
 * Hearth as it runs for phone calls, in this process: the real services (PGlite with the demo
 * household, the job queue, the memory engine) and the real HTTP/WebSocket server, with Twilio's
 * settings and the realtime model at a wire-level stand-in. Tests dial it with the simulated caller.
 */
import { createApiKey } from '../../src/admin/api-keys.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { createServer } from '../../src/server.js';
import { openServices, type Services } from '../../src/services.js';
import type { DialOptions } from '../../src/voice/simulated-caller.js';
import { demoDataDir } from './cli.js';

/** Where Twilio believes Hearth is; the simulated caller reaches it at the real URL, as a tunnel would. */
export const PUBLIC_URL = 'https://hearth.test';
export const TWILIO_AUTH_TOKEN = 'twilio-test-auth-token-0123456789';
/** The demo household's line and members' numbers (src/admin/seed.ts). */
export const DEMO_LINE = '+15555550100';
export const ADAEZE_PHONE = '+15555550101';
export const CHIDI_PHONE = '+15555550102';

export interface VoiceStack {
  url: string;
  dataDir: string;
  services: Services;
  householdId: string;
  /** Adaeze (grandmother), then Chidi (son). */
  memberIds: string[];
  /** An admin API key of the demo organization, for reading calls as an operator does. */
  apiKey: string;
  /** What `dial` needs besides `from` (and `to`, the demo line by default). */
  dialing(from: string): DialOptions;
  close(): Promise<void>;
}

/** `reuse`: a stopped stack's data directory and ids, to start it again (a restart). */
export async function startVoiceStack(
  env: Record<string, string>,
  reuse?: Pick<VoiceStack, 'dataDir' | 'householdId' | 'memberIds'>,
): Promise<VoiceStack> {
  const { dataDir, householdId, memberIds } = reuse ?? demoDataDir();
  const config = loadConfig({
    HEARTH_DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    LOG_FORMAT: 'json',
    PUBLIC_URL,
    TWILIO_AUTH_TOKEN,
    ...env,
  });
  const logger = createLogger(config);
  const services = await openServices({ config, logger });
  await services.start();
  const household = await services.db.prisma.household.findUniqueOrThrow({ where: { id: householdId } });
  const { key: apiKey } = await createApiKey(services.db.prisma, { organizationId: household.organizationId });
  const server = createServer(services);
  const url = await server.listen();
  server.setReady(true);
  return {
    url,
    dataDir,
    services,
    householdId,
    memberIds,
    apiKey,
    dialing: (from) => ({ serverUrl: url, publicUrl: PUBLIC_URL, authToken: TWILIO_AUTH_TOKEN, to: DEMO_LINE, from }),
    async close() {
      await server.close();
      await services.close();
    },
  };
}
