// A tiny browser stand-in for the portal's HTTP tests: one cookie, forms posted like a browser.
import type { ApiClient, TestApp } from '../helpers.ts';

export interface PortalAnswer {
  status: number;
  headers: Headers;
  text: string;
}

export interface OpenedPortal {
  /** The `name=value` of the session cookie. */
  cookie: string;
  setCookie: string;
  location: string | null;
}

export const ORIGIN = 'http://localhost';

/** The CSRF token of the first form on a page. */
export function csrfTokenOf(html: string): string {
  const match = /name="csrf_token" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('the page has no form with a csrf_token');
  return match[1];
}

/** Creates an organization through the API, with its domain_verification feature on or off. */
export async function createOrganization(
  api: ApiClient,
  displayName: string,
  domainVerification = true,
): Promise<string> {
  const created = await api.post('/api/v1/organizations', { display_name: displayName });
  const id = created.body.organization.id as string;
  await api.patch(`/api/v1/organizations/${id}/settings`, {
    features: [{ name: 'domain_verification', enabled: domainVerification }],
  });
  return id;
}

/** A new portal link's location for the organization. */
export async function portalLinkFor(
  api: ApiClient,
  organizationId: string,
  body?: unknown,
): Promise<{ id: string; location: string }> {
  const created = await api.post(`/api/v1/organizations/${organizationId}/portal_links`, body);
  if (created.status !== 201) throw new Error(`portal_links answered ${created.status}`);
  return created.body.link;
}

/** Opens a link as a browser would and keeps the session cookie. */
export async function openLink(app: TestApp, location: string): Promise<OpenedPortal> {
  const response = await app.request(location);
  const setCookie = response.headers.get('set-cookie') ?? '';
  if (response.status !== 303 || !setCookie) {
    throw new Error(`opening the link answered ${response.status}: ${await response.text()}`);
  }
  return {
    cookie: setCookie.split(';')[0] ?? '',
    setCookie,
    location: response.headers.get('location'),
  };
}

async function answer(response: Response): Promise<PortalAnswer> {
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** A browser holding one portal session. */
export function portalBrowser(app: TestApp, cookie: string | undefined) {
  const headers = (extra: Record<string, string> = {}) => ({
    ...(cookie ? { cookie } : {}),
    ...extra,
  });
  return {
    get: async (path: string) =>
      answer(await app.request(`${ORIGIN}${path}`, { headers: headers() })),
    /** Posts a form; `origin: null` sends no Origin header. */
    post: async (
      path: string,
      fields: Record<string, string>,
      options: { origin?: string | null } = {},
    ) => {
      const origin = options.origin === undefined ? ORIGIN : options.origin;
      return answer(
        await app.request(`${ORIGIN}${path}`, {
          method: 'POST',
          headers: headers({
            'content-type': 'application/x-www-form-urlencoded',
            ...(origin === null ? {} : { origin }),
          }),
          body: new URLSearchParams(fields).toString(),
        }),
      );
    },
    /** The page's CSRF token, read off the portal page. */
    csrfToken: async () => {
      const page = await answer(await app.request(`${ORIGIN}/portal`, { headers: headers() }));
      return csrfTokenOf(page.text);
    },
  };
}

export type PortalBrowser = ReturnType<typeof portalBrowser>;

/** Opens a fresh link into the organization's portal and returns the browser holding it. */
export async function portalSession(
  app: TestApp,
  api: ApiClient,
  organizationId: string,
): Promise<PortalBrowser> {
  const link = await portalLinkFor(api, organizationId);
  const opened = await openLink(app, link.location);
  return portalBrowser(app, opened.cookie);
}
