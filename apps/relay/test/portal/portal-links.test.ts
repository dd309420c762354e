import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/auth/secrets.ts';
import { portalLinks, portalSessions } from '../../src/db/schema/index.ts';
import {
  type ApiClient,
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
  openLink,
  portalBrowser,
  portalLinkFor,
  portalSession,
} from './portal-client.ts';

const backendName = backendAvailable('postgres') ? 'postgres' : 'pglite';
const SESSION = 'vh_ps_[\\w-]{43}';
const ATTRIBUTES = 'Max-Age=21600; Path=/; HttpOnly';

let backend: TestBackend;
let app: TestApp;
let api: ApiClient;

beforeAll(async () => {
  backend = await openTestBackend(backendName, 'portal_links');
  app = buildApp(backend.database);
  api = apiClient(app, await tokenFor(app, backend.database));
});

afterAll(() => backend.dispose());

function appWith(env: Record<string, string>): TestApp {
  return buildApp(backend.database, { config: testConfig(env) });
}

function tokenOf(location: string): string {
  return new URL(location).searchParams.get('token') ?? '';
}

describe('POST /api/v1/organizations/{id}/portal_links', () => {
  it('returns a single-use link for the organization that expires after a minute', async () => {
    const organizationId = await createOrganization(api, 'Link Corp');
    const before = Date.now();

    const created = await api.post(`/api/v1/organizations/${organizationId}/portal_links`);

    expect(created.status).toBe(201);
    const { link } = created.body;
    expect(Object.keys(link).sort()).toEqual([
      'expire_time',
      'id',
      'location',
      'object',
      'organization_id',
    ]);
    expect(link.id).toMatch(/^plink_[0-9A-Z]{26}$/);
    expect(link.object).toBe('portal_link');
    expect(link.organization_id).toBe(organizationId);
    expect(link.location).toMatch(/^http:\/\/localhost\/portal\/open\?token=vh_pl_[\w-]{43}$/);
    const expiresAt = Date.parse(link.expire_time);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 60_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);
  });

  it('stores only the hash of the token', async () => {
    const organizationId = await createOrganization(api, 'Hash Corp');
    const link = await portalLinkFor(api, organizationId);
    const token = tokenOf(link.location);

    const [row] = await backend.database.db
      .select()
      .from(portalLinks)
      .where(eq(portalLinks.id, link.id));

    expect(row?.tokenHash).toBe(hashToken(token));
    expect(JSON.stringify(row)).not.toContain(token);
  });

  it('builds the location on VERIHOOK_PUBLIC_URL when it is set', async () => {
    const organizationId = await createOrganization(api, 'Public Corp');
    const withPublicUrl = apiClient(
      appWith({ VERIHOOK_PUBLIC_URL: 'https://relay.example.com/' }),
      await tokenFor(app, backend.database),
    );

    const created = await withPublicUrl.post(
      `/api/v1/organizations/${organizationId}/portal_links`,
    );

    expect(created.status).toBe(201);
    expect(created.body.link.location).toMatch(
      /^https:\/\/relay\.example\.com\/portal\/open\?token=vh_pl_/,
    );
  });

  it('answers 404 for an unknown organization and 401 without a bearer token', async () => {
    const missing = await api.post(
      '/api/v1/organizations/org_00000000000000000000000000/portal_links',
    );
    const anonymous = await apiClient(app, undefined).post(
      '/api/v1/organizations/org_00000000000000000000000000/portal_links',
    );

    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({
      code: 'not_found',
      message: 'Organization not found',
    });
    expect(anonymous.status).toBe(401);
  });

  it('rejects an unknown body field with the offending field named', async () => {
    const organizationId = await createOrganization(api, 'Strict Corp');

    const created = await api.post(`/api/v1/organizations/${organizationId}/portal_links`, {
      mode: 'embed',
    });

    expect(created.status).toBe(400);
    expect(created.body.error.code).toBe('validation_failed');
    expect(created.body.error.fields).toEqual([{ path: 'mode', message: 'is not a known field' }]);
  });
});

describe('GET /portal/open', () => {
  it('starts a session: an HttpOnly, SameSite=Lax cookie for 6 hours, then the page', async () => {
    const organizationId = await createOrganization(api, 'Open Corp');
    const link = await portalLinkFor(api, organizationId);

    const opened = await openLink(app, link.location);

    expect(opened.location).toBe('/portal');
    expect(opened.setCookie).toMatch(
      /^verihook_portal=vh_ps_[\w-]{43}; Max-Age=21600; Path=\/; HttpOnly; SameSite=Lax$/,
    );
    const page = await portalBrowser(app, opened.cookie).get('/portal');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Domains of Open Corp');
  });

  it('stores only the hash of the session id', async () => {
    const organizationId = await createOrganization(api, 'Session Hash Corp');
    const link = await portalLinkFor(api, organizationId);
    const opened = await openLink(app, link.location);
    const sessionToken = opened.cookie.split('=')[1] ?? '';

    const [row] = await backend.database.db
      .select()
      .from(portalSessions)
      .where(eq(portalSessions.linkId, link.id));

    expect(row?.tokenHash).toBe(hashToken(sessionToken));
    expect(row?.organizationId).toBe(organizationId);
    expect(JSON.stringify(row)).not.toContain(sessionToken);
  });

  it('marks the cookie Secure with the __Host- prefix when served over https', async () => {
    const secureApp = appWith({ VERIHOOK_PUBLIC_URL: 'https://relay.example.com' });
    const organizationId = await createOrganization(api, 'Secure Corp');
    const link = await portalLinkFor(api, organizationId);

    const opened = await openLink(secureApp, link.location);

    expect(opened.setCookie).toMatch(
      new RegExp(`^__Host-verihook_portal=${SESSION}; ${ATTRIBUTES}; Secure; SameSite=Lax$`),
    );
  });

  it('refuses a second opening with 410; the first session lives on', async () => {
    const organizationId = await createOrganization(api, 'Once Corp');
    const link = await portalLinkFor(api, organizationId);
    const first = await openLink(app, link.location);

    const second = await app.request(link.location);

    expect(second.status).toBe(410);
    expect(second.headers.get('set-cookie')).toBeNull();
    expect(await second.text()).toContain('This link has already been used');
    expect((await portalBrowser(app, first.cookie).get('/portal')).status).toBe(200);
  });

  it('lets a HEAD request (a link scanner) leave the link unused', async () => {
    const organizationId = await createOrganization(api, 'Scanner Corp');
    const link = await portalLinkFor(api, organizationId);

    const head = await app.request(link.location, { method: 'HEAD' });
    const opened = await app.request(link.location);

    expect(head.status).toBe(200);
    expect(head.headers.get('set-cookie')).toBeNull();
    expect(opened.status).toBe(303);
  });

  it('lets only one of two simultaneous openings through', async () => {
    const organizationId = await createOrganization(api, 'Race Corp');
    const link = await portalLinkFor(api, organizationId);

    const answers = await Promise.all([app.request(link.location), app.request(link.location)]);

    expect(answers.map((response) => response.status).sort()).toEqual([303, 410]);
  });

  it('refuses a link after its time is up with 410', async () => {
    const shortApp = appWith({ VERIHOOK_PORTAL_LINK_TTL: '100ms' });
    const shortApi = apiClient(shortApp, await tokenFor(shortApp, backend.database));
    const organizationId = await createOrganization(shortApi, 'Late Corp');
    const link = await portalLinkFor(shortApi, organizationId);
    await new Promise((resolve) => setTimeout(resolve, 250));

    const opened = await shortApp.request(link.location);

    expect(opened.status).toBe(410);
    expect(await opened.text()).toContain('This link has expired');
  });

  it('answers 404 for a token it never issued', async () => {
    const opened = await app.request('/portal/open?token=vh_pl_made-up');
    const empty = await app.request('/portal/open');

    expect(opened.status).toBe(404);
    expect(await opened.text()).toContain('This link is not valid');
    expect(empty.status).toBe(404);
  });

  it('ends the session after VERIHOOK_PORTAL_SESSION_TTL', async () => {
    const shortApp = appWith({ VERIHOOK_PORTAL_SESSION_TTL: '300ms' });
    const organizationId = await createOrganization(api, 'Brief Corp');
    const link = await portalLinkFor(api, organizationId);
    const opened = await openLink(shortApp, link.location);
    const browser = portalBrowser(shortApp, opened.cookie);
    expect((await browser.get('/portal')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 400));

    const page = await browser.get('/portal');

    expect(page.status).toBe(401);
    expect(page.text).toContain('Your portal session has ended');
  });
});

describe('without a session', () => {
  it('answers the page with 401 and the status route with a JSON 401', async () => {
    const browser = portalBrowser(app, undefined);

    const page = await browser.get('/portal');
    const status = await browser.get('/portal/status');

    expect(page.status).toBe(401);
    expect(page.headers.get('content-type')).toBe('text/html; charset=UTF-8');
    expect(page.text).toContain('Please open a new portal link');
    expect(status.status).toBe(401);
    expect(JSON.parse(status.text).error.code).toBe('portal_session_required');
  });

  it('refuses a made-up session cookie', async () => {
    const page = await portalBrowser(app, 'verihook_portal=vh_ps_guessed').get('/portal');

    expect(page.status).toBe(401);
  });
});

describe('revocation', () => {
  it('DELETE …/portal_sessions ends every session and unused link of the org', async () => {
    const organizationId = await createOrganization(api, 'Revoke Corp');
    const otherId = await createOrganization(api, 'Bystander Corp');
    const one = await portalSession(app, api, organizationId);
    const two = await portalSession(app, api, organizationId);
    const other = await portalSession(app, api, otherId);
    const unused = await portalLinkFor(api, organizationId);

    const revoked = await api.delete(`/api/v1/organizations/${organizationId}/portal_sessions`);

    expect(revoked.status).toBe(204);
    expect((await one.get('/portal')).status).toBe(401);
    expect((await two.get('/portal/status')).status).toBe(401);
    expect((await other.get('/portal')).status).toBe(200);
    const reopened = await app.request(unused.location);
    expect(reopened.status).toBe(410);
    expect(await reopened.text()).toContain('This link was revoked');
  });

  it('DELETE …/portal_links/{link_id} ends the session that link opened', async () => {
    const organizationId = await createOrganization(api, 'Single Revoke Corp');
    const link = await portalLinkFor(api, organizationId);
    const kept = await portalSession(app, api, organizationId);
    const opened = portalBrowser(app, (await openLink(app, link.location)).cookie);

    const revoked = await api.delete(
      `/api/v1/organizations/${organizationId}/portal_links/${link.id}`,
    );

    expect(revoked.status).toBe(204);
    expect((await opened.get('/portal')).status).toBe(401);
    expect((await kept.get('/portal')).status).toBe(200);
  });

  it("answers 404 for another organization's link or an unknown organization", async () => {
    const organizationId = await createOrganization(api, 'Owner Corp');
    const otherId = await createOrganization(api, 'Not Owner Corp');
    const link = await portalLinkFor(api, organizationId);

    const foreign = await api.delete(`/api/v1/organizations/${otherId}/portal_links/${link.id}`);
    const unknown = await api.delete(
      '/api/v1/organizations/org_00000000000000000000000000/portal_sessions',
    );

    expect(foreign.status).toBe(404);
    expect(foreign.body.error.message).toBe('Portal link not found');
    expect(unknown.status).toBe(404);
    expect((await app.request(link.location)).status).toBe(303);
  });

  it('ends the session when the organization is deleted', async () => {
    const organizationId = await createOrganization(api, 'Gone Corp');
    const browser = await portalSession(app, api, organizationId);

    expect((await api.delete(`/api/v1/organizations/${organizationId}`)).status).toBe(204);

    expect((await browser.get('/portal')).status).toBe(401);
  });

  it('ends the session when the admin presses End session', async () => {
    const organizationId = await createOrganization(api, 'Logout Corp');
    const browser = await portalSession(app, api, organizationId);

    const ended = await browser.post('/portal/logout', { csrf_token: await browser.csrfToken() });

    expect(ended.status).toBe(200);
    expect(ended.text).toContain('Session ended');
    expect(ended.headers.get('set-cookie')).toMatch(/^verihook_portal=; Max-Age=0; Path=\//);
    expect((await browser.get('/portal')).status).toBe(401);
  });
});

describe('embed mode', () => {
  const FRAMED = {
    VERIHOOK_PORTAL_FRAME_ANCESTORS: 'https://app.example.com https://*.example.org',
  };

  it('serves /portal/embed with configured frame-ancestors, no X-Frame-Options', async () => {
    const framedApp = appWith(FRAMED);
    const organizationId = await createOrganization(api, 'Embed Corp');
    const link = await portalLinkFor(api, organizationId);
    const browser = portalBrowser(framedApp, (await openLink(framedApp, link.location)).cookie);

    const embedded = await browser.get('/portal/embed');
    const query = await browser.get('/portal?embed=1');

    expect(embedded.status).toBe(200);
    expect(embedded.headers.get('content-security-policy')).toContain(
      'frame-ancestors https://app.example.com https://*.example.org',
    );
    expect(embedded.headers.get('x-frame-options')).toBeNull();
    expect(embedded.text).not.toContain('class="topbar"');
    expect(embedded.text).toContain('<input type="hidden" name="embed" value="1"/>');
    expect(query.headers.get('content-security-policy')).toContain(
      'frame-ancestors https://app.example.com',
    );
  });

  it("keeps the page out of frames: frame-ancestors 'none', X-Frame-Options DENY", async () => {
    const framedApp = appWith(FRAMED);
    const organizationId = await createOrganization(api, 'Unframed Corp');
    const link = await portalLinkFor(api, organizationId);
    const browser = portalBrowser(framedApp, (await openLink(framedApp, link.location)).cookie);

    const page = await browser.get('/portal');

    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.text).toContain('class="topbar"');
  });

  it('frames nowhere when no ancestors are configured', async () => {
    const organizationId = await createOrganization(api, 'Default Embed Corp');
    const browser = await portalSession(app, api, organizationId);

    const embedded = await browser.get('/portal/embed');

    expect(embedded.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('opens an embed link on /portal/embed, with a partitioned cookie over https', async () => {
    const secureApp = appWith({ ...FRAMED, VERIHOOK_PUBLIC_URL: 'https://relay.example.com' });
    const organizationId = await createOrganization(api, 'Widget Corp');
    const link = await portalLinkFor(api, organizationId, { embed: true });

    const opened = await openLink(secureApp, link.location);

    expect(opened.location).toBe('/portal/embed');
    expect(opened.setCookie).toMatch(
      new RegExp(
        `^__Host-verihook_portal=${SESSION}; ${ATTRIBUTES}; Secure; SameSite=None; Partitioned$`,
      ),
    );
  });
});
