/**
 * `/docs`: a self-contained HTML reference rendered from the OpenAPI document (no scripts, no
 * CDN; the server may have no internet), so it always matches what is served.
 */
import type { OpenApiDocument } from './openapi.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

type Json = unknown;

function escapeHtml(text: unknown): string {
  return String(text ?? '').replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char,
  );
}

function record(value: Json): Record<string, Json> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, Json>) : {};
}

/** A one-line rendering of a JSON schema: `string (uuid)`, `Household[]`, `"a" | "b"`. */
function typeOf(schemaValue: Json): string {
  const schema = record(schemaValue);
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.split('/').at(-1) ?? '';
    return `<a href="#schema-${escapeHtml(name)}">${escapeHtml(name)}</a>`;
  }
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => escapeHtml(JSON.stringify(value))).join(' | ');
  const variants = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(variants)) return variants.map(typeOf).join(' | ');
  const properties = Object.entries(record(schema.properties));
  if (properties.length > 0)
    return `{ ${properties.map(([name, inner]) => `${escapeHtml(name)}: ${typeOf(inner)}`).join(', ')} }`;
  const types = Array.isArray(schema.type) ? schema.type : [schema.type ?? 'any'];
  return types
    .map((type) => {
      if (type === 'array') return `${typeOf(schema.items)}[]`;
      return schema.format ? `${escapeHtml(type)} (${escapeHtml(schema.format)})` : escapeHtml(type);
    })
    .join(' | ');
}

function propertiesTable(schemaValue: Json): string {
  const schema = record(schemaValue);
  const properties = record(schema.properties);
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  const rows = Object.entries(properties).map(([name, property]) => {
    const details = record(property);
    const notes = [
      details.description,
      details.default === undefined ? '' : `default ${JSON.stringify(details.default)}`,
    ]
      .filter(Boolean)
      .join('; ');
    return `<tr><td><code>${escapeHtml(name)}</code>${required.has(name) ? ' *' : ''}</td><td>${typeOf(property)}</td><td>${escapeHtml(notes)}</td></tr>`;
  });
  if (rows.length === 0) return `<p>${typeOf(schema)}</p>`;
  return `<table><tr><th>field</th><th>type</th><th>notes</th></tr>${rows.join('')}</table>`;
}

function operationHtml(method: string, path: string, operationValue: Json): string {
  const operation = record(operationValue);
  const parameters = (Array.isArray(operation.parameters) ? operation.parameters : []).map(record);
  const paramRows = parameters.map(
    (parameter) =>
      `<tr><td><code>${escapeHtml(parameter.name)}</code>${parameter.required ? ' *' : ''}</td><td>${escapeHtml(parameter.in)}</td><td>${typeOf(parameter.schema)}</td><td>${escapeHtml(parameter.description)}</td></tr>`,
  );
  const body = record(record(record(operation.requestBody).content)['application/json']).schema;
  const responses = Object.entries(record(operation.responses)).map(([status, response]) => {
    const schema = record(record(record(response).content)['application/json']).schema;
    return `<li><b>${escapeHtml(status)}</b> ${escapeHtml(record(response).description)}${schema ? ` — ${typeOf(schema)}` : ''}</li>`;
  });
  return [
    `<section class="op"><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>`,
    `<p><b>${escapeHtml(operation.summary)}</b>${operation.description ? ` — ${escapeHtml(operation.description)}` : ''}</p>`,
    paramRows.length
      ? `<table><tr><th>parameter</th><th>in</th><th>type</th><th>notes</th></tr>${paramRows.join('')}</table>`
      : '',
    body ? `<p>Body: ${typeOf(body)}</p>` : '',
    `<ul>${responses.join('')}</ul></section>`,
  ].join('');
}

/** Renders the whole reference page. */
export function renderDocsPage(document: OpenApiDocument): string {
  const byTag = new Map<string, string[]>();
  for (const [path, item] of Object.entries(record(document.paths))) {
    for (const method of METHODS) {
      const operation = record(item)[method];
      if (!operation) continue;
      const tag = String((record(operation).tags as Json[] | undefined)?.[0] ?? 'Other');
      byTag.set(tag, [...(byTag.get(tag) ?? []), operationHtml(method, path, operation)]);
    }
  }
  const schemas = Object.entries(record(document.components?.schemas)).map(
    ([name, schema]) =>
      `<section id="schema-${escapeHtml(name)}"><h3>${escapeHtml(name)}</h3>${propertiesTable(schema)}</section>`,
  );
  const tags = [...byTag.keys()];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(document.info.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code{font:13px ui-monospace,monospace}table{border-collapse:collapse;margin:.5rem 0;width:100%}
td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f6f6f6}
.op{border-top:1px solid #eee;padding:.5rem 0}.m{display:inline-block;min-width:4.5rem;font-size:12px;color:#fff;
border-radius:3px;padding:0 .3rem;text-align:center}.get{background:#2b7}.post{background:#27c}.put,.patch{background:#c82}
.delete{background:#c33}h3{font-size:1rem;margin:.5rem 0}nav a{margin-right:1rem}
</style></head><body>
<h1>${escapeHtml(document.info.title)} <small>${escapeHtml(document.info.version)}</small></h1>
<p>${escapeHtml(document.info.description)}</p>
<p>Machine-readable: <a href="/v1/openapi.json">/v1/openapi.json</a> (OpenAPI ${escapeHtml(document.openapi)}).</p>
<nav>${tags.map((tag) => `<a href="#tag-${escapeHtml(tag)}">${escapeHtml(tag)}</a>`).join('')}<a href="#schemas">Schemas</a></nav>
${tags.map((tag) => `<h2 id="tag-${escapeHtml(tag)}">${escapeHtml(tag)}</h2>${(byTag.get(tag) ?? []).join('\n')}`).join('\n')}
<h2 id="schemas">Schemas</h2>
${schemas.join('\n')}
</body></html>`;
}
