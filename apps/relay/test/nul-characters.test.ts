// PostgreSQL cannot store U+0000 in text: every route answers 400 invalid_character, not a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiClient,
  allEvents,
  apiClient,
  BACKENDS,
  backendAvailable,
  buildApp,
  openTestBackend,
  type TestApp,
  type TestBackend,
  testConfig,
  tokenFor,
} from './helpers.ts';

const INVALID_CHARACTER = {
  code: 'invalid_character',
  message: 'Text must not contain NUL (U+0000) characters',
};

describe.each(BACKENDS)('a NUL character in the request on %s', (backend) => {
  let testBackend: TestBackend;
  let app: TestApp;
  let api: ApiClient;
  let orgId: string;

  beforeAll(async () => {
    if (!backendAvailable(backend)) return;
    testBackend = await openTestBackend(backend, 'nul');
    app = buildApp(testBackend.database, {
      config: testConfig({ VERIHOOK_ALLOW_PRIVATE_ENDPOINTS: 'true' }),
    });
    api = apiClient(app, await tokenFor(app, testBackend.database));
    orgId = (await api.post('/api/v1/organizations', { display_name: 'Nul Inc' })).body.organization
      .id;
  });
  afterAll(async () => testBackend?.dispose());

  it.skipIf(!backendAvailable(backend))('is refused in bodies, with nothing written', async () => {
    const eventsBefore = (await allEvents(testBackend.database)).length;

    const answers = [
      await api.post('/api/v1/organizations', { display_name: '\u0000null' }),
      await api.post('/api/v1/organizations', { display_name: 'x', external_id: 'a\u0000' }),
      await api.patch(`/api/v1/organizations/${orgId}`, { display_name: 'a\u0000b' }),
      await api.post('/api/v1/webhooks/endpoints', {
        url: 'http://127.0.0.1:9/hook',
        description: 'a\u0000',
      }),
    ];

    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatchObject(INVALID_CHARACTER);
    }
    const listed = await api.get('/api/v1/organizations?page_size=100');
    expect(listed.body.organizations.map((org: { id: string }) => org.id)).toEqual([orgId]);
    expect((await api.get('/api/v1/webhooks/endpoints')).body.endpoints).toEqual([]);
    expect(await allEvents(testBackend.database)).toHaveLength(eventsBefore);
  });

  it.skipIf(!backendAvailable(backend))('is refused in paths and queries', async () => {
    const paths = [
      '/api/v1/organizations/org_%00',
      `/api/v1/organizations/${orgId}/domains/dom_%00`,
      '/api/v1/webhooks/endpoints/ep_%00',
      '/api/v1/events/evt_%00/messages',
      '/api/v1/webhooks/messages/msg_%00',
      '/api/v1/events?organization_id=org_%00',
    ];

    for (const path of paths) {
      const answer = await api.get(path);
      expect([path, answer.status]).toEqual([path, 400]);
      expect(answer.body.error).toMatchObject(INVALID_CHARACTER);
    }
  });

  it.skipIf(!backendAvailable(backend))('is refused at the token endpoint', async () => {
    const response = await app.request('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=%00&client_secret=%00',
    });

    expect(response.status).toBeLessThan(500);
    expect(response.status).toBeGreaterThanOrEqual(400);
  });
});
