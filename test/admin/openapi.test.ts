/** The OpenAPI document is structurally valid OpenAPI 3.1 and lists exactly the routes the server serves. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Database } from '../../src/db/index.js';
import { MEMORY_LIMITS } from '../../src/memory/index.js';
import { createTestDatabase } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { Api } from './support.js';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

const parameterSchema = z.object({
  name: z.string().min(1),
  in: z.enum(['query', 'header', 'path', 'cookie']),
  required: z.boolean().optional(),
  schema: z.record(z.string(), z.unknown()),
});
const responseSchema = z.object({
  description: z.string().min(1),
  content: z.record(z.string(), z.object({ schema: z.unknown() })).optional(),
  headers: z.record(z.string(), z.unknown()).optional(),
});
const operationSchema = z.object({
  tags: z.array(z.string()).min(1),
  summary: z.string().min(1),
  parameters: z.array(parameterSchema).optional(),
  requestBody: z
    .object({ content: z.record(z.string(), z.object({ schema: z.unknown() })), required: z.boolean().optional() })
    .optional(),
  responses: z
    .record(z.string().regex(/^([1-5]\d\d|default)$/), responseSchema)
    .refine((responses) => Object.keys(responses).length > 0, 'an operation needs at least one response'),
  security: z.array(z.record(z.string(), z.array(z.string()))).optional(),
});
const documentSchema = z.object({
  openapi: z.string().regex(/^3\.1\.\d+$/),
  info: z.object({ title: z.string().min(1), version: z.string().min(1), description: z.string().optional() }),
  paths: z.record(z.string().startsWith('/'), z.partialRecord(z.enum(METHODS), operationSchema)),
  components: z.object({
    schemas: z.record(z.string(), z.record(z.string(), z.unknown())),
    securitySchemes: z.record(z.string(), z.object({ type: z.string() })),
  }),
  security: z.array(z.record(z.string(), z.array(z.string()))).optional(),
});
type Document = z.infer<typeof documentSchema>;

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every (METHOD path) the express app routes, in OpenAPI path syntax. */
function servedRoutes(stack: Layer[]): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const path = layer.route.path.replace(/:(\w+)/g, '{$1}');
      return Object.keys(layer.route.methods).map((method) => `${method.toUpperCase()} ${path}`);
    }
    return layer.handle?.stack ? servedRoutes(layer.handle.stack) : [];
  });
}

function documentedRoutes(document: Document): string[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
  );
}

/** Every `$ref` string anywhere in `value`. */
function refs(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refs);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, inner]) =>
      key === '$ref' && typeof inner === 'string' ? [inner] : refs(inner),
    );
  }
  return [];
}

let db: Database;
let server: TestServer;
let raw: unknown;
let document: Document;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db);
  const response = await new Api(server.url).get<unknown>('/v1/openapi.json');
  expect(response.status).toBe(200);
  raw = response.body;
  document = documentSchema.parse(raw);
});
afterAll(async () => {
  await server.close();
  await db.close();
});

describe('/v1/openapi.json', () => {
  it('is served without a key and is OpenAPI 3.1 in structure', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.components.securitySchemes.apiKey).toMatchObject({ type: 'http' });
  });

  it('resolves every $ref to a component', () => {
    const all = refs(raw);
    expect(all.length).toBeGreaterThan(20);
    for (const ref of all) {
      const [, section, name] = /^#\/components\/(\w+)\/(.+)$/.exec(ref) ?? [];
      expect(section, ref).toBe('schemas');
      expect(document.components.schemas, ref).toHaveProperty([name ?? '']);
    }
  });

  it('declares each path template parameter as a required path parameter, and no others', () => {
    for (const [path, item] of Object.entries(document.paths)) {
      const inTemplate = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
      for (const [method, operation] of Object.entries(item)) {
        const declared = (operation.parameters ?? []).filter((parameter) => parameter.in === 'path');
        expect(declared.map((parameter) => parameter.name).sort(), `${method} ${path}`).toEqual(inTemplate);
        expect(
          declared.every((parameter) => parameter.required === true),
          `${method} ${path}`,
        ).toBe(true);
      }
    }
  });

  it('lists every route the server serves, and only those', () => {
    const served = servedRoutes((server.server.app as unknown as { router: { stack: Layer[] } }).router.stack);
    expect(served.length).toBeGreaterThan(40);
    expect(new Set(served).size).toBe(served.length);
    expect(documentedRoutes(document).sort()).toEqual(served.sort());
  });

  it("advertises the memory engine's limits, not larger ones of its own", () => {
    const limitOf = (path: string) =>
      document.paths[path]?.get?.parameters?.find((parameter) => parameter.name === 'limit')?.schema;
    const household = '/v1/households/{householdId}';
    expect(limitOf(`${household}/passages/search`)).toMatchObject({ maximum: MEMORY_LIMITS.searchLimitMax });
    expect(limitOf(`${household}/recall`)).toMatchObject({ maximum: MEMORY_LIMITS.searchLimitMax });
    expect(limitOf(`${household}/blocks/{label}/history`)).toMatchObject({ maximum: MEMORY_LIMITS.historyLimitMax });
    const passage = document.components.schemas.PassageCreate as {
      properties: { text: unknown; tags: { maxItems?: number; items: unknown } };
    };
    expect(passage.properties.text).toMatchObject({ maxLength: MEMORY_LIMITS.passageTextMaxLength });
    expect(passage.properties.tags).toMatchObject({
      maxItems: MEMORY_LIMITS.tagsMax,
      items: { maxLength: MEMORY_LIMITS.tagMaxLength },
    });
    const block = document.components.schemas.BlockCreate as { properties: { label: unknown; charLimit: unknown } };
    expect(block.properties.label).toMatchObject({ maxLength: MEMORY_LIMITS.blockLabelMaxLength });
    expect(block.properties.charLimit).toMatchObject({ maximum: MEMORY_LIMITS.charLimitMax });
  });

  it('describes request bodies as closed objects, so unknown fields are documented as refused', () => {
    const households = document.paths['/v1/households']?.post?.requestBody?.content['application/json']?.schema;
    const [, name] = /([^/]+)$/.exec(refs(households)[0] ?? '') ?? [];
    expect(document.components.schemas[name ?? '']).toMatchObject({ additionalProperties: false });
  });
});

describe('/docs', () => {
  it('is a self-contained HTML page naming every path', async () => {
    const response = await fetch(`${server.url}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    expect(html).not.toMatch(/<script|https?:\/\/(?!localhost)/);
    for (const path of Object.keys(document.paths)) expect(html).toContain(`<code>${path}</code>`);
  });
});
