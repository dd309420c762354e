import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import dns2 from 'dns2';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkAddress,
  createGuardedDispatcher,
  type HostLookup,
  type ResolvedAddress,
  resolveVettedAddresses,
  SsrfBlockedError,
  validateEndpointUrl,
} from '../../src/delivery/ssrf.ts';
import { resolverLookup } from './lookup.ts';

const STRICT = { allowPrivate: false, allowHttp: true };

function stubLookup(answers: Record<string, string[]>) {
  const calls: string[] = [];
  const lookup: HostLookup = async (hostname) => {
    calls.push(hostname);
    const addresses = answers[hostname];
    if (!addresses)
      throw Object.assign(new Error(`no stub for ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map(
      (address): ResolvedAddress => ({
        address,
        family: address.includes(':') ? 6 : 4,
      }),
    );
  };
  return { lookup, calls };
}

function sequenceLookup(answers: string[][]) {
  let call = 0;
  const lookup: HostLookup = async () => {
    const addresses = answers[Math.min(call, answers.length - 1)] ?? [];
    call += 1;
    return addresses.map((address): ResolvedAddress => ({ address, family: 4 }));
  };
  return { lookup, calls: () => call };
}

async function startDnsServer(records: Record<string, string>) {
  const server = dns2.createServer({
    udp: true,
    handle(query, send) {
      const response = dns2.Packet.createResponseFromRequest(query);
      const [question] = query.questions;
      const address = question ? records[question.name.toLowerCase()] : undefined;
      if (question && address && question.type === dns2.Packet.TYPE.A) {
        response.answers.push(
          dns2.Packet.createResourceFromQuestion(question, { ttl: 60, address }),
        );
      }
      send(response);
    },
  });
  const { udp } = await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  if (!udp) throw new Error('the DNS server did not bind a UDP port');
  return { server, port: udp.port };
}

async function startCountingServer() {
  let requests = 0;
  let connections = 0;
  const hosts: string[] = [];
  const server: Server = createServer((req, res) => {
    requests += 1;
    hosts.push(req.headers.host ?? '');
    res.end('reached');
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    counts: () => ({ requests, connections }),
    hosts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('checkAddress', () => {
  it.each([
    ['127.0.0.1', { allowed: false, reason: 'loopback' }],
    ['127.255.255.254', { allowed: false, reason: 'loopback' }],
    ['10.0.0.1', { allowed: false, reason: 'private' }],
    ['172.16.0.1', { allowed: false, reason: 'private' }],
    ['172.31.255.255', { allowed: false, reason: 'private' }],
    ['192.168.1.1', { allowed: false, reason: 'private' }],
    ['169.254.1.1', { allowed: false, reason: 'link_local' }],
    ['169.254.169.254', { allowed: false, reason: 'metadata' }],
    ['169.254.170.2', { allowed: false, reason: 'metadata' }],
    ['100.100.100.200', { allowed: false, reason: 'metadata' }],
    ['192.0.0.192', { allowed: false, reason: 'metadata' }],
    ['100.64.0.1', { allowed: false, reason: 'carrier_grade_nat' }],
    ['100.127.255.255', { allowed: false, reason: 'carrier_grade_nat' }],
    ['224.0.0.1', { allowed: false, reason: 'multicast' }],
    ['239.255.255.250', { allowed: false, reason: 'multicast' }],
    ['255.255.255.255', { allowed: false, reason: 'broadcast' }],
    ['0.0.0.0', { allowed: false, reason: 'unspecified' }],
    ['0.1.2.3', { allowed: false, reason: 'unspecified' }],
    ['240.0.0.1', { allowed: false, reason: 'reserved' }],
    ['198.18.0.1', { allowed: false, reason: 'reserved' }],
    ['192.0.2.1', { allowed: false, reason: 'documentation' }],
    ['198.51.100.7', { allowed: false, reason: 'documentation' }],
    ['203.0.113.9', { allowed: false, reason: 'documentation' }],
    ['8.8.8.8', { allowed: true }],
    ['172.32.0.1', { allowed: true }],
    ['100.128.0.1', { allowed: true }],
    ['::1', { allowed: false, reason: 'loopback' }],
    ['::', { allowed: false, reason: 'unspecified' }],
    ['fe80::1', { allowed: false, reason: 'link_local' }],
    ['fe80::1%eth0', { allowed: false, reason: 'link_local' }],
    ['febf:ffff::1', { allowed: false, reason: 'link_local' }],
    ['fc00::1', { allowed: false, reason: 'unique_local' }],
    ['fd12:3456::1', { allowed: false, reason: 'unique_local' }],
    ['fd00:ec2::254', { allowed: false, reason: 'metadata' }],
    ['fec0::1', { allowed: false, reason: 'site_local' }],
    ['ff02::1', { allowed: false, reason: 'multicast' }],
    ['2001:db8::1', { allowed: false, reason: 'documentation' }],
    ['3fff::1', { allowed: false, reason: 'documentation' }],
    ['100::1', { allowed: false, reason: 'reserved' }],
    ['4000::1', { allowed: false, reason: 'not_global_unicast' }],
    ['2606:4700:4700::1111', { allowed: true }],
    ['2001:4860:4860::8888', { allowed: true }],
    ['2a00:1450:4001:80b::200e', { allowed: true }],
    ['2620:fe::fe', { allowed: true }],
    ['2001:2::1', { allowed: false, reason: 'reserved' }],
    ['[2606:4700:4700::1111]', { allowed: true }],
    ['not-an-ip', { allowed: false, reason: 'invalid_ip' }],
    ['', { allowed: false, reason: 'invalid_ip' }],
  ])('judges %s', (ip, verdict) => {
    expect(checkAddress(ip)).toEqual(verdict);
  });

  it.each([
    ['::ffff:127.0.0.1', 'ipv4_mapped', '127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'ipv4_mapped', '127.0.0.1', 'loopback'],
    ['0:0:0:0:0:ffff:7f00:0001', 'ipv4_mapped', '127.0.0.1', 'loopback'],
    ['::FFFF:A9FE:A9FE', 'ipv4_mapped', '169.254.169.254', 'metadata'],
    ['::ffff:a00:1', 'ipv4_mapped', '10.0.0.1', 'private'],
    ['::ffff:0:7f00:1', 'ipv4_translated', '127.0.0.1', 'loopback'],
    ['::7f00:1', 'ipv4_compatible', '127.0.0.1', 'loopback'],
    ['::10.0.0.1', 'ipv4_compatible', '10.0.0.1', 'private'],
    ['::ffff:10.0.0.1', 'ipv4_mapped', '10.0.0.1', 'private'],
    ['::ffff:0:10.0.0.1', 'ipv4_translated', '10.0.0.1', 'private'],
    ['64:ff9b::10.0.0.1%eth0', 'nat64', '10.0.0.1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'nat64', '169.254.169.254', 'metadata'],
    ['64:ff9b::127.0.0.1', 'nat64', '127.0.0.1', 'loopback'],
    ['2002:a9fe:a9fe::', '6to4', '169.254.169.254', 'metadata'],
    ['2002:7f00:1::1', '6to4', '127.0.0.1', 'loopback'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo', '192.0.2.45', 'documentation'],
    ['2001:0:7f00:1::', 'teredo', '127.0.0.1', 'loopback'],
  ])('unwraps %s (%s) to %s', (ip, via, embeddedIpv4, reason) => {
    expect(checkAddress(ip)).toEqual({ allowed: false, reason, via, embeddedIpv4 });
  });

  it.each(['::ffff:8.8.8.8', '::ffff:808:808', '64:ff9b::808:808', '2002:808:808::1'])(
    'allows %s, whose embedded IPv4 is public',
    (ip) => {
      expect(checkAddress(ip)).toEqual({ allowed: true });
    },
  );

  it('blocks the local-use NAT64 prefix 64:ff9b:1::/48 as reserved', () => {
    expect(checkAddress('64:ff9b:1::808:808')).toEqual({ allowed: false, reason: 'reserved' });
  });
});

describe('validateEndpointUrl', () => {
  it.each([
    ['http://2130706433/', '127.0.0.1 is not a public address: loopback'],
    ['http://0x7f000001/', '127.0.0.1 is not a public address: loopback'],
    ['http://0177.0.0.1/', '127.0.0.1 is not a public address: loopback'],
    ['http://127.1/', '127.0.0.1 is not a public address: loopback'],
    ['http://0x7f.1/', '127.0.0.1 is not a public address: loopback'],
    ['http://%31%32%37.0.0.1/', '127.0.0.1 is not a public address: loopback'],
    ['http://0/', '0.0.0.0 is not a public address: unspecified'],
    ['http://10.1.2.3:8080/hook', '10.1.2.3 is not a public address: private'],
    [
      'http://169.254.169.254/latest/meta-data/',
      '169.254.169.254 is not a public address: metadata',
    ],
    ['http://[::1]/', '[::1] is not a public address: loopback'],
    ['http://[0:0:0:0:0:0:0:1]/', '[::1] is not a public address: loopback'],
    [
      'http://[0:0:0:0:0:ffff:127.0.0.1]/',
      '[::ffff:7f00:1] is not a public address: loopback via ipv4_mapped 127.0.0.1',
    ],
    [
      'http://[::ffff:0:127.0.0.1]/',
      '[::ffff:0:7f00:1] is not a public address: loopback via ipv4_translated 127.0.0.1',
    ],
    ['http://[fd00:ec2::254]/', '[fd00:ec2::254] is not a public address: metadata'],
    ['http://[fe80::1]/', '[fe80::1] is not a public address: link_local'],
    ['http://localhost/', 'localhost is a loopback name'],
    ['http://LOCALHOST:3000/', 'localhost is a loopback name'],
    ['http://localhost./', 'localhost. is a loopback name'],
    ['http://api.localhost/', 'api.localhost is a loopback name'],
    ['https://deep.api.localhost./hook', 'deep.api.localhost. is a loopback name'],
  ])('rejects %s', async (url, message) => {
    const { lookup, calls } = stubLookup({});

    const result = await validateEndpointUrl(url, { ...STRICT, lookup });

    expect(result).toEqual({ ok: false, code: 'blocked_address', message });
    expect(calls).toEqual([]);
  });

  describe('SSRF-33: IPv4-mapped and transition IPv6 spellings', () => {
    const cases = {
      'http://[::ffff:127.0.0.1]/hook': '[::ffff:7f00:1]',
      'http://[::ffff:169.254.169.254]/latest/meta-data/': '[::ffff:a9fe:a9fe]',
      'http://[::ffff:10.0.0.1]/': '[::ffff:a00:1]',
      'http://[::127.0.0.1]/': '[::7f00:1]',
      'http://[64:ff9b::a9fe:a9fe]/': '[64:ff9b::a9fe:a9fe]',
      'http://[2002:a9fe:a9fe::]/': '[2002:a9fe:a9fe::]',
      'http://[::ffff:8.8.8.8]/': '[::ffff:808:808]',
    };

    it('sees the hostnames that Node 20 URL normalizes them to', () => {
      const hostnames = Object.fromEntries(
        Object.keys(cases).map((url) => [url, new URL(url).hostname]),
      );

      expect(hostnames).toEqual(cases);
    });

    it('blocks exactly the six non-public ones and allows [::ffff:8.8.8.8]', async () => {
      const { lookup } = stubLookup({});
      const verdicts: Record<string, string> = {};

      for (const url of Object.keys(cases)) {
        const result = await validateEndpointUrl(url, { ...STRICT, lookup });
        verdicts[url] = result.ok ? 'allow' : `block: ${result.message}`;
      }

      expect(verdicts).toEqual({
        'http://[::ffff:127.0.0.1]/hook':
          'block: [::ffff:7f00:1] is not a public address: loopback via ipv4_mapped 127.0.0.1',
        'http://[::ffff:169.254.169.254]/latest/meta-data/':
          'block: [::ffff:a9fe:a9fe] is not a public address: metadata via ipv4_mapped 169.254.169.254',
        'http://[::ffff:10.0.0.1]/':
          'block: [::ffff:a00:1] is not a public address: private via ipv4_mapped 10.0.0.1',
        'http://[::127.0.0.1]/':
          'block: [::7f00:1] is not a public address: loopback via ipv4_compatible 127.0.0.1',
        'http://[64:ff9b::a9fe:a9fe]/':
          'block: [64:ff9b::a9fe:a9fe] is not a public address: metadata via nat64 169.254.169.254',
        'http://[2002:a9fe:a9fe::]/':
          'block: [2002:a9fe:a9fe::] is not a public address: metadata via 6to4 169.254.169.254',
        'http://[::ffff:8.8.8.8]/': 'allow',
      });
    });
  });

  it('rejects a hostname that resolves to 127.0.0.1', async () => {
    const { lookup, calls } = stubLookup({ 'loopback.example.test': ['127.0.0.1'] });

    const result = await validateEndpointUrl('https://loopback.example.test/hook', {
      ...STRICT,
      lookup,
    });

    expect(result).toEqual({
      ok: false,
      code: 'blocked_address',
      message: 'loopback.example.test (127.0.0.1) is not a public address: loopback',
    });
    expect(calls).toEqual(['loopback.example.test']);
  });

  it('rejects a hostname that a real DNS server on 127.0.0.1 answers with 127.0.0.1', async () => {
    const dns = await startDnsServer({ 'sneaky.example.test': '127.0.0.1' });
    try {
      const result = await validateEndpointUrl('https://sneaky.example.test/in', {
        ...STRICT,
        lookup: resolverLookup(dns.port),
      });

      expect(result).toEqual({
        ok: false,
        code: 'blocked_address',
        message: 'sneaky.example.test (127.0.0.1) is not a public address: loopback',
      });
    } finally {
      await dns.server.close();
    }
  });

  it('rejects a hostname when any of its addresses is private', async () => {
    const { lookup } = stubLookup({ 'mixed.example.test': ['8.8.8.8', '::ffff:a00:5'] });

    const result = await validateEndpointUrl('https://mixed.example.test/', { ...STRICT, lookup });

    expect(result).toEqual({
      ok: false,
      code: 'blocked_address',
      message:
        'mixed.example.test (::ffff:a00:5) is not a public address: private via ipv4_mapped 10.0.0.5',
    });
  });

  it('accepts a public hostname and returns the parsed URL', async () => {
    const { lookup } = stubLookup({ 'hooks.example.test': ['8.8.8.8', '2606:4700:4700::1111'] });

    const result = await validateEndpointUrl('https://Hooks.Example.Test/in?x=1', {
      ...STRICT,
      lookup,
    });

    expect(result.ok).toBe(true);
    expect(result.ok && result.url.href).toBe('https://hooks.example.test/in?x=1');
  });

  it('rejects a hostname that does not resolve', async () => {
    const { lookup } = stubLookup({});

    const result = await validateEndpointUrl('https://nowhere.example.test/', {
      ...STRICT,
      lookup,
    });

    expect(result).toEqual({
      ok: false,
      code: 'unresolvable_host',
      message: 'nowhere.example.test could not be resolved (ENOTFOUND)',
    });
  });

  it('requires https unless http is allowed', async () => {
    const { lookup } = stubLookup({ 'hooks.example.test': ['8.8.8.8'] });
    const options = { allowPrivate: false, allowHttp: false, lookup };

    const http = await validateEndpointUrl('http://hooks.example.test/', options);
    const https = await validateEndpointUrl('https://hooks.example.test/', options);

    expect(http).toEqual({
      ok: false,
      code: 'https_required',
      message: 'the endpoint URL must use https',
    });
    expect(https.ok).toBe(true);
  });

  it.each([
    ['not a url', 'invalid_url', 'the endpoint URL is not a valid absolute URL'],
    ['/relative/path', 'invalid_url', 'the endpoint URL is not a valid absolute URL'],
    [
      'ftp://hooks.example.test/',
      'unsupported_scheme',
      'the endpoint URL must use https, not ftp:',
    ],
    ['file:///etc/passwd', 'unsupported_scheme', 'the endpoint URL must use https, not file:'],
    [
      'https://user:secret@hooks.example.test/',
      'credentials_in_url',
      'the endpoint URL must not contain a user name or password',
    ],
    [
      'https://user@hooks.example.test/',
      'credentials_in_url',
      'the endpoint URL must not contain a user name or password',
    ],
  ])('rejects %s with %s', async (url, code, message) => {
    const { lookup } = stubLookup({ 'hooks.example.test': ['8.8.8.8'] });

    const result = await validateEndpointUrl(url, { ...STRICT, lookup });

    expect(result).toEqual({ ok: false, code, message });
  });

  it('with allowPrivate accepts loopback over http without resolving anything', async () => {
    const { lookup, calls } = stubLookup({});
    const options = { allowPrivate: true, allowHttp: false, lookup };

    const literal = await validateEndpointUrl('http://127.0.0.1:4000/hooks', options);
    const name = await validateEndpointUrl('http://localhost:4000/hooks', options);

    expect(literal.ok && literal.url.href).toBe('http://127.0.0.1:4000/hooks');
    expect(name.ok && name.url.href).toBe('http://localhost:4000/hooks');
    expect(calls).toEqual([]);
  });
});

describe('resolveVettedAddresses', () => {
  it('returns every address when all are public', async () => {
    const { lookup } = stubLookup({ 'hooks.example.test': ['8.8.8.8', '2606:4700:4700::1111'] });

    const addresses = await resolveVettedAddresses('hooks.example.test', {
      allowPrivate: false,
      lookup,
    });

    expect(addresses).toEqual([
      { address: '8.8.8.8', family: 4 },
      { address: '2606:4700:4700::1111', family: 6 },
    ]);
  });

  it('throws SsrfBlockedError naming the first blocked address', async () => {
    const { lookup } = stubLookup({ 'hooks.example.test': ['8.8.8.8', '169.254.169.254'] });

    const vetting = resolveVettedAddresses('hooks.example.test', { allowPrivate: false, lookup });

    await expect(vetting).rejects.toMatchObject({
      code: 'ERR_SSRF_BLOCKED',
      hostname: 'hooks.example.test',
      address: '169.254.169.254',
      verdict: { allowed: false, reason: 'metadata' },
    });
  });

  it('lets private addresses through with allowPrivate, and reports an empty answer', async () => {
    const { lookup } = stubLookup({ 'dev.example.test': ['127.0.0.1'], 'empty.example.test': [] });

    const dev = await resolveVettedAddresses('dev.example.test', { allowPrivate: true, lookup });
    const empty = resolveVettedAddresses('empty.example.test', { allowPrivate: true, lookup });

    expect(dev).toEqual([{ address: '127.0.0.1', family: 4 }]);
    await expect(empty).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });
});

describe('createGuardedDispatcher', () => {
  let target: Awaited<ReturnType<typeof startCountingServer>>;

  beforeAll(async () => {
    target = await startCountingServer();
  });

  afterAll(async () => {
    await target.close();
  });

  async function post(url: string, dispatcher: ReturnType<typeof createGuardedDispatcher>) {
    try {
      const response = await request(url, { method: 'POST', body: '{}', dispatcher });
      return { status: response.statusCode, body: await response.body.text() };
    } catch (error) {
      return { error: error as Error };
    }
  }

  // The stub answers name 8.8.8.8 and 10.0.0.5, so the vetting is proven on its own first:
  // should it ever let them through, the test stops before the dispatcher could dial out.
  it('SSRF-35: accepts at registration, blocks both rebinding answers at delivery', async () => {
    const registration = stubLookup({ 'hooks.rebind.test': ['8.8.8.8'] });
    for (const answer of [['8.8.8.8', '10.0.0.5'], ['127.0.0.1']]) {
      const vetting = resolveVettedAddresses('hooks.rebind.test', {
        allowPrivate: false,
        lookup: sequenceLookup([answer]).lookup,
      });
      await expect(vetting).rejects.toBeInstanceOf(SsrfBlockedError);
    }
    const delivery = sequenceLookup([['8.8.8.8', '10.0.0.5'], ['127.0.0.1']]);
    const dispatcher = createGuardedDispatcher({ allowPrivate: false, lookup: delivery.lookup });

    const saved = await validateEndpointUrl('https://hooks.rebind.test/in', {
      ...STRICT,
      lookup: registration.lookup,
    });
    const attempt1 = await post('https://hooks.rebind.test/in', dispatcher);
    const attempt2 = await post('https://hooks.rebind.test/in', dispatcher);
    await dispatcher.close();

    expect(saved.ok).toBe(true);
    expect(attempt1.error).toBeInstanceOf(SsrfBlockedError);
    expect(attempt1.error?.message).toBe(
      'refusing to connect: hooks.rebind.test (10.0.0.5) is not a public address: private',
    );
    expect(attempt2.error).toBeInstanceOf(SsrfBlockedError);
    expect(attempt2.error?.message).toBe(
      'refusing to connect: hooks.rebind.test (127.0.0.1) is not a public address: loopback',
    );
    expect(delivery.calls()).toBe(2);
  });

  it('refuses a hostname that resolves to a loopback server without connecting to it', async () => {
    const { lookup } = stubLookup({ 'receiver.example.test': ['127.0.0.1'] });
    const dispatcher = createGuardedDispatcher({ allowPrivate: false, lookup });
    const before = target.counts();

    const result = await post(`http://receiver.example.test:${target.port}/`, dispatcher);
    await dispatcher.close();

    expect((result.error as SsrfBlockedError).code).toBe('ERR_SSRF_BLOCKED');
    expect(target.counts()).toEqual(before);
  });

  it.each([
    ['127.0.0.1', 'refusing to connect: 127.0.0.1 is not a public address: loopback'],
    [
      '[::ffff:127.0.0.1]',
      'refusing to connect: ::ffff:7f00:1 is not a public address: loopback via ipv4_mapped 127.0.0.1',
    ],
    ['localhost', 'refusing to connect: localhost is not a public address: loopback'],
    ['2130706433', 'refusing to connect: 127.0.0.1 is not a public address: loopback'],
  ])('refuses the literal %s without connecting', async (host, message) => {
    const dispatcher = createGuardedDispatcher({ allowPrivate: false });
    const before = target.counts();

    const result = await post(`http://${host}:${target.port}/`, dispatcher);
    await dispatcher.close();

    expect(result.error?.message).toBe(message);
    expect(target.counts()).toEqual(before);
  });

  it('with allowPrivate connects to the resolved address and keeps the Host header', async () => {
    const { lookup, calls } = stubLookup({ 'receiver.example.test': ['127.0.0.1'] });
    const dispatcher = createGuardedDispatcher({ allowPrivate: true, lookup });
    const before = target.counts();

    const result = await post(`http://receiver.example.test:${target.port}/`, dispatcher);
    await dispatcher.close();

    expect(result).toEqual({ status: 200, body: 'reached' });
    expect(calls).toEqual(['receiver.example.test']);
    expect(target.counts().requests).toBe(before.requests + 1);
    expect(target.hosts.at(-1)).toBe(`receiver.example.test:${target.port}`);
  });
});
