import { startDnsServer, type TestDnsServer } from '@verihook/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildRun, spawnTsx, stopChild, waitForLine } from './processes.ts';
import { waitFor } from './support.ts';

const CLIENT = { id: 'new-user', secret: 'new-user-secret-0123456789' };

describe('a relay process pointed at a local DNS server', () => {
  let server: TestDnsServer;
  let relay: ChildRun;
  let base: string;
  let token: string;

  beforeAll(async () => {
    server = await startDnsServer();
    relay = spawnTsx('src/index.ts', {
      DATABASE_URL: 'memory://',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      VERIHOOK_CLIENT_ID: CLIENT.id,
      VERIHOOK_CLIENT_SECRET: CLIENT.secret,
      VERIHOOK_DNS_SERVERS: server.address,
      VERIHOOK_DNS_TIMEOUT: '500ms',
      VERIHOOK_CHECK_SCHEDULE: '200ms,400ms',
      VERIHOOK_VERIFICATION_WINDOW: '3s',
    });
    base = JSON.parse(await waitForLine(relay, /"msg":"listening"/, 45_000)).url;
    const issued = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: CLIENT.id,
        client_secret: CLIENT.secret,
      }),
    });
    token = ((await issued.json()) as { access_token: string }).access_token;
  });

  afterAll(async () => {
    if (relay) await stopChild(relay);
    await server?.close();
  });

  async function call(method: string, path: string, body?: unknown) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: the test reads the API's answers field by field
    return { status: response.status, body: (await response.json()) as any };
  }

  async function statusOf(path: string, wanted: string) {
    const answer = await call('GET', path);
    return answer.body.domain.verification_status === wanted ? answer.body.domain : undefined;
  }

  async function eventsOf(domainId: string) {
    const listed = await call('GET', '/api/v1/events?page_size=100');
    return [...listed.body.events]
      .reverse()
      .filter((event: { data: { id: string } }) => event.data.id === domainId)
      .map((event: { type: string; data: { failure_reason?: string } }) => [
        event.type,
        event.data.failure_reason ?? null,
      ]);
  }

  it('verifies a published domain within seconds and fails an unpublished one at the window', async () => {
    const organization = await call('POST', '/api/v1/organizations', { display_name: 'Acme' });
    const domainsPath = `/api/v1/organizations/${organization.body.organization.id}/domains`;
    const published = await call('POST', domainsPath, {
      domain: 'acme.test',
      verification_method: 'DNS',
    });
    const unpublished = await call('POST', domainsPath, {
      domain: 'never.acme.test',
      verification_method: 'DNS',
    });
    expect(published.status).toBe(201);
    expect(published.body.domain).toMatchObject({
      verification_status: 'PENDING',
      dns_record: { type: 'TXT', name: `${published.body.domain.txt_record_key}.acme.test` },
    });

    const record = published.body.domain.dns_record;
    server.setTxt(record.name, [[record.value]]);
    const publishedAt = Date.now();
    const verified = await waitFor(
      () => statusOf(`${domainsPath}/${published.body.domain.id}`, 'VERIFIED'),
      10_000,
      'the published domain to verify',
    );
    const verifiedAfterMs = Date.now() - publishedAt;
    const failed = await waitFor(
      () => statusOf(`${domainsPath}/${unpublished.body.domain.id}`, 'FAILED'),
      15_000,
      'the unpublished domain to fail',
    );

    expect(verifiedAfterMs).toBeLessThan(3_000);
    expect(verified).toMatchObject({
      last_check_result: { outcome: 'found', record_name: record.name },
      next_check_at: null,
    });
    expect(failed).toMatchObject({
      failure_reason: 'verification_window_expired',
      next_check_at: null,
      last_check_result: { outcome: 'nxdomain' },
    });
    expect(await eventsOf(published.body.domain.id)).toEqual([
      ['organization.domain_created', null],
      ['organization.domain_dns_verification_success', null],
    ]);
    expect(await eventsOf(unpublished.body.domain.id)).toEqual([
      ['organization.domain_created', null],
      ['organization.domain_dns_verification_failed', 'verification_window_expired'],
    ]);

    const checks = relay.logs().filter((line) => line.msg === 'domain check');
    expect(checks.some((line) => line.domain_id === published.body.domain.id)).toBe(true);
    expect(relay.stdout.join('\n')).not.toContain(record.value);
    expect(relay.stdout.join('\n')).not.toContain(unpublished.body.domain.txt_record_secret);
  });

  it('verifies a domain on "verify now"', async () => {
    const organization = await call('POST', '/api/v1/organizations', { display_name: 'Now' });
    const domainsPath = `/api/v1/organizations/${organization.body.organization.id}/domains`;
    const created = await call('POST', domainsPath, {
      domain: 'now.test',
      verification_method: 'DNS',
    });
    const record = created.body.domain.dns_record;
    server.setTxt(record.name, [[record.value]]);

    const answer = await call('POST', `${domainsPath}/${created.body.domain.id}/verify`);

    expect(answer.status).toBe(200);
    expect(answer.body.verified).toBe(true);
    expect(answer.body.domain.verification_status).toBe('VERIFIED');
    expect(await eventsOf(created.body.domain.id)).toEqual([
      ['organization.domain_created', null],
      ['organization.domain_dns_verification_success', null],
    ]);
  });

  it('stops cleanly on SIGTERM', async () => {
    expect(await stopChild(relay)).toBe(0);
    expect(relay.logs().at(-1)).toMatchObject({ msg: 'stopped' });
  });
});
