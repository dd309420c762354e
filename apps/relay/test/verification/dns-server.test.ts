import { createSocket } from 'node:dgram';
import { promises as dns } from 'node:dns';
import { startDnsServer, type TestDnsServer } from '@verihook/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

let server: TestDnsServer;
let resolver: dns.Resolver;

beforeAll(async () => {
  server = await startDnsServer();
  resolver = new dns.Resolver({ timeout: 300, tries: 1 });
  resolver.setServers([server.address]);
});

afterAll(() => server.close());

beforeEach(() => server.clear());

function errorCode(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: NodeJS.ErrnoException) => error.code,
  );
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

describe('startDnsServer', () => {
  it('listens on 127.0.0.1 with a port of its own', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
  });

  it('answers TXT records, whatever the case of the name or a trailing dot', async () => {
    server.setTxt('_Key.Example.TEST.', [['one'], ['two', 'parts']]);

    expect(await resolver.resolveTxt('_key.example.test')).toEqual([['one'], ['two', 'parts']]);
    expect(await resolver.resolveTxt('_KEY.EXAMPLE.TEST.')).toEqual([['one'], ['two', 'parts']]);
  });

  it('answers NXDOMAIN for unknown names and NODATA for names without TXT', async () => {
    server.setA('host.example.test', ['192.0.2.7']);

    expect(await errorCode(resolver.resolveTxt('missing.example.test'))).toBe('ENOTFOUND');
    expect(await errorCode(resolver.resolveTxt('host.example.test'))).toBe('ENODATA');
    expect(await errorCode(resolver.resolveTxt('example.test'))).toBe('ENODATA');
    expect(await resolver.resolve4('host.example.test')).toEqual(['192.0.2.7']);
  });

  it('splits strings over 255 bytes at character boundaries', async () => {
    const ascii = 'a'.repeat(300);
    const accented = 'é'.repeat(200);
    server.setTxt('long.example.test', [ascii, [accented]]);

    const records = await resolver.resolveTxt('long.example.test');

    // node:dns hands each byte of a character-string over as one latin1 character.
    const asUtf8 = records.map((strings) =>
      strings.map((text) => Buffer.from(text, 'latin1').toString('utf8')),
    );
    expect(asUtf8).toEqual([
      ['a'.repeat(255), 'a'.repeat(45)],
      ['é'.repeat(127), 'é'.repeat(73)],
    ]);
  });

  it('answers a CNAME and the TXT of its target in the zone', async () => {
    server.setTxt('target.example.test', [['at the target']]);
    server.setCname('alias.example.test', 'target.example.test');

    expect(await resolver.resolveCname('alias.example.test')).toEqual(['target.example.test']);
    expect(await resolver.resolveTxt('alias.example.test')).toEqual([['at the target']]);
  });

  it('answers SERVFAIL for a CNAME loop', async () => {
    server.setCname('a.loop.test', 'b.loop.test');
    server.setCname('b.loop.test', 'a.loop.test');

    expect(await errorCode(resolver.resolveTxt('a.loop.test'))).toBe('ESERVFAIL');
  });

  it('fails or stays silent on demand until the name is set again', async () => {
    server.setServfail('broken.example.test');
    server.setNoAnswer('silent.example.test');

    expect(await errorCode(resolver.resolveTxt('broken.example.test'))).toBe('ESERVFAIL');
    expect(await errorCode(resolver.resolveTxt('silent.example.test'))).toBe('ETIMEOUT');
    server.setTxt('broken.example.test', [['fixed']]);
    expect(await resolver.resolveTxt('broken.example.test')).toEqual([['fixed']]);
  });

  it('removes a name and records the queries it received', async () => {
    server.setTxt('gone.example.test', [['x']]);
    server.remove('gone.example.test');

    expect(await errorCode(resolver.resolveTxt('gone.example.test'))).toBe('ENOTFOUND');
    expect(server.queries()).toEqual([
      { name: 'gone.example.test', type: 'TXT', transport: 'udp' },
    ]);
  });

  it('refuses a Unicode name: tests publish the A-label', () => {
    expect(() => server.setTxt('_key.bücher.test', [['x']])).toThrowError(/A-label/);
  });

  it('binds a given port and stops answering once closed', async () => {
    const port = await freeUdpPort();
    const own = await startDnsServer({ port });
    own.setTxt('here.test', [['yes']]);
    const ownResolver = new dns.Resolver({ timeout: 300, tries: 1 });
    ownResolver.setServers([own.address]);

    expect(own.port).toBe(port);
    expect(await ownResolver.resolveTxt('here.test')).toEqual([['yes']]);
    await Promise.all([own.close(), own.close()]);
    expect(await errorCode(ownResolver.resolveTxt('here.test'))).toBe('ECONNREFUSED');
  });
});
