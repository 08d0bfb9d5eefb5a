/**
 * The `hearth` command. Every command but `serve` opens the database, applies pending
 * migrations and does one thing; on the embedded database it stops, naming the pid, while a
 * server holds it.
 *
 * @example
 * npx hearth migrate
 * npx hearth org create "Sunrise Care"
 * npx hearth apikey create --org 0b6f… --name ops
 */
import { Command, InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { createApiKey, createOrganization, describeDemo, seedDemo } from './admin/index.js';
import { chat } from './cli/chat.js';
import { type Config, loadConfig } from './config/index.js';
import { applyMigrations, type Database, databaseTarget, openDatabase } from './db/index.js';
import { HearthError } from './errors.js';
import { createLogger } from './logger.js';
import { serve } from './main.js';
import { openServices, type Services } from './services.js';

async function withDatabase<T>(config: Config, work: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(databaseTarget(config));
  try {
    await applyMigrations(db);
    return await work(db);
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
  const logger = createLogger({ ...config, LOG_LEVEL: process.env.LOG_LEVEL ? config.LOG_LEVEL : 'warn' }, 2);
  const services = await openServices({ config, logger });
  try {
    await services.start(options);
    return await work(services);
  } finally {
    await services.close();
  }
}

function uuid(value: string): string {
  if (!z.uuid().safeParse(value).success) throw new InvalidArgumentError('must be an id (a UUID).');
  return value;
}

const program = new Command('hearth')
  .description('Hearth: a phone assistant for every household that remembers.')
  .showHelpAfterError();

program
  .command('serve')
  .description('run the server (HTTP, WebSockets, jobs) until SIGTERM or SIGINT')
  .action(async () => {
    const config = loadConfig();
    await serve(config, createLogger(config));
  });

program
  .command('migrate')
  .description('apply pending database migrations (a no-op when up to date)')
  .action(async () => {
    const config = loadConfig();
    const db = await openDatabase(databaseTarget(config));
    try {
      const applied = await applyMigrations(db);
      console.log(
        applied.length === 0 ? 'Database is up to date; no migration applied.' : `Applied ${applied.join(', ')}.`,
      );
    } finally {
      await db.close();
    }
  });

const org = program.command('org').description('manage organizations');
org
  .command('create')
  .argument('<name>', 'the organization name')
  .description('create an organization and print its id')
  .action(async (name: string) => {
    const config = loadConfig();
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
    const config = loadConfig();
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
    const config = loadConfig();
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
    const config = loadConfig();
    await withServices(config, (services) =>
      chat(services, { householdId: options.household, memberId: options.member }),
    );
  });

try {
  await program.parseAsync();
} catch (error) {
  // Known errors are for the person at the terminal: the message, no stack.
  console.error(error instanceof HearthError ? `hearth: ${error.message}` : error);
  process.exitCode = error instanceof HearthError ? 2 : 1;
}
