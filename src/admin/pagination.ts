/**
 * Cursor pagination for every admin list: `limit` (default 50, at most 200; searches and block
 * history at most what the memory engine serves) and an opaque `cursor`; responses are
 * `{ data, nextCursor }`. Lists are keyset-paged over (timestamp, id) so inserts never shift a
 * page; ranked searches page by page number inside the same opaque cursor.
 */
import { z } from 'zod';
import { MEMORY_LIMITS } from '../memory/index.js';
import { isStorableInstant, PG_INT_MAX, uuid } from './schemas.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

const keysetSchema = z.strictObject({
  at: z.iso.datetime().refine((at) => isStorableInstant(new Date(at))),
  id: uuid,
});
const pageNumberSchema = z.strictObject({ page: z.number().int().min(1).max(PG_INT_MAX) });
const beforeVersionSchema = z.strictObject({ before: z.number().int().min(1).max(PG_INT_MAX) });

export type Keyset = { at: Date; id: string };
export type Direction = 'asc' | 'desc';

/** A page of results, as every list route answers. */
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

function encode(payload: unknown): string {
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

/** A query field that decodes an opaque cursor into `shape`, failing with a field-level message. */
function cursorField<T extends z.ZodType>(shape: T) {
  return z
    .string()
    .max(500)
    .transform((raw, ctx): z.output<T> => {
      let payload: unknown;
      try {
        payload = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
      } catch {
        payload = undefined;
      }
      const parsed = shape.safeParse(payload);
      if (parsed.success) return parsed.data;
      ctx.addIssue({ code: 'custom', message: 'is not a cursor this list gave out; start again without it' });
      return z.NEVER;
    })
    .optional()
    .describe("Opaque cursor: the previous page's `nextCursor`");
}

function limitField(max: number) {
  return z.coerce
    .number()
    .int()
    .min(1)
    .max(max)
    .default(Math.min(DEFAULT_PAGE_SIZE, max))
    .describe(`Items per page (1–${max})`);
}

/** `limit` + keyset `cursor`, for chronological lists. */
export const keysetQuery = {
  limit: limitField(MAX_PAGE_SIZE),
  cursor: cursorField(keysetSchema.transform(({ at, id }): Keyset => ({ at: new Date(at), id }))),
};

/** `limit` + page-number `cursor`, for ranked searches (the engine's page size). */
export const rankedQuery = {
  limit: limitField(MEMORY_LIMITS.searchLimitMax),
  cursor: cursorField(pageNumberSchema.transform(({ page }) => page)),
};

/** `limit` + `cursor` over block versions, newest first (the engine's page size). */
export const versionQuery = {
  limit: limitField(MEMORY_LIMITS.historyLimitMax),
  cursor: cursorField(beforeVersionSchema.transform(({ before }) => before)),
};

/** The response envelope of a list of `item`. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    data: z.array(item),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
  });
}

/** Prisma `where` fragment selecting rows after `cursor` in (field, id) order. */
export function keysetWhere<F extends string>(field: F, cursor: Keyset | undefined, direction: Direction) {
  if (!cursor) return {};
  const beyond = direction === 'asc' ? 'gt' : 'lt';
  return {
    OR: [
      { [field]: { [beyond]: cursor.at } } as Record<F, Record<typeof beyond, Date>>,
      { [field]: cursor.at, id: { [beyond]: cursor.id } } as Record<F, Date> & { id: Record<typeof beyond, string> },
    ],
  };
}

/** Prisma `orderBy` for (field, id) in `direction`. */
export function keysetOrder<F extends string>(field: F, direction: Direction) {
  return [{ [field]: direction } as Record<F, Direction>, { id: direction }];
}

/** Cuts `rows` (fetched with `take: limit + 1`) to a page; the extra row says whether more exist. */
export function keysetPage<T extends { id: string }>(rows: T[], limit: number, keyOf: (row: T) => Date): Page<T> {
  const data = rows.slice(0, limit);
  const last = data.at(-1);
  const nextCursor = rows.length > limit && last ? encode({ at: keyOf(last).toISOString(), id: last.id }) : null;
  return { data, nextCursor };
}

// Postgres orders uuids bytewise, which is plain string order of their lowercase hex form.
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A page of an in-memory list (small lists such as a household's blocks), same cursors as the database. */
export function pageInMemory<T extends { id: string }>(
  items: T[],
  input: { limit: number; cursor?: Keyset | undefined; keyOf: (item: T) => Date },
): Page<T> {
  const ordered = [...items].sort(
    (a, b) => input.keyOf(a).getTime() - input.keyOf(b).getTime() || compareIds(a.id, b.id),
  );
  const { cursor } = input;
  const after = cursor
    ? ordered.filter((item) => {
        const at = input.keyOf(item).getTime();
        return at > cursor.at.getTime() || (at === cursor.at.getTime() && item.id > cursor.id);
      })
    : ordered;
  return keysetPage(after.slice(0, input.limit + 1), input.limit, input.keyOf);
}

/** Next-page cursor of a ranked search that reported `hasMore`. */
export function nextPageCursor(page: number, hasMore: boolean): string | null {
  return hasMore ? encode({ page: page + 1 }) : null;
}

/** Next-page cursor of a version history whose last item is `version`. */
export function nextVersionCursor(lastVersion: number | undefined, hasMore: boolean): string | null {
  return hasMore && lastVersion !== undefined ? encode({ before: lastVersion }) : null;
}
