import { parseEvent } from '@verihook/events';
import { desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { domains, organizations } from '../src/db/schema/index.ts';
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

const ORG_ID = /^org_[0-9A-Z]{26}$/;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe.each(BACKENDS)('organizations API on %s', (backend) => {
  let testBackend: TestBackend;
  let api: ApiClient;

  beforeAll(async () => {
    if (!backendAvailable(backend)) return;
    testBackend = await openTestBackend(backend, 'organizations');
    const app = buildApp(testBackend.database);
    api = apiClient(app, await tokenFor(app, testBackend.database));
  });
  afterAll(async () => testBackend?.dispose());

  const create = async (body: Record<string, unknown>) => api.post('/api/v1/organizations', body);

  describe.skipIf(!backendAvailable(backend))('create', () => {
    it('creates an organization and answers 201 with it', async () => {
      const response = await create({ display_name: 'Acme Corp', external_id: 'acme-1' });

      expect(response.status).toBe(201);
      expect(response.body).toEqual({
        organization: {
          id: expect.stringMatching(ORG_ID),
          object: 'organization',
          display_name: 'Acme Corp',
          external_id: 'acme-1',
          features: [{ name: 'domain_verification', enabled: false }],
          created_at: expect.stringMatching(TIMESTAMP),
          updated_at: response.body.organization.created_at,
        },
      });
    });

    it('makes external_id optional', async () => {
      const response = await create({ display_name: 'No External Id' });

      expect(response.status).toBe(201);
      expect(response.body.organization.external_id).toBeNull();
    });

    it('refuses a second organization with the same external_id', async () => {
      await create({ display_name: 'First', external_id: 'dup-1' });
      const response = await create({ display_name: 'Second', external_id: 'dup-1' });
      const rows = await testBackend.database.db
        .select()
        .from(organizations)
        .where(eq(organizations.externalId, 'dup-1'));

      expect(response.status).toBe(409);
      expect(response.body.error).toEqual({
        code: 'external_id_already_exists',
        message: 'Another organization has this external_id',
        fields: [{ path: 'external_id', message: 'is already used by another organization' }],
        request_id: expect.any(String),
      });
      expect(rows.map((row) => row.displayName)).toEqual(['First']);
    });

    it('names every offending field', async () => {
      const missing = await create({});
      const blank = await create({ display_name: '   ' });
      const unknown = await create({ display_name: 'X', name: 'X' });

      expect(missing.status).toBe(400);
      expect(missing.body.error.code).toBe('validation_failed');
      expect(missing.body.error.fields).toEqual([
        { path: 'display_name', message: 'Invalid input: expected string, received undefined' },
      ]);
      expect(blank.status).toBe(400);
      expect(blank.body.error.fields[0].path).toBe('display_name');
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.fields).toEqual([
        { path: 'name', message: 'is not a known field' },
      ]);
    });

    it('answers invalid_json for a body that is not JSON', async () => {
      const response = await api.raw('/api/v1/organizations', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"display_name":',
      });

      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('invalid_json');
    });

    it('answers 413 for a body over 64 KiB', async () => {
      const response = await create({ display_name: 'x'.repeat(70_000) });

      expect(response.status).toBe(413);
      expect(response.body.error.code).toBe('payload_too_large');
    });
  });

  describe.skipIf(!backendAvailable(backend))('get', () => {
    it('answers the organization', async () => {
      const created = (await create({ display_name: 'Globex' })).body.organization;
      const response = await api.get(`/api/v1/organizations/${created.id}`);

      expect(response.status).toBe(200);
      expect(response.body).toEqual({ organization: created });
    });

    it('answers 404 not_found for an unknown id', async () => {
      const response = await api.get('/api/v1/organizations/org_01J0000000000000000000000');

      expect(response.status).toBe(404);
      expect(response.body.error).toEqual({
        code: 'not_found',
        message: 'Organization not found',
        request_id: expect.any(String),
      });
    });
  });

  describe.skipIf(!backendAvailable(backend))('list', () => {
    it('pages through every organization, newest first, forwards and back', async () => {
      for (let i = 0; i < 5; i++) await create({ display_name: `Paged ${i}` });
      const expected = (
        await testBackend.database.db
          .select({ id: organizations.id })
          .from(organizations)
          .orderBy(desc(organizations.id))
      ).map((row) => row.id);

      const forwards: string[] = [];
      let cursor: string | null = null;
      const afters: (string | null)[] = [];
      do {
        const page = await api.get(
          `/api/v1/organizations?page_size=2${cursor ? `&after=${cursor}` : ''}`,
        );
        expect(page.status).toBe(200);
        forwards.push(...page.body.organizations.map((org: { id: string }) => org.id));
        cursor = page.body.list_metadata.after;
        afters.push(cursor);
      } while (cursor);

      const backwards: string[] = [];
      let before: string | null = expected.at(-1) ?? null;
      while (before) {
        const page = await api.get(`/api/v1/organizations?limit=2&before=${before}`);
        backwards.unshift(...page.body.organizations.map((org: { id: string }) => org.id));
        before = page.body.list_metadata.before;
      }

      expect(forwards).toEqual(expected);
      expect(afters).toHaveLength(Math.ceil(expected.length / 2));
      expect(backwards).toEqual(expected.slice(0, -1));
    });

    it('answers list_metadata with null cursors on a single page', async () => {
      const response = await api.get('/api/v1/organizations?page_size=100');

      expect(response.status).toBe(200);
      expect(response.body.list_metadata).toEqual({ before: null, after: null });
    });

    it('refuses page sizes outside 1 to 100 and both cursors at once', async () => {
      const tooBig = await api.get('/api/v1/organizations?page_size=101');
      const zero = await api.get('/api/v1/organizations?page_size=0');
      const both = await api.get('/api/v1/organizations?after=org_a&before=org_b');

      expect(tooBig.status).toBe(400);
      expect(tooBig.body.error.fields).toEqual([
        { path: 'page_size', message: 'must be a whole number from 1 to 100' },
      ]);
      expect(zero.status).toBe(400);
      expect(both.status).toBe(400);
      expect(both.body.error.fields).toEqual([
        { path: 'before', message: 'use either after or before, not both' },
      ]);
    });
  });

  describe.skipIf(!backendAvailable(backend))('update', () => {
    it('changes the display name and clears the external id', async () => {
      const created = (await create({ display_name: 'Initech', external_id: 'ini-1' })).body
        .organization;
      const response = await api.patch(`/api/v1/organizations/${created.id}`, {
        display_name: 'Initech Inc',
        external_id: null,
      });

      expect(response.status).toBe(200);
      expect(response.body.organization).toEqual({
        ...created,
        display_name: 'Initech Inc',
        external_id: null,
        updated_at: expect.stringMatching(TIMESTAMP),
      });
      expect(
        (await api.get(`/api/v1/organizations/${created.id}`)).body.organization.display_name,
      ).toBe('Initech Inc');
    });

    it('refuses an external_id another organization has', async () => {
      await create({ display_name: 'Holder', external_id: 'taken-1' });
      const other = (await create({ display_name: 'Other' })).body.organization;
      const response = await api.patch(`/api/v1/organizations/${other.id}`, {
        external_id: 'taken-1',
      });

      expect(response.status).toBe(409);
      expect(response.body.error.code).toBe('external_id_already_exists');
    });

    it('answers 404 for an unknown organization and 400 for bad fields', async () => {
      const unknown = await api.patch('/api/v1/organizations/org_nope', { display_name: 'X' });
      const bad = await api.patch('/api/v1/organizations/org_nope', { display_name: 42 });

      expect(unknown.status).toBe(404);
      expect(bad.status).toBe(400);
      expect(bad.body.error.fields[0].path).toBe('display_name');
    });
  });

  describe.skipIf(!backendAvailable(backend))('settings', () => {
    it('turns domain_verification on and off', async () => {
      const created = (await create({ display_name: 'Umbrella' })).body.organization;
      const on = await api.patch(`/api/v1/organizations/${created.id}/settings`, {
        features: [{ name: 'domain_verification', enabled: true }],
      });
      const read = await api.get(`/api/v1/organizations/${created.id}`);
      const off = await api.patch(`/api/v1/organizations/${created.id}/settings`, {
        features: [{ name: 'domain_verification', enabled: false }],
      });

      expect(on.status).toBe(200);
      expect(on.body.organization.features).toEqual([
        { name: 'domain_verification', enabled: true },
      ]);
      expect(read.body.organization.features).toEqual([
        { name: 'domain_verification', enabled: true },
      ]);
      expect(off.body.organization.features).toEqual([
        { name: 'domain_verification', enabled: false },
      ]);
    });

    it('refuses an unknown feature name with 400 and changes nothing', async () => {
      const created = (await create({ display_name: 'Hooli' })).body.organization;
      const response = await api.patch(`/api/v1/organizations/${created.id}/settings`, {
        features: [
          { name: 'domain_verification', enabled: true },
          { name: 'sso', enabled: true },
        ],
      });

      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
      expect(response.body.error.fields).toEqual([
        { path: 'features.1.name', message: 'unknown feature; known: domain_verification' },
      ]);
      expect(
        (await api.get(`/api/v1/organizations/${created.id}`)).body.organization.features[0]
          .enabled,
      ).toBe(false);
    });

    it('refuses a feature named twice with 400', async () => {
      const created = (await create({ display_name: 'Twice Inc' })).body.organization;
      const response = await api.patch(`/api/v1/organizations/${created.id}/settings`, {
        features: [
          { name: 'domain_verification', enabled: true },
          { name: 'domain_verification', enabled: false },
        ],
      });

      expect(response.status).toBe(400);
      expect(response.body.error.fields).toEqual([
        { path: 'features', message: 'names a feature more than once' },
      ]);
    });

    it('answers 404 for an unknown organization', async () => {
      const response = await api.patch('/api/v1/organizations/org_nope/settings', { features: [] });

      expect(response.status).toBe(404);
    });
  });

  describe.skipIf(!backendAvailable(backend))('delete', () => {
    it('deletes the organization, its domains, and records each domain_deleted event', async () => {
      const org = (await create({ display_name: 'Vandelay' })).body.organization;
      const first = (
        await api.post(`/api/v1/organizations/${org.id}/domains`, { domain: 'vandelay.com' })
      ).body.domain;
      const second = (
        await api.post(`/api/v1/organizations/${org.id}/domains`, {
          domain: 'vandelay.test',
          verification_method: 'DNS',
        })
      ).body.domain;
      const before = (await allEvents(testBackend.database)).length;

      const response = await api.delete(`/api/v1/organizations/${org.id}`);
      const recorded = (await allEvents(testBackend.database)).slice(before);
      const left = await testBackend.database.db
        .select()
        .from(domains)
        .where(eq(domains.organizationId, org.id));

      expect(response.status).toBe(204);
      expect(response.body).toBe('');
      expect(left).toEqual([]);
      expect(
        recorded.map((event) => [event.type, (event.payload as { data: { id: string } }).data.id]),
      ).toEqual([
        ['organization.domain_deleted', first.id],
        ['organization.domain_deleted', second.id],
      ]);
      for (const event of recorded) {
        const parsed = parseEvent(event.payload);
        expect(parsed.organization_id).toBe(org.id);
        expect(parsed.display_name).toBe('Vandelay');
      }
      expect(parseEvent(recorded[1]?.payload).data.txt_record_key).toBe(second.txt_record_key);
      expect((await api.get(`/api/v1/organizations/${org.id}`)).status).toBe(404);
    });

    it('answers 404 for an unknown organization and records nothing', async () => {
      const before = (await allEvents(testBackend.database)).length;
      const response = await api.delete('/api/v1/organizations/org_nope');

      expect(response.status).toBe(404);
      expect((await allEvents(testBackend.database)).length).toBe(before);
    });
  });
});
