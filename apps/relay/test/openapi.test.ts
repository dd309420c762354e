import { DomainType, EVENT_TYPES } from '@verihook/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, openTestBackend, readJson, type TestApp, type TestBackend } from './helpers.ts';

describe('the OpenAPI document and reference page', () => {
  let testBackend: TestBackend;
  let app: TestApp;

  beforeAll(async () => {
    testBackend = await openTestBackend('pglite', 'openapi');
    app = buildApp(testBackend.database);
  });
  afterAll(async () => testBackend?.dispose());

  it('describes every route, generated from the schemas the routes validate with', async () => {
    const response = await app.request('/openapi.json');
    const document = await readJson(response);
    const operations = Object.entries(
      document.paths as Record<string, Record<string, unknown>>,
    ).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );

    expect(response.status).toBe(200);
    expect(document.openapi).toBe('3.1.0');
    expect(operations.sort()).toEqual([
      'DELETE /api/v1/organizations/{id}',
      'DELETE /api/v1/organizations/{id}/portal_links/{link_id}',
      'DELETE /api/v1/organizations/{id}/portal_sessions',
      'DELETE /api/v1/organizations/{organization_id}/domains/{id}',
      'DELETE /api/v1/webhooks/endpoints/{id}',
      'GET /api/v1/events',
      'GET /api/v1/events/{id}/messages',
      'GET /api/v1/organizations',
      'GET /api/v1/organizations/{id}',
      'GET /api/v1/organizations/{organization_id}/domains',
      'GET /api/v1/organizations/{organization_id}/domains/{id}',
      'GET /api/v1/webhooks/endpoints',
      'GET /api/v1/webhooks/endpoints/{id}',
      'GET /api/v1/webhooks/endpoints/{id}/attempts',
      'GET /api/v1/webhooks/endpoints/{id}/secret',
      'GET /api/v1/webhooks/messages/{id}',
      'GET /healthz',
      'GET /metrics',
      'GET /readyz',
      'PATCH /api/v1/organizations/{id}',
      'PATCH /api/v1/organizations/{id}/settings',
      'PATCH /api/v1/webhooks/endpoints/{id}',
      'POST /api/v1/organizations',
      'POST /api/v1/organizations/{id}/portal_links',
      'POST /api/v1/organizations/{organization_id}/domains',
      'POST /api/v1/organizations/{organization_id}/domains/{id}/verify',
      'POST /api/v1/webhooks/endpoints',
      'POST /api/v1/webhooks/endpoints/{id}/disable',
      'POST /api/v1/webhooks/endpoints/{id}/enable',
      'POST /api/v1/webhooks/endpoints/{id}/recover',
      'POST /api/v1/webhooks/endpoints/{id}/secret/rotate',
      'POST /api/v1/webhooks/messages/{id}/retry',
      'POST /oauth/token',
    ]);
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    expect(document.paths['/api/v1/organizations'].post.security).toEqual([{ bearerAuth: [] }]);
    expect(document.components.schemas.OrganizationDomain.properties.domain_type.enum).toEqual(
      DomainType.options,
    );
    expect(
      document.paths['/api/v1/events'].get.parameters.find(
        (p: { name: string }) => p.name === 'type',
      ).schema.enum,
    ).toEqual([...EVENT_TYPES]);
    expect(Object.keys(document.components.schemas)).toEqual(
      expect.arrayContaining([
        'Error',
        'ListMetadata',
        'Organization',
        'OrganizationDomain',
        'DnsRecord',
        'TokenResponse',
      ]),
    );
  });

  it('renders a self-contained reference page from the document', async () => {
    const response = await app.request('/docs');
    const page = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(response.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    );
    expect(page).toContain('<title>Verihook relay API</title>');
    expect(page).toContain('<code>/api/v1/organizations/{organization_id}/domains</code>');
    expect(page).toContain('id="schema-OrganizationDomain"');
    expect(page).not.toMatch(/<script|<link|src="http/);
  });
});
