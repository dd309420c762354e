import { startDnsServer, type TestDnsServer } from '@verihook/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type ApiClient,
  allEvents,
  apiClient,
  backendAvailable,
  buildApp,
  openTestBackend,
  type TestApp,
  type TestBackend,
  testConfig,
  tokenFor,
} from '../helpers.ts';
import {
  createOrganization,
  csrfTokenOf,
  type PortalBrowser,
  portalSession,
} from './portal-client.ts';

const backendName = backendAvailable('postgres') ? 'postgres' : 'pglite';

let backend: TestBackend;
let dns: TestDnsServer;
let app: TestApp;
let api: ApiClient;

beforeAll(async () => {
  [backend, dns] = await Promise.all([
    openTestBackend(backendName, 'portal_page'),
    startDnsServer(),
  ]);
  const config = testConfig({ VERIHOOK_DNS_SERVERS: dns.address, VERIHOOK_DNS_TIMEOUT: '500ms' });
  app = buildApp(backend.database, { config });
  api = apiClient(app, await tokenFor(app, backend.database));
});

afterAll(async () => {
  await dns.close();
  await backend.dispose();
});

beforeEach(() => dns.clear());

async function addDomain(browser: PortalBrowser, domain: string) {
  return browser.post('/portal/domains', { domain, csrf_token: await browser.csrfToken() });
}

async function domainsOf(organizationId: string) {
  const listed = await api.get(`/api/v1/organizations/${organizationId}/domains`);
  return listed.body.domains as { id: string; domain: string; verification_status: string }[];
}

function escapedAttribute(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;');
}

describe('the portal page', () => {
  it('lists the domains with status in words, check result and next check', async () => {
    const organizationId = await createOrganization(api, 'List Corp');
    await api.post(`/api/v1/organizations/${organizationId}/domains`, {
      domain: 'admin-list.test',
    });
    const pending = await api.post(`/api/v1/organizations/${organizationId}/domains`, {
      domain: 'dns-list.test',
      verification_method: 'DNS',
    });
    const browser = await portalSession(app, api, organizationId);

    const page = await browser.get('/portal');

    expect(page.status).toBe(200);
    expect(page.text).toContain('<h3 id="');
    expect(page.text).toContain('admin-list.test</h3>');
    expect(page.text).toContain('<span class="sr-only">Status: </span>Verified');
    expect(page.text).toContain('<span class="sr-only">Status: </span>Pending');
    expect(page.text).toContain('<span data-field="check-summary">Not checked yet</span>');
    const nextCheck = pending.body.domain.next_check_at as string;
    expect(page.text).toContain(
      `<time data-field="next-check" datetime="${nextCheck}">` +
        `${nextCheck.slice(0, 10)} ${nextCheck.slice(11, 19)} UTC</time>`,
    );
  });

  it('shows the TXT record name, host and value with copy buttons and the host note', async () => {
    const organizationId = await createOrganization(api, 'Record Corp');
    const created = await api.post(`/api/v1/organizations/${organizationId}/domains`, {
      domain: 'record.test',
      verification_method: 'DNS',
    });
    const { id, dns_record, txt_record_key } = created.body.domain;
    const browser = await portalSession(app, api, organizationId);

    const page = await browser.get('/portal');

    expect(page.text).toContain(
      `id="${id}-name" type="text" class="mono" readonly="" value="${dns_record.name}"`,
    );
    expect(page.text).toContain(
      `id="${id}-host" type="text" class="mono" readonly="" value="${txt_record_key}"`,
    );
    expect(page.text).toContain(`value="${escapedAttribute(dns_record.value)}"`);
    expect(page.text).toContain(`data-copy="${id}-value"`);
    expect(page.text).toContain(
      `Enter only the host part (<code>${txt_record_key}</code>) ` +
        'if your DNS provider appends the domain',
    );
  });

  it('serves the same domains as JSON for the live refresh', async () => {
    const organizationId = await createOrganization(api, 'Status Corp');
    const created = await api.post(`/api/v1/organizations/${organizationId}/domains`, {
      domain: 'status.test',
      verification_method: 'DNS',
    });
    const browser = await portalSession(app, api, organizationId);

    const status = await browser.get('/portal/status');

    expect(status.status).toBe(200);
    expect(status.headers.get('cache-control')).toBe('no-store');
    const body = JSON.parse(status.text);
    expect(body.organization).toEqual({
      id: organizationId,
      display_name: 'Status Corp',
      domain_verification_enabled: true,
    });
    expect(body.domains).toHaveLength(1);
    expect(body.domains[0]).toMatchObject({
      id: created.body.domain.id,
      status: 'PENDING',
      status_label: 'Pending',
      check_summary: 'Not checked yet',
      next_check_at: created.body.domain.next_check_at,
      record: {
        name: created.body.domain.dns_record.name,
        host: created.body.domain.txt_record_key,
        value: created.body.domain.dns_record.value,
      },
      can_verify: true,
    });
  });

  it('escapes what users typed: a display name with <script> is shown as text', async () => {
    const organizationId = await createOrganization(api, '<script>alert("owned")</script> & Co');
    const browser = await portalSession(app, api, organizationId);

    const page = await browser.get('/portal');

    expect(page.text).toContain(
      'Domains of &lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt; &amp; Co',
    );
    expect(page.text).not.toContain('<script>alert');
    expect(page.text.match(/<script/g)).toEqual(['<script']);
  });

  it('escapes a rejected domain name when the form shows it again', async () => {
    const organizationId = await createOrganization(api, 'Echo Corp');
    const browser = await portalSession(app, api, organizationId);

    const answer = await addDomain(browser, '"><img src=x onerror=alert(1)>');

    expect(answer.status).toBe(400);
    expect(answer.text).toContain('value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"');
    expect(answer.text).not.toContain('<img');
  });

  it('serves a strict CSP: no inline script, the style by hash, forms to itself', async () => {
    const organizationId = await createOrganization(api, 'Policy Corp');
    const browser = await portalSession(app, api, organizationId);

    const page = await browser.get('/portal');
    const script = await browser.get('/portal/portal.js');

    expect(page.headers.get('content-security-policy')?.split('; ')).toEqual([
      "default-src 'none'",
      "script-src 'self'",
      expect.stringMatching(/^style-src 'sha256-[A-Za-z0-9+/]{43}='$/),
      "img-src 'self' data:",
      "connect-src 'self'",
      "form-action 'self'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ]);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('referrer-policy')).toBe('same-origin');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.text).toContain("document.querySelector('[data-portal]')");
  });
});

describe('adding a domain', () => {
  it('adds a PENDING DNS domain and redirects to the page with a flash message', async () => {
    const organizationId = await createOrganization(api, 'Add Corp');
    const browser = await portalSession(app, api, organizationId);

    const added = await addDomain(browser, '  Add-Corp.TEST. ');

    expect(added.status).toBe(303);
    const [domain] = await domainsOf(organizationId);
    expect(domain).toMatchObject({ domain: 'add-corp.test', verification_status: 'PENDING' });
    expect(added.headers.get('location')).toBe(`/portal#${domain?.id}`);
    const page = await browser.get('/portal');
    expect(page.text).toContain(
      'Added add-corp.test. Publish its TXT record below, then press Verify now.',
    );
    expect((await browser.get('/portal')).text).not.toContain('Added add-corp.test.');
    const types = (await allEvents(backend.database))
      .filter((event) => event.organizationId === organizationId)
      .map((event) => event.type);
    expect(types).toEqual(['organization.domain_created']);
  });

  it('shows the same error messages as the API, with its status', async () => {
    const organizationId = await createOrganization(api, 'Error Corp');
    const browser = await portalSession(app, api, organizationId);
    const viaApi = await api.post(`/api/v1/organizations/${organizationId}/domains`, {
      domain: 'gmail.com',
      verification_method: 'DNS',
    });

    const viaPortal = await addDomain(browser, 'gmail.com');
    await addDomain(browser, 'twice.test');
    const duplicate = await addDomain(browser, 'twice.test');

    expect(viaApi.status).toBe(400);
    expect(viaPortal.status).toBe(400);
    expect(viaPortal.text).toContain(
      `<p id="domain-error" class="field-error" role="alert">${viaApi.body.error.message}</p>`,
    );
    expect(viaPortal.text).toContain('aria-invalid="true"');
    expect(duplicate.status).toBe(409);
    expect(duplicate.text).toContain('This organization already has this domain');
  });

  it('says the feature is off and shows no form when domain_verification is off', async () => {
    const organizationId = await createOrganization(api, 'Off Corp', false);
    const browser = await portalSession(app, api, organizationId);

    const page = await browser.get('/portal');
    const forced = await browser.post('/portal/domains', {
      domain: 'forced.test',
      csrf_token: csrfTokenOf(page.text),
    });

    expect(page.text).toContain('Domain verification is turned off for this organization');
    expect(page.text).not.toContain('action="/portal/domains"');
    expect(page.text).not.toContain('id="domain-input"');
    expect(forced.status).toBe(403);
    expect(forced.text).toContain('Domain verification is turned off for this organization');
    expect(await domainsOf(organizationId)).toEqual([]);
  });
});

describe('verify now', () => {
  it('finds the published record, marks the domain Verified, records the event', async () => {
    const organizationId = await createOrganization(api, 'Verify Corp');
    const browser = await portalSession(app, api, organizationId);
    await addDomain(browser, 'verify.test');
    const [domain] = await domainsOf(organizationId);
    const page = await browser.get('/portal');
    const name = /id="[^"]+-name" type="text" class="mono" readonly="" value="([^"]+)"/.exec(
      page.text,
    )?.[1];
    const value = /id="[^"]+-value" type="text" class="mono" readonly="" value="([^"]+)"/.exec(
      page.text,
    )?.[1];
    dns.setTxt(name ?? '', [value ?? '']);

    const verified = await browser.post(`/portal/domains/${domain?.id}/verify`, {
      csrf_token: csrfTokenOf(page.text),
    });

    expect(verified.status).toBe(303);
    expect(verified.headers.get('location')).toBe(`/portal#${domain?.id}`);
    const after = await browser.get('/portal');
    expect(after.text).toContain('verify.test is verified: the TXT record was found.');
    expect(after.text).toContain('<span class="sr-only">Status: </span>Verified');
    expect((await domainsOf(organizationId))[0]?.verification_status).toBe('VERIFIED');
    const types = (await allEvents(backend.database))
      .filter((event) => event.organizationId === organizationId)
      .map((event) => event.type);
    expect(types).toEqual([
      'organization.domain_created',
      'organization.domain_dns_verification_success',
    ]);
  });

  it('tells what the check found when the record is missing', async () => {
    const organizationId = await createOrganization(api, 'Missing Corp');
    const browser = await portalSession(app, api, organizationId);
    await addDomain(browser, 'missing.test');
    const [domain] = await domainsOf(organizationId);

    await browser.post(`/portal/domains/${domain?.id}/verify`, {
      csrf_token: await browser.csrfToken(),
    });
    const page = await browser.get('/portal');

    expect(page.text).toContain(
      'missing.test is not verified yet. ' +
        'Record not found: the name does not exist yet. See the check result below.',
    );
    expect(page.text).toContain(
      '<span data-field="check-summary">Record not found: the name does not exist yet</span>',
    );
    expect(page.text).toContain('<span class="sr-only">Status: </span>Pending');
    expect(page.text).toContain(
      '<p class="hint" data-field="hint"><span data-field="hint-text">' +
        'No DNS name _verihook-challenge-',
    );
  });

  it('points at the doubled name when the provider appended the domain', async () => {
    const organizationId = await createOrganization(api, 'Doubled Corp');
    const created = await api.post(`/api/v1/organizations/${organizationId}/domains`, {
      domain: 'doubled.test',
      verification_method: 'DNS',
    });
    const { id, dns_record, txt_record_key } = created.body.domain;
    dns.setTxt(`${dns_record.name}.doubled.test`, [dns_record.value]);
    const browser = await portalSession(app, api, organizationId);

    await browser.post(`/portal/domains/${id}/verify`, { csrf_token: await browser.csrfToken() });
    const page = await browser.get('/portal');

    expect(page.text).toContain('<p class="hint doubled" data-field="hint">');
    expect(page.text).toContain(
      `your DNS provider appended the domain: enter only \`${txt_record_key}\` as the host`,
    );
  });
});

describe('deleting a domain', () => {
  it('asks for confirmation without JavaScript, then deletes with its event', async () => {
    const organizationId = await createOrganization(api, 'Delete Corp');
    const browser = await portalSession(app, api, organizationId);
    await addDomain(browser, 'delete.test');
    const [domain] = await domainsOf(organizationId);
    const csrf = await browser.csrfToken();

    const asked = await browser.post(`/portal/domains/${domain?.id}/delete`, { csrf_token: csrf });
    const deleted = await browser.post(`/portal/domains/${domain?.id}/delete`, {
      csrf_token: csrf,
      confirm: 'yes',
    });

    expect(asked.status).toBe(200);
    expect(asked.text).toContain('<h1>Delete delete.test?</h1>');
    expect(deleted.status).toBe(303);
    expect(await domainsOf(organizationId)).toEqual([]);
    expect((await browser.get('/portal')).text).toContain('Deleted delete.test.');
    const types = (await allEvents(backend.database))
      .filter((event) => event.organizationId === organizationId)
      .map((event) => event.type);
    expect(types).toEqual(['organization.domain_created', 'organization.domain_deleted']);
  });
});

describe("a session's reach", () => {
  it("neither shows nor changes another organization's domains: 404", async () => {
    const mineId = await createOrganization(api, 'Mine Corp');
    const theirsId = await createOrganization(api, 'Theirs Corp');
    const theirs = await api.post(`/api/v1/organizations/${theirsId}/domains`, {
      domain: 'theirs.test',
      verification_method: 'DNS',
    });
    const theirDomainId = theirs.body.domain.id as string;
    const browser = await portalSession(app, api, mineId);
    const csrf = await browser.csrfToken();

    const page = await browser.get('/portal');
    const status = JSON.parse((await browser.get('/portal/status')).text);
    const verify = await browser.post(`/portal/domains/${theirDomainId}/verify`, {
      csrf_token: csrf,
    });
    const ask = await browser.post(`/portal/domains/${theirDomainId}/delete`, { csrf_token: csrf });
    const remove = await browser.post(`/portal/domains/${theirDomainId}/delete`, {
      csrf_token: csrf,
      confirm: 'yes',
    });

    expect(page.text).not.toContain('theirs.test');
    expect(status.domains).toEqual([]);
    expect(verify.status).toBe(404);
    expect(verify.text).toContain('Domain not found');
    expect(ask.status).toBe(404);
    expect(remove.status).toBe(404);
    expect(await domainsOf(theirsId)).toMatchObject([
      { id: theirDomainId, verification_status: 'PENDING' },
    ]);
  });
});

describe('CSRF protection', () => {
  it('refuses a POST without the token, a wrong one or another session’s: 403', async () => {
    const organizationId = await createOrganization(api, 'Csrf Corp');
    const browser = await portalSession(app, api, organizationId);
    const otherSession = await portalSession(app, api, organizationId);
    const othersToken = await otherSession.csrfToken();

    const without = await browser.post('/portal/domains', { domain: 'csrf-a.test' });
    const wrong = await browser.post('/portal/domains', {
      domain: 'csrf-b.test',
      csrf_token: 'not-the-token',
    });
    const borrowed = await browser.post('/portal/domains', {
      domain: 'csrf-c.test',
      csrf_token: othersToken,
    });

    for (const refused of [without, wrong, borrowed]) {
      expect(refused.status).toBe(403);
      expect(refused.text).toContain('csrf_token_invalid');
    }
    expect(await domainsOf(organizationId)).toEqual([]);
  });

  it('refuses a POST from another origin even with the right token: 403', async () => {
    const organizationId = await createOrganization(api, 'Origin Corp');
    const browser = await portalSession(app, api, organizationId);
    const csrf = await browser.csrfToken();

    const foreign = await browser.post(
      '/portal/domains',
      { domain: 'origin-a.test', csrf_token: csrf },
      { origin: 'https://attacker.example' },
    );
    const opaque = await browser.post(
      '/portal/domains',
      { domain: 'origin-b.test', csrf_token: csrf },
      { origin: 'null' },
    );
    const noOrigin = await browser.post(
      '/portal/domains',
      { domain: 'origin-c.test', csrf_token: csrf },
      { origin: null },
    );

    expect(foreign.status).toBe(403);
    expect(foreign.text).toContain('cross_origin_request');
    expect(opaque.status).toBe(403);
    expect(noOrigin.status).toBe(303);
    expect((await domainsOf(organizationId)).map((domain) => domain.domain)).toEqual([
      'origin-c.test',
    ]);
  });

  it('refuses a POST without a session before anything else: 401', async () => {
    const organizationId = await createOrganization(api, 'No Session Corp');
    const browser = await portalSession(app, api, organizationId);
    const csrf = await browser.csrfToken();

    const anonymous = await app.request('http://localhost/portal/domains', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
      body: new URLSearchParams({ domain: 'anon.test', csrf_token: csrf }).toString(),
    });

    expect(anonymous.status).toBe(401);
    expect(await domainsOf(organizationId)).toEqual([]);
  });
});
