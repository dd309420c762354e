import { EVENT_TYPES, parseEvent } from '@verihook/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiClient,
  allEvents,
  apiClient,
  BACKENDS,
  backendAvailable,
  buildApp,
  openTestBackend,
  type TestBackend,
  tokenFor,
} from './helpers.ts';

describe.each(BACKENDS)('events API on %s', (backend) => {
  let testBackend: TestBackend;
  let api: ApiClient;
  let acme: { id: string };
  let globex: { id: string };

  beforeAll(async () => {
    if (!backendAvailable(backend)) return;
    testBackend = await openTestBackend(backend, 'events');
    const app = buildApp(testBackend.database);
    api = apiClient(app, await tokenFor(app, testBackend.database));
    acme = (await api.post('/api/v1/organizations', { display_name: 'Acme' })).body.organization;
    globex = (await api.post('/api/v1/organizations', { display_name: 'Globex' })).body
      .organization;
    const a = (
      await api.post(`/api/v1/organizations/${acme.id}/domains`, { domain: 'acmecorp.com' })
    ).body.domain;
    await api.post(`/api/v1/organizations/${globex.id}/domains`, {
      domain: 'globex.test',
      verification_method: 'DNS',
    });
    await api.delete(`/api/v1/organizations/${acme.id}/domains/${a.id}`);
    await api.post(`/api/v1/organizations/${acme.id}/domains`, { domain: 'acme.test' });
  });
  afterAll(async () => testBackend?.dispose());

  describe.skipIf(!backendAvailable(backend))('GET /api/v1/events', () => {
    it('lists every event newest first, each exactly as recorded and valid', async () => {
      const stored = await allEvents(testBackend.database);

      const response = await api.get('/api/v1/events');

      expect(response.status).toBe(200);
      expect(response.body.events.map((event: { id: string }) => event.id)).toEqual(
        stored.map((row) => row.id).reverse(),
      );
      expect(response.body.events.map((event: { type: string }) => event.type)).toEqual([
        'organization.domain_created',
        'organization.domain_deleted',
        'organization.domain_created',
        'organization.domain_created',
      ]);
      for (const event of response.body.events) expect(parseEvent(event)).toEqual(event);
      expect(response.body.events[3]).toEqual(stored[0]?.payload);
      expect(Object.keys(response.body.events[0])).toEqual([
        'spec_version',
        'id',
        'occurred_at',
        'environment_id',
        'organization_id',
        'object',
        'display_name',
        'type',
        'data',
      ]);
      expect(response.body.list_metadata).toEqual({ before: null, after: null });
    });

    it('filters by type and by organization', async () => {
      const deleted = await api.get('/api/v1/events?type=organization.domain_deleted');
      const ofGlobex = await api.get(`/api/v1/events?organization_id=${globex.id}`);
      const both = await api.get(
        `/api/v1/events?organization_id=${acme.id}&type=organization.domain_created`,
      );

      expect(
        deleted.body.events.map((event: { data: { domain: string } }) => event.data.domain),
      ).toEqual(['acmecorp.com']);
      expect(
        ofGlobex.body.events.map((event: { data: { domain: string } }) => event.data.domain),
      ).toEqual(['globex.test']);
      expect(
        both.body.events.map((event: { data: { domain: string } }) => event.data.domain),
      ).toEqual(['acme.test', 'acmecorp.com']);
    });

    it('pages with after and before cursors', async () => {
      const all = (await api.get('/api/v1/events')).body.events.map(
        (event: { id: string }) => event.id,
      );

      const first = await api.get('/api/v1/events?page_size=3');
      const second = await api.get(
        `/api/v1/events?page_size=3&after=${first.body.list_metadata.after}`,
      );
      const back = await api.get(
        `/api/v1/events?page_size=3&before=${second.body.list_metadata.before}`,
      );

      expect(first.body.events.map((event: { id: string }) => event.id)).toEqual(all.slice(0, 3));
      expect(first.body.list_metadata).toEqual({ before: null, after: all[2] });
      expect(second.body.events.map((event: { id: string }) => event.id)).toEqual(all.slice(3));
      expect(second.body.list_metadata).toEqual({ before: all[3], after: null });
      expect(back.body.events.map((event: { id: string }) => event.id)).toEqual(all.slice(0, 3));
      expect(back.body.list_metadata).toEqual({ before: null, after: all[2] });
    });

    it('refuses unknown types and cursors', async () => {
      const badType = await api.get('/api/v1/events?type=user.created');
      const badCursor = await api.get('/api/v1/events?after=evt_nope');

      expect(badType.status).toBe(400);
      expect(badType.body.error.code).toBe('validation_failed');
      expect(badType.body.error.fields[0].path).toBe('type');
      expect(badCursor.status).toBe(400);
      expect(badCursor.body.error).toEqual({
        code: 'invalid_cursor',
        message: 'No event has the id given as after',
        fields: [{ path: 'after', message: 'is not the id of an event' }],
        request_id: expect.any(String),
      });
    });

    it('answers an empty list for an organization without events', async () => {
      const response = await api.get('/api/v1/events?organization_id=org_nobody');

      expect(response.status).toBe(200);
      expect(response.body).toEqual({ events: [], list_metadata: { before: null, after: null } });
    });

    it('needs a token', async () => {
      const response = await apiClient(buildApp(testBackend.database), undefined).get(
        '/api/v1/events',
      );

      expect(response.status).toBe(401);
      expect(EVENT_TYPES).toHaveLength(4);
    });
  });
});
