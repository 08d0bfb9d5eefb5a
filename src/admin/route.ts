/**
 * One definition per admin route: its zod schemas validate the request, type the handler and
 * generate its OpenAPI operation, so the document cannot drift from what is served. Handlers
 * get validated input and the organization-scoped data layer, and return a reply; they never
 * see the request, the response or the database client.
 */
import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { Request } from 'express';
import { z } from 'zod';
import { PreconditionRequiredError, ValidationError } from '../errors.js';
import { zodDetails } from '../http.js';
import type { Scope } from './scope/index.js';

export type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';

/** What a handler gets: validated input, the If-Match version, and the tenancy-scoped data layer. */
export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** The version named by `If-Match`, on routes that read it. */
  ifMatch: number | undefined;
  scope: Scope;
}

/** What a handler returns; `etag` becomes the `ETag` header (a block's version). */
export interface Reply {
  status?: number;
  body?: unknown;
  etag?: number;
}

export interface RouteSpec<P extends z.ZodObject, Q extends z.ZodObject, B extends z.ZodType> {
  method: Method;
  /** Express syntax, e.g. `/v1/households/:householdId`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  params?: P;
  query?: Q;
  body?: B;
  /** Whether the route reads `If-Match: <version>`; 'required' answers 428 without it. */
  ifMatch?: 'required' | 'optional';
  success: { status: 200 | 201 | 204; description: string; schema?: z.ZodType; etag?: boolean };
  handler(context: RouteContext<z.output<P>, z.output<Q>, z.output<B>>): Promise<Reply>;
}

/** A defined route, its types erased so routes of every shape can be mounted together. */
export interface AdminRoute {
  readonly method: Method;
  readonly path: string;
  readonly openapi: RouteConfig;
  run(input: { req: Request; scope: Scope }): Promise<Reply>;
}

// What a route without params or query accepts: nothing (unknown query parameters are refused).
const NOTHING = z.strictObject({});

const IF_MATCH_PATTERN = /^"?(\d{1,9})"?$/;

const errorSchema = z
  .object({
    error: z.object({
      code: z.string().describe('Stable machine-readable code, e.g. not_found'),
      message: z.string().describe('What went wrong and what to do about it'),
      details: z.unknown().optional().describe('Field-level problems: [{ in, path, message }]'),
    }),
  })
  .meta({ id: 'Error' });

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request; `details` lists each problem by location and field',
  401: 'Missing, malformed, unknown or revoked API key',
  404: 'No such resource in this organization',
  409: 'Conflicts with existing data',
  412: 'If-Match names a version that is no longer current',
  413: 'Body too large',
  415: 'Body is not JSON',
  428: 'If-Match is required',
  429: 'Too many requests for this key, or too many failed authentications from this address; see Retry-After',
};

type Issue = { in?: string; path: string; message: string };

function parseIfMatch(req: Request, mode: RouteSpec<z.ZodObject, z.ZodObject, z.ZodType>['ifMatch']) {
  if (!mode) return { value: undefined, issues: [] };
  const header = req.headers['if-match'];
  if (header === undefined) {
    if (mode === 'required') {
      throw new PreconditionRequiredError(
        'Send "If-Match: <version>" with the version you read (the block\'s `version`, or its ETag).',
      );
    }
    return { value: undefined, issues: [] };
  }
  const match = IF_MATCH_PATTERN.exec(header.trim());
  if (match?.[1]) return { value: Number(match[1]), issues: [] };
  return {
    value: undefined,
    issues: [{ in: 'header', path: 'If-Match', message: 'must be a block version number, e.g. "3"' }],
  };
}

/**
 * The body as sent, undefined when there is none. An empty body means "no fields": the JSON
 * parser reads zero bytes as `{}`, so `{}` is no body on a route that takes none, and a route
 * that takes an object reads a missing body as `{}` (its required fields are then named).
 */
function sentBody(req: Request): unknown {
  const body: unknown = req.body;
  const empty = typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0;
  return empty ? undefined : body;
}

function openapiPath(path: string): string {
  return path.replace(/:(\w+)/g, '{$1}');
}

function errorResponses(spec: RouteSpec<z.ZodObject, z.ZodObject, z.ZodType>): number[] {
  const codes = [400, 401, 404, 429];
  if (spec.method === 'post' || spec.method === 'patch' || spec.method === 'put') codes.push(409);
  if (spec.body) codes.push(413, 415);
  if (spec.ifMatch) codes.push(412);
  if (spec.ifMatch === 'required') codes.push(428);
  return codes.sort();
}

function operationOf(spec: RouteSpec<z.ZodObject, z.ZodObject, z.ZodType>): RouteConfig {
  const responses: RouteConfig['responses'] = {
    [spec.success.status]: {
      description: spec.success.description,
      ...(spec.success.etag
        ? { headers: { ETag: { description: 'The block version, quoted', schema: { type: 'string' } } } }
        : {}),
      ...(spec.success.schema ? { content: { 'application/json': { schema: spec.success.schema } } } : {}),
    },
  };
  for (const status of errorResponses(spec)) {
    responses[status] = {
      description: ERROR_DESCRIPTIONS[status] ?? 'Error',
      content: { 'application/json': { schema: errorSchema } },
    };
  }
  const version = z.string().describe('The block version you read, e.g. "3" (its ETag)');
  const ifMatch = spec.ifMatch && { 'If-Match': spec.ifMatch === 'required' ? version : version.optional() };
  return {
    method: spec.method,
    path: openapiPath(spec.path),
    tags: [spec.tag],
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    security: [{ apiKey: [] }],
    request: {
      ...(spec.params ? { params: spec.params } : {}),
      ...(spec.query ? { query: spec.query } : {}),
      ...(ifMatch ? { headers: z.object(ifMatch) } : {}),
      ...(spec.body ? { body: { required: true, content: { 'application/json': { schema: spec.body } } } } : {}),
    },
    responses,
  };
}

/** Defines a route: validation, handler typing and OpenAPI operation from one spec. */
export function defineRoute<
  P extends z.ZodObject = typeof NOTHING,
  Q extends z.ZodObject = typeof NOTHING,
  B extends z.ZodType = z.ZodUndefined,
>(spec: RouteSpec<P, Q, B>): AdminRoute {
  return {
    method: spec.method,
    path: spec.path,
    openapi: operationOf(spec as unknown as RouteSpec<z.ZodObject, z.ZodObject, z.ZodType>),
    async run({ req, scope }) {
      const ifMatch = parseIfMatch(req, spec.ifMatch);
      const issues: Issue[] = [...ifMatch.issues];
      const params = (spec.params ?? NOTHING).safeParse(req.params);
      if (!params.success) issues.push(...zodDetails(params.error, 'path'));
      const query = (spec.query ?? NOTHING).safeParse(req.query);
      if (!query.success) issues.push(...zodDetails(query.error, 'query'));
      let body: z.ZodSafeParseResult<unknown> = { success: true, data: undefined };
      const sent = sentBody(req);
      if (spec.body) body = spec.body.safeParse(sent ?? {});
      else if (sent !== undefined) issues.push({ in: 'body', path: '', message: 'this route takes no body' });
      if (!body.success) issues.push(...zodDetails(body.error, 'body'));
      if (issues.length > 0 || !params.success || !query.success || !body.success) {
        const summary = issues.map((issue) => `${issue.path || issue.in || 'request'}: ${issue.message}`).join('; ');
        throw new ValidationError(`The request is invalid: ${summary}.`, { details: issues });
      }
      return spec.handler({
        params: params.data as z.output<P>,
        query: query.data as z.output<Q>,
        body: body.data as z.output<B>,
        ifMatch: ifMatch.value,
        scope,
      });
    },
  };
}
