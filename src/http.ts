/**
 * The HTTP edge's shared plumbing: request ids and logging, JSON bodies with clear errors,
 * and the one error handler that turns `HearthError`s into `{ error: { code, message, details } }`.
 * Handlers throw; nothing else writes an error response.
 */
import { randomUUID } from 'node:crypto';
import zlib from 'node:zlib';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import { ZodError } from 'zod';
import {
  HearthError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from './errors.js';
import type { Logger } from './logger.js';

const REQUEST_ID_HEADER = 'x-request-id';
const REQUEST_ID_PATTERN = /^[\w.:-]{1,128}$/;
const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * A request URL's path, without the query: queries carry what people said (`/recall?q=…`), and
 * logs carry ids, not content (DESIGN.md §8).
 */
export function pathOf(url: string | undefined): string {
  return url?.split(/[?#]/, 1)[0] ?? '';
}

/** Logs each request (method and path, never the query) with an id, reusing a well-formed `X-Request-Id`. */
export function requestLogging(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    genReqId(req, res) {
      const incoming = req.headers[REQUEST_ID_HEADER];
      const id = typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
      res.setHeader(REQUEST_ID_HEADER, id);
      return id;
    },
    customLogLevel(_req, res, error) {
      if (error || res.statusCode >= 500) return 'error';
      return res.statusCode >= 400 ? 'warn' : 'info';
    },
    // Ids and shapes only: bodies may hold transcripts, PINs or keys.
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({
        id: req.id,
        method: req.method,
        path: pathOf(req.url),
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}

/**
 * Parses JSON bodies up to `limitBytes`. A body sent with another content type gets 415,
 * so a client never has its form-encoded fields silently ignored.
 */
export function jsonBody(limitBytes: number): RequestHandler[] {
  const requireJson: RequestHandler = function requireJson(req, _res, next) {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (METHODS_WITH_BODY.has(req.method) && hasBody && !req.is('application/json')) {
      throw new UnsupportedMediaTypeError(
        `Send the body as JSON with "Content-Type: application/json" (got ${JSON.stringify(req.headers['content-type'] ?? 'none')}).`,
      );
    }
    next();
  };
  return [requireJson, express.json({ limit: limitBytes, strict: false })];
}

/** Parses form-encoded bodies (Twilio's webhooks) up to `limitBytes`; any other content type gets 415. */
export function formBody(limitBytes: number): RequestHandler[] {
  const requireForm: RequestHandler = function requireForm(req, _res, next) {
    if (!req.is('application/x-www-form-urlencoded')) {
      throw new UnsupportedMediaTypeError(
        `Send the body form-encoded, as Twilio does ("Content-Type: application/x-www-form-urlencoded"; got ${JSON.stringify(req.headers['content-type'] ?? 'none')}).`,
      );
    }
    next();
  };
  return [requireForm, express.urlencoded({ extended: false, limit: limitBytes, parameterLimit: 200 })];
}

/** 404 for any route nobody serves. */
export const unknownRoute: RequestHandler = function unknownRoute(req) {
  throw new NotFoundError(`No route ${req.method} ${req.path}. See /v1/openapi.json for the API.`);
};

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  /** Set by http-errors: the message is meant for the client (every 4xx). */
  expose?: boolean;
  limit?: number;
  encoding?: string;
}

// What body-parser (behind express.json) decompresses; zstd only where Node's zlib has it.
const BODY_ENCODINGS = ['identity', 'gzip', 'deflate', 'br', ...('createZstdDecompress' in zlib ? ['zstd'] : [])];

/**
 * Maps body-parser's failures onto our error family. A failure it has no type for (a body that
 * is not the gzip its Content-Encoding says) still carries the parser's own 4xx status.
 */
function fromBodyParser(error: BodyParserError, contentEncoding: string | undefined): HearthError | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return new ValidationError(`The body is not valid JSON: ${error.message}`);
    case 'entity.too.large':
      return new PayloadTooLargeError(`The body is larger than the limit of ${error.limit} bytes.`);
    case 'encoding.unsupported':
      return new UnsupportedMediaTypeError(
        `Content-Encoding ${JSON.stringify(error.encoding ?? contentEncoding ?? '')} is not supported; ` +
          `send the body with one of: ${BODY_ENCODINGS.join(', ')}.`,
      );
    case 'charset.unsupported':
      return new UnsupportedMediaTypeError(error.message);
  }
  if (!error.expose || error.status === undefined || error.status < 400 || error.status >= 500) return undefined;
  if (error.status === 413) return new PayloadTooLargeError(error.message);
  if (error.status === 415) return new UnsupportedMediaTypeError(error.message);
  const encoded = contentEncoding && contentEncoding !== 'identity' ? ` as ${contentEncoding}` : '';
  return new ValidationError(
    `The body could not be read${encoded} (${error.message}): send it as its Content-Encoding says, or uncompressed.`,
  );
}

/** Field-level details for a zod failure: `[{ path: 'phone', message: '…' }]`, with `in` ('body', 'query', …) when known. */
export function zodDetails(error: ZodError, location?: string): { in?: string; path: string; message: string }[] {
  return error.issues.map((issue) => ({
    ...(location ? { in: location } : {}),
    path: issue.path.join('.'),
    message: issue.message,
  }));
}

/** What a client is told about a failure: the status, and a message it can act on. */
export interface PublicError {
  status: number;
  code: string;
  message: string;
  details?: unknown;
}

/**
 * An error handler that writes each failure in `format`'s body (Hearth's `{ error }`, or another
 * API's shape); unexpected errors are logged, never shown.
 */
export function errorResponder(format: (error: PublicError, res: express.Response) => unknown): ErrorRequestHandler {
  return function errorHandler(error: unknown, req, res, next) {
    let known: HearthError | undefined;
    if (error instanceof HearthError) known = error;
    else if (error instanceof ZodError)
      known = new ValidationError('The request is invalid.', { details: zodDetails(error) });
    else if (error instanceof Error) known = fromBodyParser(error as BodyParserError, req.headers['content-encoding']);

    if (!known || known.httpStatus >= 500) req.log.error({ err: error }, 'request failed');
    // Too late for an error body: express's own handler ends the half-sent response by closing the socket.
    if (res.headersSent) {
      next(error);
      return;
    }
    const status = known?.httpStatus ?? 500;
    const body = format(
      {
        status,
        code: known?.code ?? 'internal_error',
        message:
          known?.message ?? `Something went wrong on our side. Quote request id ${String(req.id)} when reporting it.`,
        ...(known?.details === undefined ? {} : { details: known.details }),
      },
      res,
    );
    res.status(status).json(body);
  };
}

/** The one place a Hearth API error becomes a response: `{ error: { code, message, details } }`. */
export const errorHandler: ErrorRequestHandler = errorResponder(({ status: _status, ...error }) => ({ error }));
