/**
 * The `hearth` command. Every command but `serve` opens the database, applies pending
 * migrations and does one thing; on the embedded database it stops, naming the pid, while a
 * server holds it.
 *
 * @example
 * npx hearth migrate
 * npx hearth org create "Sunrise Care"
 * npx hearth apikey create --org 0b6f… --name ops
 * npx hearth call --to +15555550100 --from +15555550101 --say "Hello" # a simulated phone call
 */
import { Command, InvalidArgumentError } from 'commander';
import type { Config } from './config/index.js';
import type { Database } from './db/index.js';
import { HearthError } from './errors.js';
import type { Services } from './services.js';

// Each command imports what it uses when it runs: `hearth --help` loads commander alone, and
// `org create` opens the database without the server, the agent or the admin API's schemas.
const loadConfig = async (): Promise<Config> => (await import('./config/index.js')).loadConfig();
const createLogger = async (...args: Parameters<typeof import('./logger.js').createLogger>) =>
  (await import('./logger.js')).createLogger(...args);

/** Opens the database, applies pending migrations, runs `work` with the names it applied, and closes it. */
async function withDatabase<T>(config: Config, work: (db: Database, applied: string[]) => Promise<T>): Promise<T> {
  const { applyMigrations, databaseTarget, openDatabase } = await import('./db/index.js');
  const db = await openDatabase(databaseTarget(config));
  try {
    return await work(db, await applyMigrations(db));
  } finally {
    await db.close();
  }
}

/**
 * For commands that need the agent or memory: every service, logging to stderr (warnings and
 * worse by default). `jobs: false` for commands that must not pick up queued work.
 */
async function withServices<T>(
  config: Config,
  work: (services: Services) => Promise<T>,
  options: { jobs?: boolean } = {},
): Promise<T> {
  const logger = await createLogger({ ...config, LOG_LEVEL: process.env.LOG_LEVEL ? config.LOG_LEVEL : 'warn' }, 2);
  const { openServices } = await import('./services.js');
  const services = await openServices({ config, logger });
  try {
    await services.start(options);
    return await work(services);
  } finally {
    await services.close();
  }
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuid(value: string): string {
  if (!UUID_PATTERN.test(value)) throw new InvalidArgumentError('must be an id (a UUID).');
  return value.toLowerCase();
}

const program = new Command('hearth')
  .description('Hearth: a phone assistant for every household that remembers.')
  .showHelpAfterError();

program
  .command('serve')
  .description('run the server (HTTP, WebSockets, jobs) until SIGTERM or SIGINT')
  .action(async () => {
    const config = await loadConfig();
    const { serve } = await import('./main.js');
    await serve(config, await createLogger(config));
  });

program
  .command('migrate')
  .description('apply pending database migrations (a no-op when up to date)')
  .action(async () => {
    const config = await loadConfig();
    const applied = await withDatabase(config, async (_db, applied) => applied);
    console.log(
      applied.length === 0 ? 'Database is up to date; no migration applied.' : `Applied ${applied.join(', ')}.`,
    );
  });

const org = program.command('org').description('manage organizations');
org
  .command('create')
  .argument('<name>', 'the organization name')
  .description('create an organization and print its id')
  .action(async (name: string) => {
    const config = await loadConfig();
    const { createOrganization } = await import('./admin/organizations.js');
    const organization = await withDatabase(config, (db) => createOrganization(db.prisma, name));
    console.log(organization.id);
  });

const apikey = program.command('apikey').description('manage admin API keys');
apikey
  .command('create')
  .requiredOption('--org <id>', 'organization id', uuid)
  .option('--name <name>', 'a name to tell keys apart', 'default')
  .description('create an API key and print it (shown once; only its hash is stored)')
  .action(async (options: { org: string; name: string }) => {
    const config = await loadConfig();
    const { createApiKey } = await import('./admin/api-keys.js');
    const issued = await withDatabase(config, (db) =>
      createApiKey(db.prisma, { organizationId: options.org, name: options.name }),
    );
    console.error(`Created key "${issued.name}" (${issued.prefix}). It is shown only this once:`);
    console.log(issued.key);
  });

program
  .command('seed')
  .option('--demo', 'create the demo organization, household, members and phone line')
  .description('create sample data')
  .action(async (options: { demo?: boolean }) => {
    if (!options.demo) program.error('Say what to seed: hearth seed --demo');
    const config = await loadConfig();
    const { describeDemo, seedDemo } = await import('./admin/seed.js');
    const seed = await withServices(config, ({ db, memory }) => seedDemo({ prisma: db.prisma, memory }), {
      jobs: false,
    });
    console.log(describeDemo(seed, config.PUBLIC_URL ?? `http://localhost:${config.PORT}`));
  });

program
  .command('chat')
  .requiredOption('--household <id>', 'household id', uuid)
  .requiredOption('--member <id>', 'the member you speak as', uuid)
  .description("talk to a household's agent from the terminal, with the same memory as its phone calls")
  .action(async (options: { household: string; member: string }) => {
    const config = await loadConfig();
    const { chat } = await import('./cli/chat.js');
    await withServices(config, (services) =>
      chat(services, { householdId: options.household, memberId: options.member }),
    );
  });

program
  .command('call')
  .requiredOption('--to <number>', 'the Hearth number to call, e.g. +15555550100')
  .requiredOption('--from <number>', 'the number calling, e.g. a member’s')
  .option('--audio <wav>', 'a WAV recording to speak (any rate; converted to 8 kHz μ-law)')
  .option('--say <text>', 'a sentence to speak (needs espeak-ng)')
  .option('--server <url>', 'the running Hearth (default: http://localhost:$PORT)')
  .option('--key <key>', 'an admin API key, to print the transcript (default: $HEARTH_API_KEY)')
  .description('place a simulated phone call (as Twilio would) against a running server, and print its transcript')
  .action(
    async (options: { to: string; from: string; audio?: string; say?: string; server?: string; key?: string }) => {
      if (!options.audio === !options.say)
        program.error('Say what to speak: --audio <wav> or --say "<text>", one of them.');
      const config = await loadConfig();
      const { PUBLIC_URL: publicUrl, TWILIO_AUTH_TOKEN: authToken } = config;
      if (!publicUrl || !authToken) {
        program.error(
          'Set PUBLIC_URL and TWILIO_AUTH_TOKEN as the server has them: the call is signed as Twilio signs it.',
        );
        return;
      }
      const { placeCall } = await import('./cli/call.js');
      await placeCall({
        serverUrl: options.server ?? `http://localhost:${config.PORT}`,
        twilio: { publicUrl, authToken },
        to: options.to,
        from: options.from,
        speech: options.audio ? { audio: options.audio } : { say: options.say ?? '' },
        apiKey: options.key ?? process.env.HEARTH_API_KEY,
      });
    },
  );

try {
  await program.parseAsync();
} catch (error) {
  // Known errors are for the person at the terminal: the message, no stack.
  console.error(error instanceof HearthError ? `hearth: ${error.message}` : error);
  process.exitCode = error instanceof HearthError ? 2 : 1;
}
