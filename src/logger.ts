/**
 * pino, JSON in production and pretty in a terminal. Logs carry ids, never transcripts,
 * keys or PINs (DESIGN.md §8): the redact list is the last line of defence.
 */
import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from './config/index.js';

export type { Logger };

const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-twilio-signature"]',
  '*.apiKey',
  '*.pin',
  '*.secret',
];

/**
 * Builds the process logger from the validated configuration. The server logs to stdout;
 * one-shot commands log to stderr (`fd: 2`) so their stdout carries only their result.
 */
export function createLogger(config: Pick<Config, 'LOG_LEVEL' | 'LOG_FORMAT'>, fd: 1 | 2 = 1): Logger {
  const options = { level: config.LOG_LEVEL, redact: REDACTED_PATHS, base: { service: 'hearth' } };
  if (config.LOG_FORMAT === 'pretty') {
    return pino(options, pretty({ colorize: true, ignore: 'pid,hostname,service', sync: true, destination: fd }));
  }
  return pino(options, pino.destination({ fd, sync: true }));
}
