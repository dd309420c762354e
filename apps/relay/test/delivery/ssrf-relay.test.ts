// SSRF protection in the relay with VERIHOOK_ALLOW_PRIVATE_ENDPOINTS=false: at save time through
// the API, and at connect time in the worker. Names resolve through a real DNS server on
// 127.0.0.1; no test connects anywhere but loopback (public answers are never dialled).
import { hasPostgres, startDnsServer, type TestDnsServer } from '@verihook/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolverLookup } from './lookup.ts';
import {
  addDomain,
  attemptsOf,
  eventually,
  messagesOf,
  openTestRelay,
  type TestRelay,
} from './relay.ts';

const BASE = '/api/v1/webhooks/endpoints';

let dns: TestDnsServer;
let relay: TestRelay;

beforeAll(async () => {
  dns = await startDnsServer();
  relay = await openTestRelay('delivery_ssrf', {
    env: { VERIHOOK_ALLOW_PRIVATE_ENDPOINTS: 'false', VERIHOOK_RETRY_SCHEDULE: '0' },
    lookup: resolverLookup(dns.port),
  });
});

afterAll(async () => {
  await relay?.close();
  await dns?.close();
});

// Accepted endpoints may name public addresses: none may outlive its test and get an event.
afterEach(async () => {
  const { endpoints } = (await relay.api.get(`${BASE}?page_size=100`)).body;
  for (const endpoint of endpoints) await relay.api.delete(`${BASE}/${endpoint.id}`);
});

async function saveStatus(url: string) {
  const answer = await relay.api.post(BASE, { url });
  return [url, answer.status, answer.status === 201 ? 'created' : answer.body.error.code];
}

describe.runIf(hasPostgres())('SSRF protection in the relay', () => {
  it('refuses loopback in every spelling when the endpoint is saved', async () => {
    dns.setA('loopback.rebind.test', ['127.0.0.1']);
    const urls = [
      'https://2130706433/hook',
      'https://0x7f000001/hook',
      'https://0177.0.0.1/hook',
      'https://127.1/hook',
      'https://[::ffff:127.0.0.1]/hook',
      'https://[::1]/hook',
      'https://localhost./hook',
      'https://api.localhost/hook',
      'https://loopback.rebind.test/hook',
      'https://169.254.169.254/latest/meta-data/',
      'https://10.0.0.1/',
    ];

    const answers = [];
    for (const url of urls) answers.push(await saveStatus(url));

    expect(answers).toEqual(urls.map((url) => [url, 400, 'endpoint_url_blocked']));
  });

  it('SSRF-33: blocks IPv4-mapped and transition IPv6 spellings, allows an embedded public IPv4', async () => {
    const blocked = [
      'http://[::ffff:127.0.0.1]/hook',
      'http://[::ffff:169.254.169.254]/latest/meta-data/',
      'http://[::ffff:10.0.0.1]/',
      'http://[::127.0.0.1]/',
      'http://[64:ff9b::a9fe:a9fe]/',
      'http://[2002:a9fe:a9fe::]/',
    ].map((url) => url.replace('http:', 'https:'));

    const answers = [];
    for (const url of [...blocked, 'https://[::ffff:8.8.8.8]/']) {
      answers.push(await saveStatus(url));
    }

    expect(answers).toEqual([
      ...blocked.map((url) => [url, 400, 'endpoint_url_blocked']),
      ['https://[::ffff:8.8.8.8]/', 201, 'created'],
    ]);
  });

  it('requires https, and names the blocked address in the error', async () => {
    dns.setA('public.rebind.test', ['8.8.8.8']);

    const http = await relay.api.post(BASE, { url: 'http://public.rebind.test/in' });
    const https = await relay.api.post(BASE, { url: 'https://public.rebind.test/in' });
    const loopback = await relay.api.post(BASE, { url: 'https://loopback.rebind.test/in' });

    expect([http.status, http.body.error.code]).toEqual([400, 'invalid_endpoint_url']);
    expect(http.body.error.message).toBe('Invalid endpoint URL: the endpoint URL must use https');
    expect(https.status).toBe(201);
    expect(loopback.body.error.message).toBe(
      'Invalid endpoint URL: loopback.rebind.test (127.0.0.1) is not a public address: loopback',
    );
  });

  it('SSRF-35: accepts at registration, then blocks both rebinding answers at connect time', async () => {
    dns.setA('hooks.rebind.test', ['8.8.8.8']);
    const created = await relay.api.post(BASE, { url: 'https://hooks.rebind.test/in' });
    const endpointId: string = created.body.endpoint.id;
    expect((await relay.api.get(`${BASE}?page_size=100`)).body.endpoints).toHaveLength(1);

    dns.setA('hooks.rebind.test', ['8.8.8.8', '10.0.0.5']);
    await relay.startWorker();
    await addDomain(relay);
    const [first] = await eventually(
      () => messagesOf(relay.database, endpointId),
      (rows) => rows[0]?.status === 'failed',
    );
    dns.setA('hooks.rebind.test', ['127.0.0.1']);
    const retried = await relay.api.post(`/api/v1/webhooks/messages/${first?.id}/retry`);
    await eventually(
      () => attemptsOf(relay.database, first?.id ?? ''),
      (rows) => rows.length === 2,
    );
    await relay.stopWorker();

    expect(created.status).toBe(201);
    expect(retried.status).toBe(202);
    const attempts = await attemptsOf(relay.database, first?.id ?? '');
    expect(attempts.map((a) => [a.attemptNumber, a.responseStatusCode, a.errorCode])).toEqual([
      [1, null, 'ssrf_blocked'],
      [2, null, 'ssrf_blocked'],
    ]);
    expect(attempts[0]?.error).toBe(
      'refusing to connect: hooks.rebind.test (10.0.0.5) is not a public address: private',
    );
    expect(attempts[1]?.error).toBe(
      'refusing to connect: hooks.rebind.test (127.0.0.1) is not a public address: loopback',
    );
    const [message] = await messagesOf(relay.database, endpointId);
    expect(message?.status).toBe('failed');
  });
});
