// The portal in a real headless Chromium, against the relay served on 127.0.0.1 with a real
// test DNS server. Screenshots of each state go to .output/screenshots/.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ServerType, serve } from '@hono/node-server';
import { startDnsServer, type TestDnsServer } from '@verihook/testing';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { saveApiClient } from '../../src/auth/clients.ts';
import type { AppDeps } from '../../src/context.ts';
import { createLogger } from '../../src/logger.ts';
import { verifyDomainNow } from '../../src/verification/verify-now.ts';
import {
  backendAvailable,
  openTestBackend,
  TEST_CLIENT,
  type TestBackend,
  testConfig,
} from '../helpers.ts';

const CHROMIUM = process.env.TEST_CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const SCREENSHOTS = fileURLToPath(new URL('../../.output/screenshots/', import.meta.url));
const hasChromium = existsSync(CHROMIUM);
/** The page polls its status every 3 s. */
const LIVE = { timeout: 10_000 };

if (!hasChromium && process.env.CI === 'true') {
  describe('the portal in a browser', () => {
    it('needs Chromium under CI', () => {
      throw new Error(`${CHROMIUM} is missing: list "chromium" in .ci/apt-packages`);
    });
  });
}

// Scripts run in the page; strings, since this file is compiled without the DOM's types.
const FOCUS_OUTLINE =
  '(() => { const style = getComputedStyle(document.activeElement); ' +
  "return style.outlineStyle + ' ' + style.outlineWidth; })()";

interface FormChange {
  action?: string;
  dropToken?: boolean;
  domain?: string;
  fields?: Record<string, string>;
}

const tamperAndSubmit = `(change) => {
  const form = document.querySelector('form[action="/portal/domains"]');
  if (change.action) form.action = change.action;
  if (change.dropToken) form.querySelector('input[name="csrf_token"]').remove();
  if (change.domain) form.elements.namedItem('domain').value = change.domain;
  for (const [name, value] of Object.entries(change.fields ?? {})) {
    const input = document.createElement('input');
    Object.assign(input, { type: 'hidden', name, value });
    form.append(input);
  }
  form.submit();
}`;

/** Pages of another site: an attacker's form and the platform app that frames the portal. */
function startOtherSite(): Promise<{ origin: string; pages: Map<string, string>; server: Server }> {
  const pages = new Map<string, string>();
  const server = createServer((request, response) => {
    const body = pages.get(request.url ?? '');
    response.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/html' });
    response.end(body ?? 'not found');
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ origin: `http://127.0.0.1:${port}`, pages, server });
    });
  });
}

function listen(fetch: (request: Request) => Response | Promise<Response>): Promise<ServerType> {
  return new Promise((resolve) => {
    const server = serve({ fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(server));
  });
}

const TITLE = hasChromium
  ? 'the portal in a browser'
  : `the portal in a browser (skipped: no Chromium at ${CHROMIUM}; apt-get install chromium)`;

describe.skipIf(!hasChromium)(TITLE, () => {
  let backend: TestBackend;
  let dns: TestDnsServer;
  let other: Awaited<ReturnType<typeof startOtherSite>>;
  let relay: ServerType;
  let relayUrl: string;
  let deps: AppDeps;
  let browser: Browser;
  let context: BrowserContext;
  let bearer: string;

  async function callApi(method: string, path: string, body?: unknown) {
    const response = await fetch(`${relayUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: API bodies are read field by field
    return { status: response.status, body: (await response.json().catch(() => null)) as any };
  }

  async function newOrganization(name: string, domainVerification = true): Promise<string> {
    const created = await callApi('POST', '/api/v1/organizations', { display_name: name });
    const id = created.body.organization.id as string;
    await callApi('PATCH', `/api/v1/organizations/${id}/settings`, {
      features: [{ name: 'domain_verification', enabled: domainVerification }],
    });
    return id;
  }

  async function newLink(organizationId: string, body?: unknown): Promise<string> {
    const created = await callApi(
      'POST',
      `/api/v1/organizations/${organizationId}/portal_links`,
      body,
    );
    expect(created.status).toBe(201);
    return created.body.link.location as string;
  }

  async function shoot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  /** Changes the page's add form as a tampering user would, submits it, returns the answer. */
  async function submitAddForm(page: Page, change: FormChange) {
    const [response] = await Promise.all([
      page.waitForResponse((answer) => answer.request().method() === 'POST'),
      page.evaluate(`(${tamperAndSubmit})(${JSON.stringify(change)})`),
    ]);
    return response;
  }

  function card(page: Page, domain: string) {
    return page.locator('article.domain', { has: page.getByRole('heading', { name: domain }) });
  }

  beforeAll(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    [backend, dns, other] = await Promise.all([
      openTestBackend(backendAvailable('postgres') ? 'postgres' : 'pglite', 'portal_browser'),
      startDnsServer(),
      startOtherSite(),
    ]);
    const config = testConfig({
      VERIHOOK_DNS_SERVERS: dns.address,
      VERIHOOK_DNS_TIMEOUT: '500ms',
      VERIHOOK_PORTAL_FRAME_ANCESTORS: other.origin,
    });
    deps = { database: backend.database, config, logger: createLogger({ level: 'silent' }) };
    relay = await listen(createApp(deps).fetch);
    relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;

    await saveApiClient(backend.database.db, TEST_CLIENT, 'test');
    const token = await fetch(`${relayUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: TEST_CLIENT.clientId,
        client_secret: TEST_CLIENT.clientSecret,
      }),
    });
    bearer = ((await token.json()) as { access_token: string }).access_token;

    // Playwright gives each launch a fresh, temporary user-data-dir.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: relayUrl });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => relay?.close(resolve));
    await new Promise((resolve) => other?.server.close(resolve));
    await dns?.close();
    await backend?.dispose();
  });

  it('adds a domain, reads its TXT record, publishes it, Verify now: Verified', async () => {
    const organizationId = await newOrganization('Browser Corp');
    const location = await newLink(organizationId);
    const page = await context.newPage();

    await page.goto(location);
    expect(new URL(page.url()).pathname).toBe('/portal');
    await expect.poll(() => page.locator('main').getAttribute('data-live')).toBe('on');
    await shoot(page, '01-opened');

    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.id')).toBe('domain-input');
    expect(await page.evaluate(FOCUS_OUTLINE)).toBe('solid 3px');
    await page.keyboard.type('browser-verify.test');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/portal#dom_/);
    await expect
      .poll(() => page.getByRole('status').first().textContent())
      .toContain('Added browser-verify.test.');
    await shoot(page, '02-added');

    const domainCard = card(page, 'browser-verify.test');
    const name = await domainCard.getByLabel('Name', { exact: true }).inputValue();
    const value = await domainCard.getByLabel('Value', { exact: true }).inputValue();
    expect(name).toMatch(/^_verihook-challenge-[a-z0-9]{6}\.browser-verify\.test$/);
    expect(value).toMatch(/^verihook-verification=/);
    await domainCard.getByRole('button', { name: 'Copy the value' }).click();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(value);
    await expect.poll(() => page.locator('#live').textContent()).toBe('Copied the value');

    await domainCard.getByRole('button', { name: /^Verify now/ }).click();
    await page.waitForLoadState();
    await expect
      .poll(() => page.locator('#flash').textContent())
      .toContain('browser-verify.test is not verified yet. Record not found');
    const pending = card(page, 'browser-verify.test').locator('[data-field="status"]');
    expect(await pending.textContent()).toBe('Status: Pending');
    await shoot(page, '03-record-not-found');

    dns.setTxt(name, [value]);
    await card(page, 'browser-verify.test')
      .getByRole('button', { name: /^Verify now/ })
      .click();
    await page.waitForLoadState();
    await expect
      .poll(() => page.locator('#flash').textContent())
      .toContain('browser-verify.test is verified: the TXT record was found.');
    const status = card(page, 'browser-verify.test').locator('[data-field="status"]');
    expect(await status.textContent()).toBe('Status: Verified');
    await shoot(page, '04-verified');
    await page.close();
  });

  it('refreshes the check result in place, and the page when the domain verifies', async () => {
    const organizationId = await newOrganization('Live Corp');
    const page = await context.newPage();
    await page.goto(await newLink(organizationId));
    await page.getByLabel('Domain name').fill('browser-live.test');
    await page.getByRole('button', { name: 'Add domain' }).click();
    await page.waitForURL(/\/portal#dom_/);
    const domainCard = card(page, 'browser-live.test');
    const domainId = (await domainCard.getAttribute('data-domain-id')) ?? '';
    const name = await domainCard.getByLabel('Name', { exact: true }).inputValue();
    const value = await domainCard.getByLabel('Value', { exact: true }).inputValue();
    await page.evaluate('window.notReloaded = true');

    const missing = await verifyDomainNow(deps, organizationId, domainId);
    await expect
      .poll(() => domainCard.locator('[data-field="check-summary"]').textContent(), LIVE)
      .toBe('Record not found: the name does not exist yet');
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    dns.setTxt(name, [value]);
    const found = await verifyDomainNow(deps, organizationId, domainId);

    expect(missing.verified).toBe(false);
    expect(found.verified).toBe(true);
    await expect
      .poll(() => card(page, 'browser-live.test').getAttribute('data-status'), LIVE)
      .toBe('VERIFIED');
    await shoot(page, '05-live-refresh');
    await page.close();
  });

  it('refuses a second opening of the same link', async () => {
    const location = await newLink(await newOrganization('Reuse Corp'));
    const first = await context.newPage();
    await first.goto(location);
    const second = await context.newPage();

    const response = await second.goto(location);

    expect(response?.status()).toBe(410);
    expect(await second.getByRole('heading', { level: 1 }).textContent()).toBe(
      'This link has already been used',
    );
    await shoot(second, '06-link-reused');
    await first.close();
    await second.close();
  });

  it("keeps one organization's session away from another's domains: 404", async () => {
    const theirsId = await newOrganization('Theirs Corp');
    const theirs = await callApi('POST', `/api/v1/organizations/${theirsId}/domains`, {
      domain: 'browser-theirs.test',
      verification_method: 'DNS',
    });
    const page = await context.newPage();
    await page.goto(await newLink(await newOrganization('Mine Corp')));
    expect(await page.content()).not.toContain('browser-theirs.test');

    const response = await submitAddForm(page, {
      action: `/portal/domains/${theirs.body.domain.id}/delete`,
      fields: { confirm: 'yes' },
    });

    expect(response.status()).toBe(404);
    await page.waitForLoadState();
    await expect.poll(() => page.locator('#flash').textContent()).toContain('Domain not found');
    await shoot(page, '07-other-organization');
    const still = await callApi(
      'GET',
      `/api/v1/organizations/${theirsId}/domains/${theirs.body.domain.id}`,
    );
    expect(still.status).toBe(200);
    await page.close();
  });

  it('refuses a form without the CSRF token, and one posted from another site', async () => {
    const organizationId = await newOrganization('Csrf Browser Corp');
    const page = await context.newPage();
    await page.goto(await newLink(organizationId));

    const withoutToken = await submitAddForm(page, { dropToken: true, domain: 'no-token.test' });
    expect(withoutToken.status()).toBe(403);
    await page.waitForLoadState();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Request refused');
    await shoot(page, '08-csrf-without-token');

    other.pages.set(
      '/attack',
      `<form method="post" action="${relayUrl}/portal/domains">` +
        '<input name="domain" value="attacker.test"></form>' +
        '<script>document.forms[0].submit()</script>',
    );
    const [fromElsewhere] = await Promise.all([
      page.waitForResponse((answer) => answer.request().method() === 'POST'),
      page.goto(`${other.origin}/attack`),
    ]);
    expect(fromElsewhere.status()).toBe(403);
    await page.waitForLoadState();
    await shoot(page, '09-csrf-other-site');

    const listed = await callApi('GET', `/api/v1/organizations/${organizationId}/domains`);
    expect(listed.body.domains).toEqual([]);
    await page.close();
  });

  it('deletes a domain after the confirmation dialog', async () => {
    const page = await context.newPage();
    await page.goto(await newLink(await newOrganization('Delete Browser Corp')));
    await page.getByLabel('Domain name').fill('browser-delete.test');
    await page.getByRole('button', { name: 'Add domain' }).click();
    await page.waitForURL(/\/portal#dom_/);
    page.once('dialog', (dialog) => void dialog.accept());

    await card(page, 'browser-delete.test')
      .getByRole('button', { name: /^Delete/ })
      .click();

    await expect
      .poll(() => page.locator('#flash').textContent())
      .toContain('Deleted browser-delete.test.');
    expect(await page.getByText('No domains yet.').isVisible()).toBe(true);
    await shoot(page, '10-deleted');
    await page.close();
  });

  it('works without JavaScript: add, verify and a delete confirmation page', async () => {
    const organizationId = await newOrganization('No Script Corp');
    const location = await newLink(organizationId);
    const noScript = await browser.newContext({ javaScriptEnabled: false });
    const page = await noScript.newPage();

    try {
      await page.goto(location);
      await page.getByLabel('Domain name').fill('browser-noscript.test');
      await page.getByRole('button', { name: 'Add domain' }).click();
      await page.waitForURL(/\/portal#dom_/);
      const domainCard = card(page, 'browser-noscript.test');
      expect(await domainCard.getByRole('button', { name: 'Copy the value' }).isVisible()).toBe(
        false,
      );
      const name = await domainCard.getByLabel('Name', { exact: true }).inputValue();
      const value = await domainCard.getByLabel('Value', { exact: true }).inputValue();
      dns.setTxt(name, [value]);
      await domainCard.getByRole('button', { name: /^Verify now/ }).click();
      await page.waitForLoadState();
      expect(await page.locator('#flash').textContent()).toContain(
        'browser-noscript.test is verified: the TXT record was found.',
      );
      await shoot(page, '11-no-javascript-verified');

      await card(page, 'browser-noscript.test')
        .getByRole('button', { name: /^Delete/ })
        .click();
      await page.waitForLoadState();
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(
        'Delete browser-noscript.test?',
      );
      await shoot(page, '12-no-javascript-confirm-delete');
      await page.getByRole('button', { name: 'Delete browser-noscript.test' }).click();
      await page.waitForLoadState();
      expect(await page.locator('#flash').textContent()).toContain(
        'Deleted browser-noscript.test.',
      );
    } finally {
      await noScript.close();
    }
  });

  it('embeds in the platform app through an iframe the configuration allows', async () => {
    const organizationId = await newOrganization('Embedded Corp', false);
    const location = await newLink(organizationId, { embed: true });
    other.pages.set(
      '/app',
      '<h1>Platform settings</h1>' +
        `<iframe title="Domains" src="${location}" width="900" height="420"></iframe>`,
    );
    const page = await context.newPage();

    await page.goto(`${other.origin}/app`);
    const frame = page.frameLocator('iframe[title="Domains"]');

    await expect
      .poll(() => frame.locator('#feature-off').textContent())
      .toContain('Domain verification is turned off for this organization');
    expect(await frame.locator('form[action="/portal/domains"]').count()).toBe(0);
    await shoot(page, '13-embedded-feature-off');
    await page.close();
  });
});
