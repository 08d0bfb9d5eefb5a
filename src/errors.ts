/**
 * Hearth's error family. Only `HearthError` subclasses cross a module boundary; the HTTP
 * edge turns them into `{ error: { code, message, details } }` with their `httpStatus`.
 */
export interface HearthErrorOptions {
  details?: unknown;
  cause?: unknown;
}

/** Base class: a message a user can act on, a stable machine code and an HTTP status. */
export class HearthError extends Error {
  readonly code: string = 'internal_error';
  readonly httpStatus: number = 500;
  readonly details: unknown;

  constructor(message: string, options: HearthErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details;
  }
}

/** The input is malformed or breaks a rule (400). */
export class ValidationError extends HearthError {
  override readonly code = 'invalid_request';
  override readonly httpStatus = 400;
}

/** Missing or unusable credentials (401). */
export class UnauthorizedError extends HearthError {
  override readonly code = 'unauthorized';
  override readonly httpStatus = 401;
}

/** The request is authenticated as someone who may not do this, e.g. a webhook whose signature does not verify (403). */
export class ForbiddenError extends HearthError {
  override readonly code = 'forbidden';
  override readonly httpStatus = 403;
}

/** The resource does not exist, or belongs to another organization (404, never 403). */
export class NotFoundError extends HearthError {
  override readonly code = 'not_found';
  override readonly httpStatus = 404;
}

/** The write conflicts with the current state (409). */
export class ConflictError extends HearthError {
  override readonly code = 'conflict';
  override readonly httpStatus = 409;
}

/** The body is larger than the server accepts (413). */
export class PayloadTooLargeError extends HearthError {
  override readonly code = 'payload_too_large';
  override readonly httpStatus = 413;
}

/** The body is not in a format the route accepts (415). */
export class UnsupportedMediaTypeError extends HearthError {
  override readonly code = 'unsupported_media_type';
  override readonly httpStatus = 415;
}

/** A feature Hearth does not offer, e.g. one of Letta's it has no counterpart for (501). */
export class NotImplementedError extends HearthError {
  override readonly code = 'not_implemented';
  override readonly httpStatus = 501;
}

/** A dependency (database, model provider, Twilio) is unreachable or failed (503). */
export class UnavailableError extends HearthError {
  override readonly code = 'unavailable';
  override readonly httpStatus = 503;
}

/** Start-up configuration is wrong; the message names the variable. */
export class ConfigError extends HearthError {
  override readonly code = 'config_error';
}

/** The embedded database directory is held by another process. */
export class DataDirLockedError extends HearthError {
  override readonly code = 'data_dir_locked';
  override readonly httpStatus = 503;
  constructor(
    message: string,
    readonly pid: number,
  ) {
    super(message);
  }
}

/** A migration failed to apply; the database was left as it was before it. */
export class MigrationError extends HearthError {
  override readonly code = 'migration_failed';
}

/** A conditional write named a version that is no longer current (412). */
export class PreconditionFailedError extends HearthError {
  override readonly code = 'precondition_failed';
  override readonly httpStatus = 412;
}

/** A write that must be conditional came without `If-Match` (428). */
export class PreconditionRequiredError extends HearthError {
  override readonly code = 'precondition_required';
  override readonly httpStatus = 428;
}

/** Too many requests for this key; retry after the time the response names (429). */
export class RateLimitedError extends HearthError {
  override readonly code = 'rate_limited';
  override readonly httpStatus = 429;
}

/** A dependency answered but refused the request (a rejected key, an unknown model): fix the configuration (502). */
export class UpstreamError extends HearthError {
  override readonly code = 'upstream_error';
  override readonly httpStatus = 502;
}
