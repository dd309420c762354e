// /openapi.json, generated from the routes' zod schemas, and /docs, a reference page built from it.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../context.ts';

type Json = Record<string, unknown>;

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function refLink(ref: string): string {
  const name = ref.split('/').at(-1) ?? ref;
  return `<a href="#schema-${escapeHtml(name)}">${escapeHtml(name)}</a>`;
}

function typeOf(schema: Json | undefined): string {
  if (!schema) return 'any';
  if (typeof schema.$ref === 'string') return refLink(schema.$ref);
  if (Array.isArray(schema.enum))
    return schema.enum.map((value) => escapeHtml(JSON.stringify(value))).join(' | ');
  if (schema.const !== undefined) return escapeHtml(JSON.stringify(schema.const));
  const union = (schema.anyOf ?? schema.oneOf) as Json[] | undefined;
  if (Array.isArray(union)) return union.map(typeOf).join(' | ');
  if (schema.type === 'array') return `${typeOf(schema.items as Json)}[]`;
  if (Array.isArray(schema.type))
    return schema.type.map((type) => escapeHtml(String(type))).join(' | ');
  if (schema.type === 'object' && schema.properties) return 'object';
  return escapeHtml(String(schema.type ?? 'any'));
}

function propertiesTable(schema: Json): string {
  const properties = (schema.properties ?? {}) as Record<string, Json>;
  const required = new Set((schema.required ?? []) as string[]);
  const rows = Object.entries(properties).map(
    ([name, property]) =>
      `<tr><td><code>${escapeHtml(name)}</code>${required.has(name) ? '' : ' <small>optional</small>'}</td>` +
      `<td>${typeOf(property)}</td><td>${escapeHtml(String(property.description ?? ''))}</td></tr>`,
  );
  if (rows.length === 0) return `<pre>${escapeHtml(JSON.stringify(schema, null, 2))}</pre>`;
  return `<table><tr><th>Field</th><th>Type</th><th>Description</th></tr>${rows.join('')}</table>`;
}

function schemaBlock(schema: Json | undefined): string {
  if (!schema) return '';
  if (schema.$ref || schema.type !== 'object') return `<p>${typeOf(schema)}</p>`;
  return propertiesTable(schema);
}

function contentOf(holder: Json | undefined): string {
  const content = (holder?.content ?? {}) as Record<string, { schema?: Json }>;
  return Object.entries(content)
    .map(
      ([type, media]) =>
        `<div class="media"><code>${escapeHtml(type)}</code>${schemaBlock(media.schema)}</div>`,
    )
    .join('');
}

function parametersTable(parameters: Json[]): string {
  if (parameters.length === 0) return '';
  const rows = parameters.map(
    (parameter) =>
      `<tr><td><code>${escapeHtml(String(parameter.name))}</code>${parameter.required ? '' : ' <small>optional</small>'}</td>` +
      `<td>${escapeHtml(String(parameter.in))}</td><td>${typeOf(parameter.schema as Json)}</td>` +
      `<td>${escapeHtml(String(parameter.description ?? (parameter.schema as Json)?.description ?? ''))}</td></tr>`,
  );
  return `<h4>Parameters</h4><table><tr><th>Name</th><th>In</th><th>Type</th><th>Description</th></tr>${rows.join('')}</table>`;
}

function operationSection(method: string, path: string, operation: Json): string {
  const id = `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, '-');
  const responses = Object.entries((operation.responses ?? {}) as Record<string, Json>)
    .map(
      ([status, response]) =>
        `<li><strong>${escapeHtml(status)}</strong> ${escapeHtml(String(response.description ?? ''))}${contentOf(response)}</li>`,
    )
    .join('');
  const body = operation.requestBody
    ? `<h4>Request body</h4>${contentOf(operation.requestBody as Json)}`
    : '';
  const auth = operation.security ? '<p class="auth">Requires a bearer token.</p>' : '';
  return `<section class="operation" id="${id}">
<h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>
<p>${escapeHtml(String(operation.summary ?? ''))}</p>${operation.description ? `<p>${escapeHtml(String(operation.description))}</p>` : ''}
${auth}${parametersTable((operation.parameters ?? []) as Json[])}${body}<h4>Responses</h4><ul>${responses}</ul></section>`;
}

/** The reference page: every operation grouped by tag, then every schema, no script, no CDN. */
export function renderReference(document: Json): string {
  const byTag = new Map<string, string[]>();
  const paths = (document.paths ?? {}) as Record<string, Record<string, Json>>;
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const tag = String((operation.tags as string[] | undefined)?.[0] ?? 'Other');
      byTag.set(tag, [...(byTag.get(tag) ?? []), operationSection(method, path, operation)]);
    }
  }
  const schemas = ((document.components as Json | undefined)?.schemas ?? {}) as Record<
    string,
    Json
  >;
  const info = (document.info ?? {}) as Json;
  const title = escapeHtml(String(info.title ?? 'API'));
  const nav = [...byTag.keys()]
    .map((tag) => `<a href="#tag-${escapeHtml(tag)}">${escapeHtml(tag)}</a>`)
    .join('');
  const tags = [...byTag.entries()]
    .map(
      ([tag, sections]) =>
        `<h2 id="tag-${escapeHtml(tag)}">${escapeHtml(tag)}</h2>${sections.join('')}`,
    )
    .join('');
  const schemaSections = Object.entries(schemas)
    .map(
      ([name, schema]) =>
        `<section class="schema" id="schema-${escapeHtml(name)}"><h3>${escapeHtml(name)}</h3>${schemaBlock({ ...schema, $ref: undefined })}</section>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><style>${STYLE}</style></head>
<body><header><h1>${title} <small>${escapeHtml(String(info.version ?? ''))}</small></h1>
<p>${escapeHtml(String(info.description ?? ''))}</p><nav>${nav}<a href="#schemas">Schemas</a><a href="/openapi.json">openapi.json</a></nav></header>
<main>${tags}<h2 id="schemas">Schemas</h2>${schemaSections}</main></body></html>`;
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1f24;background:#fafafa}
header{background:#14213d;color:#fff;padding:1rem 2rem}header a{color:#fff;margin-right:1rem}
main{max-width:960px;margin:0 auto;padding:1rem 2rem}h2{border-bottom:2px solid #ddd;margin-top:2.5rem}
.operation,.schema{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}
.method{display:inline-block;min-width:4.5em;text-align:center;border-radius:4px;color:#fff;font-size:.8em;padding:.1em .4em}
.get{background:#2b6cb0}.post{background:#2f855a}.patch,.put{background:#b7791f}.delete{background:#c53030}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #e2e2e2;padding:.3rem .5rem;text-align:left;vertical-align:top}
code{font-family:ui-monospace,monospace;font-size:.92em}pre{background:#f3f3f3;padding:.5rem;overflow:auto}
.auth{color:#555;font-style:italic}small{color:#777}a:focus{outline:2px solid #f6ad55}`;

/** Registers GET /openapi.json and GET /docs on the root app; the document is built on first use. */
export function registerOpenApiRoutes(
  app: OpenAPIHono<AppEnv>,
  info: { version: string; serverUrl?: string | undefined },
) {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'A token from POST /oauth/token.',
  });
  let document: Json | undefined;
  const build = (): Json => {
    document ??= app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: {
        title: 'Verihook relay API',
        version: info.version,
        description: 'Organizations, their domains, and the events recorded for every change.',
      },
      ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    }) as unknown as Json;
    return document;
  };
  app.get('/openapi.json', (c) => c.json(build()));
  app.get('/docs', (c) => {
    c.header(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    );
    return c.html(renderReference(build()));
  });
}
