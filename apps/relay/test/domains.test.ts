import { parseEvent } from '@verihook/events';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { domains, organizations } from '../src/db/schema/index.ts';
import { onEventRecorded } from '../src/events/outbox.ts';
import {
  type ApiClient,
  allEvents,
  apiClient,
  BACKENDS,
  backendAvailable,
  buildApp,
  captureLogs,
  openTestBackend,
  type TestApp,
  type TestBackend,
  testConfig,
  tokenFor,
} from './helpers.ts';

const DOM_ID = /^dom_[0-9A-Z]{26}$/;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe.each(BACKENDS)('domains API on %s', (backend) => {
  let testBackend: TestBackend;
  let app: TestApp;
  let api: ApiClient;
  let token: string;
  let logs: ReturnType<typeof captureLogs>;

  beforeAll(async () => {
    if (!backendAvailable(backend)) return;
    testBackend = await openTestBackend(backend, 'domains');
    logs = captureLogs();
    app = buildApp(testBackend.database, { logger: logs.logger });
    token = await tokenFor(app, testBackend.database);
    api = apiClient(app, token);
  });
  afterAll(async () => testBackend?.dispose());

  const newOrganization = async (name = 'Acme Corp') =>
    (await api.post('/api/v1/organizations', { display_name: name })).body.organization as {
      id: string;
    };
  const addDomain = (organizationId: string, body: Record<string, unknown>) =>
    api.post(`/api/v1/organizations/${organizationId}/domains`, body);
  const eventCount = async () => (await allEvents(testBackend.database)).length;
  const eventsAfter = async (count: number) => (await allEvents(testBackend.database)).slice(count);

  describe.skipIf(!backendAvailable(backend))('create', () => {
    it('verifies an API-created organization domain at once (ADMIN) and records its created event', async () => {
      const org = await newOrganization();
      const before = await eventCount();

      const response = await addDomain(org.id, { domain: 'AcmeCorp.com.' });
      const recorded = await eventsAfter(before);

      expect(response.status).toBe(201);
      expect(response.body).toEqual({
        domain: {
          id: expect.stringMatching(DOM_ID),
          object: 'organization_domain',
          organization_id: org.id,
          domain: 'acmecorp.com',
          domain_unicode: 'acmecorp.com',
          domain_type: 'ORGANIZATION_DOMAIN',
          verification_status: 'VERIFIED',
          verification_method: 'ADMIN',
          verification_expires_at: null,
          next_check_at: null,
          last_checked_at: null,
          last_check_result: null,
          failure_reason: null,
          created_at: expect.stringMatching(TIMESTAMP),
          updated_at: response.body.domain.created_at,
        },
      });
      expect(recorded).toHaveLength(1);
      const event = parseEvent(recorded[0]?.payload);
      expect(event).toEqual({
        spec_version: '1',
        id: recorded[0]?.id,
        type: 'organization.domain_created',
        occurred_at: response.body.domain.created_at,
        environment_id: testBackend.database.environmentId,
        organization_id: org.id,
        object: 'Organization',
        display_name: 'Acme Corp',
        data: {
          id: response.body.domain.id,
          domain: 'acmecorp.com',
          domain_type: 'ORGANIZATION_DOMAIN',
          organization_id: org.id,
          environment_id: testBackend.database.environmentId,
          verification_status: 'VERIFIED',
          verification_method: 'ADMIN',
          updated_at: response.body.domain.updated_at,
        },
      });
    });

    it('stores the A-label and shows the Unicode form beside it', async () => {
      const org = await newOrganization();
      const response = await addDomain(org.id, { domain: 'Bücher.de' });

      expect(response.status).toBe(201);
      expect(response.body.domain.domain).toBe('xn--bcher-kva.de');
      expect(response.body.domain.domain_unicode).toBe('bücher.de');
    });

    it('adds an allowed email domain as AUTO_VERIFIED / NOT_APPLICABLE', async () => {
      const org = await newOrganization();
      const response = await addDomain(org.id, {
        domain: 'allowed.example',
        domain_type: 'ALLOWED_EMAIL_DOMAIN',
      });
      const event = (await allEvents(testBackend.database)).at(-1);

      expect(response.status).toBe(201);
      expect(response.body.domain).toMatchObject({
        domain_type: 'ALLOWED_EMAIL_DOMAIN',
        verification_status: 'AUTO_VERIFIED',
        verification_method: 'NOT_APPLICABLE',
      });
      expect(parseEvent(event?.payload).data).toMatchObject({
        domain_type: 'ALLOWED_EMAIL_DOMAIN',
        verification_status: 'AUTO_VERIFIED',
        verification_method: 'NOT_APPLICABLE',
      });
    });

    it('starts the DNS flow on request: PENDING with a TXT key, secret and computed record', async () => {
      const org = await newOrganization();
      const response = await addDomain(org.id, {
        domain: 'dns.acme.test',
        verification_method: 'DNS',
      });
      const domain = response.body.domain;
      const event = parseEvent((await allEvents(testBackend.database)).at(-1)?.payload);
      const createdMs = Date.parse(domain.created_at);

      expect(response.status).toBe(201);
      expect(domain.verification_status).toBe('PENDING');
      expect(domain.verification_method).toBe('DNS');
      expect(domain.txt_record_key).toMatch(/^_verihook-challenge-[a-z0-9]{6}$/);
      expect(domain.txt_record_secret).toMatch(/^verihook-verification=[A-Za-z0-9_-]{32}$/);
      expect(domain.dns_record).toEqual({
        type: 'TXT',
        name: `${domain.txt_record_key}.dns.acme.test`,
        value: domain.txt_record_secret,
      });
      expect(Date.parse(domain.verification_expires_at) - createdMs).toBe(72 * 3_600_000);
      expect(Date.parse(domain.next_check_at) - createdMs).toBe(10_000);
      expect(domain.last_check_result).toBeNull();
      expect(event.data).toMatchObject({
        verification_status: 'PENDING',
        verification_method: 'DNS',
        txt_record_key: domain.txt_record_key,
        txt_record_secret: domain.txt_record_secret,
      });
    });

    it('gives every DNS domain its own secret', async () => {
      const org = await newOrganization();
      const a = (await addDomain(org.id, { domain: 'one.acme.test', verification_method: 'DNS' }))
        .body.domain;
      const b = (await addDomain(org.id, { domain: 'two.acme.test', verification_method: 'DNS' }))
        .body.domain;

      expect(a.txt_record_secret).not.toBe(b.txt_record_secret);
    });

    it('takes the window and the first check from the configuration', async () => {
      const org = await newOrganization();
      const configured = buildApp(testBackend.database, {
        config: testConfig({
          VERIHOOK_VERIFICATION_WINDOW: '2h',
          VERIHOOK_CHECK_SCHEDULE: '3s,1m',
        }),
      });
      const response = await apiClient(configured, token).post(
        `/api/v1/organizations/${org.id}/domains`,
        {
          domain: 'window.acme.test',
          verification_method: 'DNS',
        },
      );
      const createdMs = Date.parse(response.body.domain.created_at);

      expect(Date.parse(response.body.domain.verification_expires_at) - createdMs).toBe(7_200_000);
      expect(Date.parse(response.body.domain.next_check_at) - createdMs).toBe(3_000);
    });

    it.each([
      ['gmail.com', 'email_provider_not_allowed'],
      ['co.uk', 'public_suffix_not_allowed'],
      ['1.2.3.4', 'ip_address_not_allowed'],
      ['*.acme.com', 'wildcard_not_allowed'],
      ['https://acme.com/x', 'invalid_domain'],
      [`${'a'.repeat(64)}.com`, 'label_too_long'],
    ])('refuses %j with 400 %s, storing nothing', async (name, code) => {
      const org = await newOrganization();
      const before = await eventCount();

      const response = await addDomain(org.id, { domain: name });
      const stored = await testBackend.database.db
        .select()
        .from(domains)
        .where(eq(domains.organizationId, org.id));

      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe(code);
      expect(response.body.error.fields).toEqual([
        { path: 'domain', message: response.body.error.message },
      ]);
      expect(stored).toEqual([]);
      expect(await eventCount()).toBe(before);
    });

    it('refuses verification methods that do not fit the domain type', async () => {
      const org = await newOrganization();
      const allowedDns = await addDomain(org.id, {
        domain: 'x.example',
        domain_type: 'ALLOWED_EMAIL_DOMAIN',
        verification_method: 'DNS',
      });
      const orgNotApplicable = await addDomain(org.id, {
        domain: 'x.example',
        verification_method: 'NOT_APPLICABLE',
      });
      const unknownMethod = await addDomain(org.id, {
        domain: 'x.example',
        verification_method: 'EMAIL',
      });

      expect(allowedDns.status).toBe(400);
      expect(allowedDns.body.error.code).toBe('invalid_verification_method');
      expect(orgNotApplicable.status).toBe(400);
      expect(orgNotApplicable.body.error.code).toBe('invalid_verification_method');
      expect(unknownMethod.status).toBe(400);
      expect(unknownMethod.body.error.code).toBe('validation_failed');
      expect(unknownMethod.body.error.fields[0].path).toBe('verification_method');
    });

    it('answers 404 for an unknown organization', async () => {
      const response = await addDomain('org_nope', { domain: 'nowhere.example' });

      expect(response.status).toBe(404);
      expect(response.body.error.message).toBe('Organization not found');
    });

    it('refuses the same name twice in one organization, whatever its spelling (409)', async () => {
      const org = await newOrganization();
      await addDomain(org.id, { domain: 'twice.example' });
      const before = await eventCount();

      const again = await addDomain(org.id, { domain: 'TWICE.example.' });
      const asAllowed = await addDomain(org.id, {
        domain: 'twice.example',
        domain_type: 'ALLOWED_EMAIL_DOMAIN',
      });

      expect(again.status).toBe(409);
      expect(again.body.error).toEqual({
        code: 'domain_already_exists',
        message: 'This organization already has this domain',
        request_id: expect.any(String),
      });
      expect(asAllowed.status).toBe(409);
      expect(await eventCount()).toBe(before);
    });

    it("refuses another organization's verified name (409), by any method", async () => {
      const owner = await newOrganization('Owner');
      const other = await newOrganization('Other');
      await addDomain(owner.id, { domain: 'owned.example' });
      const before = await eventCount();

      const admin = await addDomain(other.id, { domain: 'owned.example' });
      const dns = await addDomain(other.id, {
        domain: 'owned.example',
        verification_method: 'DNS',
      });
      const allowed = await addDomain(other.id, {
        domain: 'owned.example',
        domain_type: 'ALLOWED_EMAIL_DOMAIN',
      });

      expect(admin.status).toBe(409);
      expect(admin.body.error.code).toBe('domain_already_verified');
      expect(dns.status).toBe(409);
      expect(dns.body.error.code).toBe('domain_already_verified');
      expect(allowed.status).toBe(201);
      expect(await eventCount()).toBe(before + 1);
    });

    it('lets several organizations claim a name by DNS, and fails every claim when one verifies it', async () => {
      const first = await newOrganization('First Claim');
      const second = await newOrganization('Second Claim');
      const winner = await newOrganization('Winner');
      const a = (
        await addDomain(first.id, { domain: 'contested.example', verification_method: 'DNS' })
      ).body.domain;
      const b = (
        await addDomain(second.id, { domain: 'contested.example', verification_method: 'DNS' })
      ).body.domain;
      const before = await eventCount();

      const won = await addDomain(winner.id, { domain: 'contested.example' });
      const recorded = (await eventsAfter(before)).map((row) => parseEvent(row.payload));
      const a2 = (await api.get(`/api/v1/organizations/${first.id}/domains/${a.id}`)).body.domain;

      expect(a.verification_status).toBe('PENDING');
      expect(b.verification_status).toBe('PENDING');
      expect(won.status).toBe(201);
      expect(recorded.map((event) => [event.type, event.data.id, event.display_name])).toEqual([
        ['organization.domain_created', won.body.domain.id, 'Winner'],
        ['organization.domain_dns_verification_failed', a.id, 'First Claim'],
        ['organization.domain_dns_verification_failed', b.id, 'Second Claim'],
      ]);
      expect(recorded[1]?.data).toMatchObject({
        verification_status: 'FAILED',
        failure_reason: 'verified_by_other_organization',
      });
      expect(a2).toMatchObject({
        verification_status: 'FAILED',
        failure_reason: 'verified_by_other_organization',
        next_check_at: null,
      });
    });

    it('keeps the DNS flow available through the API whatever the feature flag says', async () => {
      const org = await newOrganization();
      const response = await addDomain(org.id, {
        domain: 'flagless.acme.test',
        verification_method: 'DNS',
      });

      expect(response.status).toBe(201);
    });

    it('leaves neither a domain nor an event when the transaction fails, and hides the cause', async () => {
      const org = await newOrganization();
      const before = await eventCount();
      const remove = onEventRecorded(async () => {
        throw new Error('boom: secret internals');
      });

      const response = await addDomain(org.id, { domain: 'rolled-back.example' }).finally(remove);
      const stored = await testBackend.database.db
        .select()
        .from(domains)
        .where(eq(domains.organizationId, org.id));

      expect(response.status).toBe(500);
      expect(response.body.error).toEqual({
        code: 'internal_error',
        message: `Something went wrong; quote request id ${response.headers.get('x-request-id')}`,
        request_id: response.headers.get('x-request-id'),
      });
      expect(JSON.stringify(response.body)).not.toContain('boom');
      expect(stored).toEqual([]);
      expect(await eventCount()).toBe(before);
      const logged = logs.lines().find((line) => line.msg === 'request failed');
      expect(logged).toMatchObject({
        level: 'error',
        request_id: response.body.error.request_id,
        err: { type: 'Error', message: 'boom: secret internals' },
      });
    });

    it('validates the event before inserting it: an invalid event rolls the domain back', async () => {
      const [org] = await testBackend.database.db
        .insert(organizations)
        .values({ id: 'org_BLANKNAME0000000000000000', displayName: '' })
        .returning();
      const before = await eventCount();

      const response = await addDomain(org?.id ?? '', { domain: 'invalid-event.example' });
      const stored = await testBackend.database.db
        .select()
        .from(domains)
        .where(eq(domains.organizationId, org?.id ?? ''));

      expect(response.status).toBe(500);
      expect(stored).toEqual([]);
      expect(await eventCount()).toBe(before);
      const logged = logs.lines().findLast((line) => line.msg === 'request failed') as {
        err: { type: string };
      };
      expect(logged.err.type).toBe('EventParseError');
    });
  });

  describe.skipIf(!backendAvailable(backend))('get', () => {
    it('answers the domain', async () => {
      const org = await newOrganization();
      const created = (
        await addDomain(org.id, { domain: 'get.acme.test', verification_method: 'DNS' })
      ).body.domain;

      const response = await api.get(`/api/v1/organizations/${org.id}/domains/${created.id}`);

      expect(response.status).toBe(200);
      expect(response.body).toEqual({ domain: created });
    });

    it("answers 404 for another organization's domain and for unknown ids", async () => {
      const owner = await newOrganization();
      const other = await newOrganization();
      const created = (await addDomain(owner.id, { domain: 'private.example' })).body.domain;

      const crossed = await api.get(`/api/v1/organizations/${other.id}/domains/${created.id}`);
      const unknown = await api.get(`/api/v1/organizations/${owner.id}/domains/dom_nope`);

      expect(crossed.status).toBe(404);
      expect(crossed.body.error).toEqual({
        code: 'not_found',
        message: 'Domain not found',
        request_id: expect.any(String),
      });
      expect(unknown.status).toBe(404);
    });
  });

  describe.skipIf(!backendAvailable(backend))('list', () => {
    it("lists the organization's domains newest first, filtered by type, page by page", async () => {
      const org = await newOrganization();
      const names = ['l1.example', 'l2.example', 'l3.example'];
      const created = [];
      for (const domain of names) created.push((await addDomain(org.id, { domain })).body.domain);
      const allowed = (
        await addDomain(org.id, { domain: 'l4.example', domain_type: 'ALLOWED_EMAIL_DOMAIN' })
      ).body.domain;
      await addDomain((await newOrganization()).id, { domain: 'elsewhere.example' });

      const all = await api.get(`/api/v1/organizations/${org.id}/domains`);
      const onlyOrg = await api.get(
        `/api/v1/organizations/${org.id}/domains?domain_type=ORGANIZATION_DOMAIN`,
      );
      const firstPage = await api.get(`/api/v1/organizations/${org.id}/domains?page_size=2`);
      const secondPage = await api.get(
        `/api/v1/organizations/${org.id}/domains?page_size=2&after=${firstPage.body.list_metadata.after}`,
      );

      expect(all.status).toBe(200);
      expect(all.body.domains.map((d: { id: string }) => d.id)).toEqual([
        allowed.id,
        ...created.map((d) => d.id).reverse(),
      ]);
      expect(all.body.list_metadata).toEqual({ before: null, after: null });
      expect(onlyOrg.body.domains.map((d: { domain: string }) => d.domain)).toEqual([
        'l3.example',
        'l2.example',
        'l1.example',
      ]);
      expect(firstPage.body.domains.map((d: { domain: string }) => d.domain)).toEqual([
        'l4.example',
        'l3.example',
      ]);
      expect(firstPage.body.list_metadata).toEqual({ before: null, after: created[2]?.id });
      expect(secondPage.body.domains.map((d: { domain: string }) => d.domain)).toEqual([
        'l2.example',
        'l1.example',
      ]);
      expect(secondPage.body.list_metadata).toEqual({ before: created[1]?.id, after: null });
    });

    it('refuses a cursor that is not an id with 400', async () => {
      const org = (await api.post('/api/v1/organizations', { display_name: 'Cursor Co' })).body
        .organization;

      const response = await api.get(`/api/v1/organizations/${org.id}/domains?after=zzz`);

      expect(response.status).toBe(400);
      expect(response.body.error.fields).toEqual([
        { path: 'after', message: 'must be an id from list_metadata' },
      ]);
    });

    it('answers 404 for an unknown organization and 400 for an unknown type', async () => {
      const unknown = await api.get('/api/v1/organizations/org_nope/domains');
      const badType = await api.get(
        `/api/v1/organizations/${(await newOrganization()).id}/domains?domain_type=SUBDOMAIN`,
      );

      expect(unknown.status).toBe(404);
      expect(badType.status).toBe(400);
      expect(badType.body.error.fields[0].path).toBe('domain_type');
    });
  });

  describe.skipIf(!backendAvailable(backend))('delete', () => {
    it('deletes the domain and records its deleted event, newer than its created one', async () => {
      const org = await newOrganization('Deleter');
      const created = (
        await addDomain(org.id, { domain: 'gone.acme.test', verification_method: 'DNS' })
      ).body.domain;
      const before = await eventCount();

      const response = await api.delete(`/api/v1/organizations/${org.id}/domains/${created.id}`);
      const recorded = await eventsAfter(before);
      const event = parseEvent(recorded[0]?.payload);

      expect(response.status).toBe(204);
      expect(recorded).toHaveLength(1);
      expect(event.type).toBe('organization.domain_deleted');
      expect(event.data).toMatchObject({
        id: created.id,
        domain: 'gone.acme.test',
        verification_status: 'PENDING',
        verification_method: 'DNS',
        txt_record_key: created.txt_record_key,
      });
      expect(Date.parse(event.data.updated_at)).toBeGreaterThan(Date.parse(created.updated_at));
      expect((await api.get(`/api/v1/organizations/${org.id}/domains/${created.id}`)).status).toBe(
        404,
      );
    });

    it("answers 404 for another organization's domain and leaves it alone", async () => {
      const owner = await newOrganization();
      const other = await newOrganization();
      const created = (await addDomain(owner.id, { domain: 'keep.example' })).body.domain;
      const before = await eventCount();

      const crossed = await api.delete(`/api/v1/organizations/${other.id}/domains/${created.id}`);
      const again = await api.delete(`/api/v1/organizations/${owner.id}/domains/dom_nope`);

      expect(crossed.status).toBe(404);
      expect(again.status).toBe(404);
      expect(
        (await api.get(`/api/v1/organizations/${owner.id}/domains/${created.id}`)).status,
      ).toBe(200);
      expect(await eventCount()).toBe(before);
    });

    it('frees the name: another organization can then add it', async () => {
      const first = await newOrganization();
      const second = await newOrganization();
      const created = (await addDomain(first.id, { domain: 'moving.example' })).body.domain;
      await api.delete(`/api/v1/organizations/${first.id}/domains/${created.id}`);

      const response = await addDomain(second.id, { domain: 'moving.example' });

      expect(response.status).toBe(201);
    });
  });
});
