import { startDnsServer, type TestDnsServer } from '@verihook/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.ts';
import {
  type ApiClient,
  apiClient,
  BACKENDS,
  backendAvailable,
  buildApp,
  openTestBackend,
  type TestBackend,
  testConfig,
  tokenFor,
} from '../helpers.ts';

const SUCCESS = 'organization.domain_dns_verification_success';
const FAILED = 'organization.domain_dns_verification_failed';

let server: TestDnsServer;

beforeAll(async () => {
  server = await startDnsServer();
});

afterAll(() => server.close());

beforeEach(() => server.clear());

function configWith(env: Record<string, string> = {}): Config {
  return testConfig({
    VERIHOOK_DNS_SERVERS: server.address,
    VERIHOOK_DNS_TIMEOUT: '150ms',
    VERIHOOK_CHECK_SCHEDULE: '1m,5m',
    VERIHOOK_VERIFICATION_WINDOW: '1h',
    ...env,
  });
}

describe.each(BACKENDS)(
  'POST /api/v1/organizations/{organization_id}/domains/{id}/verify on %s',
  (backend) => {
    let test: TestBackend;
    let api: ApiClient;
    let expiredApi: ApiClient;
    let organizationId: string;

    beforeAll(async () => {
      if (!backendAvailable(backend)) return;
      test = await openTestBackend(backend, 'verify_now');
      const app = buildApp(test.database, { config: configWith() });
      const token = await tokenFor(app, test.database);
      api = apiClient(app, token);
      const expiredApp = buildApp(test.database, {
        config: configWith({ VERIHOOK_VERIFICATION_WINDOW: '1ms' }),
      });
      expiredApi = apiClient(expiredApp, token);
      const created = await api.post('/api/v1/organizations', { display_name: 'Acme Corp' });
      organizationId = created.body.organization.id;
    });

    afterAll(() => test?.dispose());

    const domainsPath = () => `/api/v1/organizations/${organizationId}/domains`;

    async function addDnsDomain(domain: string, client = api) {
      const created = await client.post(domainsPath(), { domain, verification_method: 'DNS' });
      expect(created.status).toBe(201);
      return created.body.domain;
    }

    const verify = (id: string, client = api, path = domainsPath()) =>
      client.post(`${path}/${id}/verify`);

    async function eventsOf(domainId: string, type: string) {
      const listed = await api.get(`/api/v1/events?type=${type}&page_size=100`);
      expect(listed.status).toBe(200);
      return listed.body.events.filter(
        (event: { data: { id: string } }) => event.data.id === domainId,
      );
    }

    const runIf = it.skipIf(!backendAvailable(backend));

    runIf('verifies a domain whose record is published, once', async () => {
      const domain = await addDnsDomain('found.test');
      server.setTxt(domain.dns_record.name, [[domain.dns_record.value]]);

      const first = await verify(domain.id);
      const second = await verify(domain.id);
      const fetched = await api.get(`${domainsPath()}/${domain.id}`);

      expect(first.status).toBe(200);
      expect(first.body).toEqual({
        verified: true,
        check: {
          outcome: 'found',
          record_name: `${domain.txt_record_key}.found.test`,
          records_seen: 1,
          matched_form: 'challenge',
          doubled_name: false,
          checked_at: expect.any(String),
          duration_ms: expect.any(Number),
        },
        domain: {
          ...domain,
          verification_status: 'VERIFIED',
          next_check_at: null,
          last_checked_at: expect.any(String),
          last_check_result: first.body.check,
          updated_at: expect.any(String),
        },
      });
      expect(Date.parse(first.body.domain.last_checked_at)).toBeGreaterThanOrEqual(
        Date.parse(domain.created_at),
      );
      expect(second.status).toBe(200);
      expect(second.body).toEqual({ verified: true, check: null, domain: first.body.domain });
      expect(fetched.body.domain).toEqual(first.body.domain);
      const success = await eventsOf(domain.id, SUCCESS);
      expect(success).toHaveLength(1);
      expect(success[0].data).toMatchObject({
        id: domain.id,
        verification_status: 'VERIFIED',
        txt_record_secret: domain.txt_record_secret,
      });
    });

    runIf('reports a wrong value and schedules the next check along the schedule', async () => {
      const domain = await addDnsDomain('mismatch.test');
      server.setTxt(domain.dns_record.name, [['verihook-verification=not-the-secret']]);

      const answer = await verify(domain.id);

      expect(answer.status).toBe(200);
      expect(answer.body.verified).toBe(false);
      expect(answer.body.check).toMatchObject({
        outcome: 'mismatch',
        records_seen: 1,
        doubled_name: false,
        hint: `The TXT record at ${domain.dns_record.name} does not hold the expected value; copy it exactly, as one record`,
      });
      const after = answer.body.domain;
      expect(after.verification_status).toBe('PENDING');
      expect(after.last_check_result).toEqual(answer.body.check);
      expect(Date.parse(after.next_check_at) - Date.parse(after.last_checked_at)).toBe(300_000);
      expect(await eventsOf(domain.id, SUCCESS)).toHaveLength(0);
    });

    runIf('reports a name that does not exist', async () => {
      const domain = await addDnsDomain('nxdomain.test');

      const answer = await verify(domain.id);

      expect(answer.body).toMatchObject({
        verified: false,
        check: { outcome: 'nxdomain', error_code: 'ENOTFOUND', records_seen: 0 },
        domain: { verification_status: 'PENDING' },
      });
      const after = answer.body.domain;
      expect(Date.parse(after.next_check_at) - Date.parse(after.last_checked_at)).toBe(300_000);
    });

    runIf('reports a name without TXT records', async () => {
      const domain = await addDnsDomain('nodata.test');
      server.setA(domain.dns_record.name, ['192.0.2.1']);

      const answer = await verify(domain.id);

      expect(answer.body.check).toMatchObject({ outcome: 'nodata', error_code: 'ENODATA' });
    });

    runIf('treats SERVFAIL as temporary: the first step again, nothing counted', async () => {
      const domain = await addDnsDomain('servfail.test');
      server.setServfail(domain.dns_record.name);

      const answer = await verify(domain.id);

      expect(answer.body).toMatchObject({
        verified: false,
        check: { outcome: 'servfail', error_code: 'ESERVFAIL' },
        domain: { verification_status: 'PENDING', failure_reason: null },
      });
      const after = answer.body.domain;
      expect(Date.parse(after.next_check_at) - Date.parse(after.last_checked_at)).toBe(60_000);
    });

    runIf('treats a server that never answers as a temporary timeout', async () => {
      const domain = await addDnsDomain('timeout.test');
      server.setNoAnswer(domain.dns_record.name);

      const answer = await verify(domain.id);

      expect(answer.body).toMatchObject({
        verified: false,
        check: { outcome: 'timeout', error_code: 'ETIMEOUT' },
        domain: { verification_status: 'PENDING' },
      });
      const after = answer.body.domain;
      expect(Date.parse(after.next_check_at) - Date.parse(after.last_checked_at)).toBe(60_000);
    });

    runIf('shows a record published at the doubled name, with a hint, on the domain', async () => {
      const domain = await addDnsDomain('doubled.test');
      server.setTxt(`${domain.dns_record.name}.doubled.test`, [[domain.dns_record.value]]);

      await verify(domain.id);
      const fetched = await api.get(`${domainsPath()}/${domain.id}`);

      expect(fetched.body.domain.verification_status).toBe('PENDING');
      expect(fetched.body.domain.last_check_result).toMatchObject({
        outcome: 'nxdomain',
        doubled_name: true,
        hint:
          `The record was published at ${domain.dns_record.name}.doubled.test; your DNS ` +
          `provider appended the domain: enter only \`${domain.txt_record_key}\` as the host`,
      });
    });

    runIf('answers at once, without a check, for admin-verified and allowed domains', async () => {
      const admin = await api.post(domainsPath(), { domain: 'admin.test' });
      const allowed = await api.post(domainsPath(), {
        domain: 'allowed.test',
        domain_type: 'ALLOWED_EMAIL_DOMAIN',
      });

      const adminAnswer = await verify(admin.body.domain.id);
      const allowedAnswer = await verify(allowed.body.domain.id);

      expect(adminAnswer.body).toEqual({ verified: true, check: null, domain: admin.body.domain });
      expect(allowedAnswer.body).toEqual({
        verified: true,
        check: null,
        domain: allowed.body.domain,
      });
      expect(server.queries()).toEqual([]);
    });

    runIf(
      'fails a domain past its window; it stays failed; re-adding gives a fresh secret',
      async () => {
        const domain = await addDnsDomain('expired.test', expiredApi);

        const failed = await verify(domain.id, expiredApi);
        server.setTxt(domain.dns_record.name, [[domain.dns_record.value]]);
        const queriesBefore = server.queries().length;
        const again = await verify(domain.id);

        expect(failed.body).toMatchObject({
          verified: false,
          check: { outcome: 'nxdomain' },
          domain: {
            verification_status: 'FAILED',
            failure_reason: 'verification_window_expired',
            next_check_at: null,
          },
        });
        expect(again.status).toBe(409);
        expect(again.body.error).toMatchObject({
          code: 'domain_verification_failed',
          message:
            'expired.test failed verification (verification_window_expired) and stays failed: ' +
            'delete it and add it again for a fresh TXT record',
        });
        expect(server.queries()).toHaveLength(queriesBefore);
        const failedEvents = await eventsOf(domain.id, FAILED);
        expect(failedEvents).toHaveLength(1);
        expect(failedEvents[0].data.failure_reason).toBe('verification_window_expired');

        expect((await api.delete(`${domainsPath()}/${domain.id}`)).status).toBe(204);
        const readded = await addDnsDomain('expired.test');
        expect(readded.id).not.toBe(domain.id);
        expect(readded.txt_record_secret).not.toBe(domain.txt_record_secret);
        expect(readded.verification_status).toBe('PENDING');
        server.setTxt(readded.dns_record.name, [[readded.dns_record.value]]);
        const verified = await verify(readded.id);
        expect(verified.body.verified).toBe(true);
        expect(verified.body.domain.verification_status).toBe('VERIFIED');
      },
    );

    runIf('fails other organizations’ pending claims when one verifies', async () => {
      const other = await api.post('/api/v1/organizations', { display_name: 'Other Corp' });
      const otherPath = `/api/v1/organizations/${other.body.organization.id}/domains`;
      const mine = await addDnsDomain('shared.test');
      const theirs = await api.post(otherPath, {
        domain: 'shared.test',
        verification_method: 'DNS',
      });
      server.setTxt(mine.dns_record.name, [[mine.dns_record.value]]);

      const answer = await verify(mine.id);
      const theirsAfter = await api.get(`${otherPath}/${theirs.body.domain.id}`);
      const theirsVerify = await verify(theirs.body.domain.id, api, otherPath);

      expect(answer.body.verified).toBe(true);
      expect(theirsAfter.body.domain).toMatchObject({
        verification_status: 'FAILED',
        failure_reason: 'verified_by_other_organization',
        next_check_at: null,
      });
      expect([theirsVerify.status, theirsVerify.body.error.code]).toEqual([
        409,
        'domain_verification_failed',
      ]);
      const failedEvents = await eventsOf(theirs.body.domain.id, FAILED);
      expect(failedEvents).toHaveLength(1);
      expect(failedEvents[0]).toMatchObject({
        organization_id: other.body.organization.id,
        display_name: 'Other Corp',
        data: { failure_reason: 'verified_by_other_organization' },
      });
    });

    runIf('answers 404 for a domain of another organization or none', async () => {
      const other = await api.post('/api/v1/organizations', { display_name: 'Third Corp' });
      const domain = await addDnsDomain('someone-elses.test');
      const otherPath = `/api/v1/organizations/${other.body.organization.id}/domains`;

      const wrongOrganization = await verify(domain.id, api, otherPath);
      const missing = await verify('dom_missing');
      const missingOrganization = await verify(
        domain.id,
        api,
        '/api/v1/organizations/org_missing/domains',
      );

      for (const answer of [wrongOrganization, missing, missingOrganization]) {
        expect(answer.status).toBe(404);
        expect(answer.body.error).toMatchObject({ code: 'not_found', message: 'Domain not found' });
      }
      expect(server.queries()).toEqual([]);
    });

    runIf('answers 401 without a bearer token', async () => {
      const domain = await addDnsDomain('anonymous.test');
      const anonymous = apiClient(buildApp(test.database, { config: configWith() }), undefined);

      const answer = await verify(domain.id, anonymous);

      expect(answer.status).toBe(401);
      expect(server.queries()).toEqual([]);
    });

    runIf('is described in the OpenAPI document', async () => {
      const document = await api.get('/openapi.json');

      const operation =
        document.body.paths['/api/v1/organizations/{organization_id}/domains/{id}/verify']?.post;
      expect(operation).toMatchObject({
        tags: ['Domains'],
        security: [{ bearerAuth: [] }],
      });
      expect(Object.keys(operation.responses).sort()).toEqual(['200', '400', '401', '404', '409']);
      expect(document.body.components.schemas.CheckResult.properties.outcome.enum).toEqual([
        'found',
        'mismatch',
        'nxdomain',
        'nodata',
        'servfail',
        'timeout',
      ]);
    });
  },
);
