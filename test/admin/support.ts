/**
 * Helpers for the admin API tests: an HTTP client that speaks to the real server, organizations
 * with keys (the API cannot create organizations), and snapshots of every table so a test can
 * prove a rejected request changed nothing.
 */
import { createApiKey, createOrganization } from '../../src/admin/index.js';
import type { Database } from '../../src/db/index.js';

export interface ErrorBody {
  error: { code: string; message: string; details?: { in: string; path: string; message: string }[] };
}

export interface ApiResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

export interface RequestOptions {
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (with the JSON content type unless `headers` says otherwise); bytes for a compressed body. */
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
}

/** A client for one API key (or none). */
export class Api {
  readonly #url: string;
  readonly #key: string | undefined;

  constructor(url: string, key?: string) {
    this.#url = url;
    this.#key = key;
  }

  async request<T = ErrorBody>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = {};
    if (this.#key) headers.authorization = `Bearer ${this.#key}`;
    const body = options.raw ?? (options.json === undefined ? undefined : JSON.stringify(options.json));
    if (body !== undefined) headers['content-type'] = 'application/json';
    Object.assign(headers, options.headers);
    const response = await fetch(`${this.#url}${path}`, { method, headers, body });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T, headers: response.headers };
  }

  get<T = ErrorBody>(path: string, options?: RequestOptions) {
    return this.request<T>('GET', path, options);
  }

  post<T = ErrorBody>(path: string, json?: unknown, options?: RequestOptions) {
    return this.request<T>('POST', path, { ...options, json });
  }

  patch<T = ErrorBody>(path: string, json: unknown, options?: RequestOptions) {
    return this.request<T>('PATCH', path, { ...options, json });
  }

  put<T = ErrorBody>(path: string, json: unknown, options?: RequestOptions) {
    return this.request<T>('PUT', path, { ...options, json });
  }

  delete<T = ErrorBody>(path: string, options?: RequestOptions) {
    return this.request<T>('DELETE', path, options);
  }
}

/** A new organization with an API key, and a client using that key. */
export async function newTenant(db: Database, url: string, name: string) {
  const organization = await createOrganization(db.prisma, name);
  const issued = await createApiKey(db.prisma, { organizationId: organization.id, name: `${name} key` });
  return { organizationId: organization.id, key: issued, api: new Api(url, issued.key) };
}

/** Every application table (public schema, not Prisma's bookkeeping). */
export async function applicationTables(db: Database): Promise<string[]> {
  const rows = await db.prisma.$queryRaw<{ table_name: string }[]>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'
    ORDER BY table_name`;
  return rows.map((row) => row.table_name);
}

/** Tables that have `column`, e.g. every table keyed by household_id. */
export async function tablesWithColumn(db: Database, column: string): Promise<string[]> {
  const rows = await db.prisma.$queryRaw<{ table_name: string }[]>`
    SELECT table_name FROM information_schema.columns
    WHERE table_schema = 'public' AND column_name = ${column}
    ORDER BY table_name`;
  return rows.map((row) => row.table_name);
}

/**
 * Row count and a digest of every row of every table: equal snapshots mean nothing changed.
 * `api_keys.last_used_at` is left out: any authenticated request may refresh it.
 */
export async function snapshot(db: Database): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const table of await applicationTables(db)) {
    const [row] = await db.prisma.$queryRawUnsafe<{ rows: bigint; digest: string | null }[]>(
      `SELECT count(*) AS rows, md5(string_agg(r, '|' ORDER BY r)) AS digest
       FROM (SELECT (to_jsonb(t) - 'last_used_at' - 'embedding')::text AS r FROM "${table}" t) rows`,
    );
    result[table] = `${row?.rows} ${row?.digest}`;
  }
  return result;
}

/** How many rows of `table` have `column` = `value`. */
export async function countWhere(db: Database, table: string, column: string, value: string): Promise<number> {
  const [row] = await db.prisma.$queryRawUnsafe<{ rows: bigint }[]>(
    `SELECT count(*) AS rows FROM "${table}" WHERE "${column}"::text = $1`,
    value,
  );
  return Number(row?.rows ?? 0);
}
