/**
 * The wire conventions `@letta-ai/letta-client` relies on (DESIGN.md §9): prefixed ids, lists as
 * bare arrays paged by `before`/`after`/`limit`/`order`, arrays as repeated query keys, errors as
 * `{ "detail": … }` with `x-should-retry: false` when a retry cannot help, and routes whose input
 * is validated by zod before the handler sees it.
 */
import type express from 'express';
import { z } from 'zod';
import { NotFoundError, ValidationError } from '../errors.js';
import { errorResponder, zodDetails } from '../http.js';

/** Letta's id prefixes, each over the uuid of the Hearth row it names. */
export type IdKind = 'agent' | 'block' | 'message' | 'passage' | 'identity' | 'tool';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** `agent-<uuid>` for a household's uuid, and so on. */
export function lettaId(kind: IdKind, uuid: string): string {
  return `${kind}-${uuid}`;
}

/** A path or body field holding a Letta id of `kind`; parses to the Hearth uuid. */
export function idOf(kind: IdKind) {
  const pattern = new RegExp(`^${kind}-(${UUID})$`, 'i');
  return z.string().transform((raw, ctx) => {
    const uuid = pattern.exec(raw)?.[1];
    if (uuid) return uuid.toLowerCase();
    ctx.addIssue({ code: 'custom', message: `must be a ${kind} id like "${kind}-<uuid>", got ${JSON.stringify(raw)}` });
    return z.NEVER;
  });
}

/** A query parameter that may repeat (`tags=a&tags=b`); one occurrence is a one-item array. */
export function repeated<T extends z.ZodType>(item: T) {
  return z.preprocess((value) => (value === undefined || Array.isArray(value) ? value : [value]), z.array(item));
}

/** A query flag: `true`/`false` as text. */
export const queryFlag = z.enum(['true', 'false']).transform((value) => value === 'true');

/** The cursor fields every Letta list takes. */
export function listQuery<K extends IdKind>(kind: K, defaults: { limit: number; order: 'asc' | 'desc'; max?: number }) {
  return {
    before: idOf(kind).optional(),
    after: idOf(kind).optional(),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(defaults.max ?? 100)
      .default(defaults.limit),
    order: z.enum(['asc', 'desc']).default(defaults.order),
    order_by: z.literal('created_at').optional(),
  };
}

export type ListQuery = { before?: string; after?: string; limit: number; order: 'asc' | 'desc' };

/** A row's place in a list ordered by (created_at, id). */
export type Position = { createdAt: Date; id: string };

/**
 * The `where` and `orderBy` of one page: after (or before) `cursor` in the list's `order`. A page
 * before the cursor is read nearest-first and reversed, so both directions return `order`.
 */
export function pageOf(query: ListQuery, cursor: Position | undefined) {
  const backwards = query.before !== undefined;
  const ascending = (query.order === 'asc') !== backwards;
  const past = ascending ? 'gt' : 'lt';
  const where = cursor
    ? { OR: [{ createdAt: { [past]: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { [past]: cursor.id } }] }
    : {};
  const direction = ascending ? ('asc' as const) : ('desc' as const);
  return {
    where,
    orderBy: [{ createdAt: direction }, { id: direction }],
    take: query.limit,
    /** Puts a page read backwards into the list's order. */
    arrange: <T>(rows: T[]): T[] => (backwards ? rows.reverse() : rows),
  };
}

/**
 * One page of a list held in memory (tools, an agent's blocks), in the query's order, after or
 * before the item with the cursor's id; `NotFoundError` when the cursor names no item of it.
 */
export function pageInMemory<T extends { id: string }>(items: T[], query: ListQuery, kind: IdKind): T[] {
  const ordered = query.order === 'asc' ? [...items] : [...items].reverse();
  const cursor = query.before ?? query.after;
  if (cursor === undefined) return ordered.slice(0, query.limit);
  const at = ordered.findIndex((item) => item.id === lettaId(kind, cursor));
  if (at === -1) {
    throw new NotFoundError(
      `The cursor names no ${kind} of this list: ${lettaId(kind, cursor)}. Start again without it.`,
    );
  }
  return query.before === undefined
    ? ordered.slice(at + 1, at + 1 + query.limit)
    : ordered.slice(Math.max(0, at - query.limit), at);
}

/** The cursor a list query names, if any; `NotFoundError` when it names nothing in the list. */
export async function cursorOf(
  query: ListQuery,
  find: (id: string) => Promise<Position | null>,
  what: string,
): Promise<Position | undefined> {
  const id = query.before ?? query.after;
  if (id === undefined) return undefined;
  const position = await find(id);
  if (!position) throw new NotFoundError(`The cursor names no ${what} of this list: ${id}. Start again without it.`);
  return position;
}

/** What a Letta route's handler gets: validated input, and the request for the scope. */
export interface LettaContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  req: express.Request;
  res: express.Response;
}

/** A route's schemas; the handler returns the JSON body, or undefined once it has answered itself (a stream). */
export interface LettaRouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  params?: P;
  query?: Q;
  body?: B;
  status?: number;
  handler(context: LettaContext<z.output<P>, z.output<Q>, z.output<B>>): Promise<unknown>;
}

const NOTHING = z.strictObject({});

/** An express handler that validates the request against `spec` and sends what the handler returns as JSON. */
export function lettaRoute<
  P extends z.ZodType = typeof NOTHING,
  Q extends z.ZodType = typeof NOTHING,
  B extends z.ZodType = z.ZodUndefined,
>(spec: LettaRouteSpec<P, Q, B>): express.RequestHandler {
  return async function letta(req, res) {
    const params = (spec.params ?? NOTHING).safeParse(req.params);
    const query = (spec.query ?? NOTHING).safeParse(req.query);
    const sent = hasBody(req) ? req.body : undefined;
    const body = spec.body
      ? spec.body.safeParse(sent ?? {})
      : sent === undefined
        ? { success: true as const, data: undefined }
        : { success: false as const, error: undefined };
    const issues = [
      ...(params.success ? [] : zodDetails(params.error, 'path')),
      ...(query.success ? [] : zodDetails(query.error, 'query')),
      ...(body.success ? [] : body.error ? zodDetails(body.error, 'body') : [{ path: '', message: 'takes no body' }]),
    ];
    if (!params.success || !query.success || !body.success) {
      const summary = issues.map((issue) => `${issue.path || 'body'}: ${issue.message}`).join('; ');
      throw new ValidationError(`The request is invalid: ${summary}.`, { details: issues });
    }
    const reply = await spec.handler({
      params: params.data as z.output<P>,
      query: query.data as z.output<Q>,
      body: body.data as z.output<B>,
      req,
      res,
    });
    if (res.headersSent) return;
    res.setHeader('Cache-Control', 'no-store');
    // The client reads `null` for an empty success; Letta answers deletes with it too.
    res.status(spec.status ?? 200).json(reply ?? null);
  };
}

function hasBody(req: express.Request): boolean {
  const body: unknown = req.body;
  return !(body === undefined || (typeof body === 'object' && body !== null && Object.keys(body).length === 0));
}

/**
 * Statuses a retry fixes without doing anything twice: the request was refused before it ran.
 * Anything else tells Letta's client not to resend: a message's turn may have started (its text
 * is in recall), and a second one would repeat it.
 */
const RETRYABLE = new Set([408, 429]);

/** Errors as Letta's server writes them: `{ "detail": "…" }`. */
export const lettaErrors = errorResponder((error, res) => {
  res.setHeader('x-should-retry', String(RETRYABLE.has(error.status)));
  return { detail: error.message };
});
