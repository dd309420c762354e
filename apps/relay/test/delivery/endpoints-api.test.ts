import { hasPostgres } from '@verihook/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, buildApp } from '../helpers.ts';
import { addDomain, messagesOf, openTestRelay, type TestRelay } from './relay.ts';

const BASE = '/api/v1/webhooks/endpoints';
const URL_A = 'http://127.0.0.1:9/a';

let relay: TestRelay;

beforeAll(async () => {
  relay = await openTestRelay('delivery_endpoints_api');
});

afterAll(async () => {
  await relay?.close();
});

async function create(body: Record<string, unknown>) {
  const created = await relay.api.post(BASE, body);
  expect(created.status).toBe(201);
  return created.body.endpoint;
}

describe.runIf(hasPostgres())('the webhook endpoints API', () => {
  it('creates an endpoint and answers without its secret', async () => {
    const created = await relay.api.post(BASE, {
      url: URL_A,
      description: 'billing',
      event_types: ['organization.domain_created', 'organization.domain_created'],
    });

    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      endpoint: {
        id: expect.stringMatching(/^ep_[0-9A-Z]{26}$/),
        object: 'webhook_endpoint',
        url: URL_A,
        description: 'billing',
        event_types: ['organization.domain_created'],
        status: 'enabled',
        disabled_reason: null,
        failing_since: null,
        previous_secret_expires_at: null,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      },
    });
    expect(JSON.stringify(created.body)).not.toContain('whsec_');
    const secret = await relay.api.get(`${BASE}/${created.body.endpoint.id}/secret`);
    expect(secret.status).toBe(200);
    expect(secret.body).toEqual({ secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/) });
  });

  it('rejects bad input with the offending fields and stores nothing', async () => {
    const before = (await relay.api.get(`${BASE}?page_size=100`)).body.endpoints.length;

    const missing = await relay.api.post(BASE, { description: 'no url' });
    const badType = await relay.api.post(BASE, { url: URL_A, event_types: ['user.created'] });
    const unknown = await relay.api.post(BASE, { url: URL_A, secret: 'whsec_x' });
    const notUrl = await relay.api.post(BASE, { url: 'not a url' });
    const ftp = await relay.api.post(BASE, { url: 'ftp://127.0.0.1/in' });
    const credentials = await relay.api.post(BASE, { url: 'http://user:pw@127.0.0.1/in' });

    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('validation_failed');
    expect(missing.body.error.fields).toEqual([{ path: 'url', message: expect.any(String) }]);
    expect(badType.body.error.fields).toEqual([
      { path: 'event_types.0', message: expect.any(String) },
    ]);
    expect(unknown.body.error.fields).toEqual([
      { path: 'secret', message: 'is not a known field' },
    ]);
    expect([notUrl.status, notUrl.body.error.code]).toEqual([400, 'invalid_endpoint_url']);
    expect(notUrl.body.error.fields).toEqual([
      { path: 'url', message: 'the endpoint URL is not a valid absolute URL (invalid_url)' },
    ]);
    expect([ftp.status, ftp.body.error.code]).toEqual([400, 'invalid_endpoint_url']);
    expect(ftp.body.error.message).toBe(
      'Invalid endpoint URL: the endpoint URL must use https, not ftp:',
    );
    expect([credentials.status, credentials.body.error.code]).toEqual([
      400,
      'invalid_endpoint_url',
    ]);
    expect((await relay.api.get(`${BASE}?page_size=100`)).body.endpoints).toHaveLength(before);
  });

  it('lists endpoints newest first, a page at a time', async () => {
    const made = [];
    for (const path of ['p1', 'p2', 'p3']) made.push(await create({ url: `${URL_A}/${path}` }));

    const first = await relay.api.get(`${BASE}?page_size=2`);
    const second = await relay.api.get(
      `${BASE}?page_size=2&after=${first.body.list_metadata.after}`,
    );

    expect(first.status).toBe(200);
    expect(first.body.endpoints.map((e: { id: string }) => e.id)).toEqual([made[2].id, made[1].id]);
    expect(second.body.endpoints[0].id).toBe(made[0].id);
    expect(second.body.list_metadata.before).toBe(made[0].id);
    expect(JSON.stringify(first.body)).not.toContain('whsec_');
  });

  it('gets, updates and deletes an endpoint, and answers 404 once it is gone', async () => {
    const endpoint = await create({ url: `${URL_A}/crud` });

    const got = await relay.api.get(`${BASE}/${endpoint.id}`);
    const updated = await relay.api.patch(`${BASE}/${endpoint.id}`, {
      url: 'http://127.0.0.1:9/moved',
      description: 'moved',
      event_types: ['organization.domain_deleted'],
    });
    const badUrl = await relay.api.patch(`${BASE}/${endpoint.id}`, { url: 'gopher://x' });
    const removed = await relay.api.delete(`${BASE}/${endpoint.id}`);
    const missing = await relay.api.get(`${BASE}/${endpoint.id}`);
    const removedAgain = await relay.api.delete(`${BASE}/${endpoint.id}`);

    expect(got.body).toEqual({ endpoint });
    expect(updated.status).toBe(200);
    expect(updated.body.endpoint).toMatchObject({
      url: 'http://127.0.0.1:9/moved',
      description: 'moved',
      event_types: ['organization.domain_deleted'],
    });
    expect(badUrl.status).toBe(400);
    expect(removed.status).toBe(204);
    expect([missing.status, missing.body.error.code]).toEqual([404, 'not_found']);
    expect(removedAgain.status).toBe(404);
  });

  it('disables (cancelling pending messages, none created afterwards) and enables again', async () => {
    const endpoint = await create({ url: `${URL_A}/toggle` });
    const { organizationId } = await addDomain(relay);

    const disabled = await relay.api.post(`${BASE}/${endpoint.id}/disable`);
    await addDomain(relay, organizationId);
    const enabled = await relay.api.post(`${BASE}/${endpoint.id}/enable`);

    expect(disabled.status).toBe(200);
    expect(disabled.body.endpoint).toMatchObject({ status: 'disabled', disabled_reason: 'manual' });
    expect(enabled.body.endpoint).toMatchObject({ status: 'enabled', disabled_reason: null });
    const rows = await messagesOf(relay.database, endpoint.id);
    expect(rows.map((row) => [row.status, row.nextAttemptAt])).toEqual([['cancelled', null]]);
    expect((await relay.api.post(`${BASE}/ep_missing/disable`)).status).toBe(404);
    await relay.api.post(`${BASE}/${endpoint.id}/disable`);
  });

  it('rotates the secret with the default 24 h grace, a chosen grace, or none', async () => {
    const endpoint = await create({ url: `${URL_A}/rotate` });
    const { secret: first } = (await relay.api.get(`${BASE}/${endpoint.id}/secret`)).body;

    const byDefault = await relay.api.post(`${BASE}/${endpoint.id}/secret/rotate`);
    const withDefault = (await relay.api.get(`${BASE}/${endpoint.id}`)).body.endpoint;
    const again = await relay.api.post(`${BASE}/${endpoint.id}/secret/rotate`);
    const afterRefusal = (await relay.api.get(`${BASE}/${endpoint.id}/secret`)).body.secret;
    const none = await relay.api.post(`${BASE}/${endpoint.id}/secret/rotate`, {
      grace_period_seconds: 0,
    });
    const withNone = (await relay.api.get(`${BASE}/${endpoint.id}`)).body.endpoint;
    const negative = await relay.api.post(`${BASE}/${endpoint.id}/secret/rotate`, {
      grace_period_seconds: -1,
    });

    expect(byDefault.status).toBe(200);
    expect(byDefault.body.secret).not.toBe(first);
    const graceMs = Date.parse(withDefault.previous_secret_expires_at) - Date.now();
    expect(graceMs).toBeGreaterThan(86_400_000 - 60_000);
    expect(graceMs).toBeLessThanOrEqual(86_400_000);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('rotation_in_progress');
    expect(afterRefusal).toBe(byDefault.body.secret);
    expect(none.body.secret).not.toBe(byDefault.body.secret);
    expect(withNone.previous_secret_expires_at).toBeNull();
    expect((await relay.api.get(`${BASE}/${endpoint.id}/secret`)).body.secret).toBe(
      none.body.secret,
    );
    expect(negative.status).toBe(400);
    expect(negative.body.error.fields).toEqual([
      { path: 'grace_period_seconds', message: expect.any(String) },
    ]);
    await relay.api.delete(`${BASE}/${endpoint.id}`);
  });

  it('requires a bearer token', async () => {
    const anonymous = apiClient(buildApp(relay.database, { config: relay.config }), undefined);

    const answer = await anonymous.get(BASE);

    expect([answer.status, answer.body.error.code]).toEqual([401, 'unauthorized']);
  });

  it('documents every endpoint and delivery operation in the OpenAPI document', async () => {
    const document = await relay.api.get('/openapi.json');

    expect(Object.keys(document.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/webhooks/endpoints',
        '/api/v1/webhooks/endpoints/{id}',
        '/api/v1/webhooks/endpoints/{id}/disable',
        '/api/v1/webhooks/endpoints/{id}/enable',
        '/api/v1/webhooks/endpoints/{id}/secret',
        '/api/v1/webhooks/endpoints/{id}/secret/rotate',
        '/api/v1/webhooks/endpoints/{id}/attempts',
        '/api/v1/webhooks/endpoints/{id}/recover',
        '/api/v1/webhooks/messages/{id}',
        '/api/v1/webhooks/messages/{id}/retry',
        '/api/v1/events/{id}/messages',
      ]),
    );
    expect(Object.keys(document.body.components.schemas)).toEqual(
      expect.arrayContaining(['WebhookEndpoint', 'WebhookMessage', 'WebhookAttempt']),
    );
  });
});
