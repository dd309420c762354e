import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type Receiver, startReceiver } from '@verihook/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createSender, MAX_RESPONSE_BODY_BYTES } from '../../src/delivery/sender.ts';
import { generateSecret, signedHeaders, USER_AGENT } from '../../src/delivery/signing.ts';
import { createGuardedDispatcher, type HostLookup } from '../../src/delivery/ssrf.ts';

const SECRET = generateSecret();
const BODY = '{"type":"organization.domain_created","data":{"domain":"café.example","note":"😊"}}';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function receiver(respond?: Parameters<typeof startReceiver>[0]['respond']) {
  const started = await startReceiver({ secrets: [SECRET], respond });
  cleanups.push(() => started.close());
  return started;
}

function sender(options: { allowPrivate?: boolean; timeoutMs?: number; lookup?: HostLookup } = {}) {
  const dispatcher = createGuardedDispatcher({
    allowPrivate: options.allowPrivate ?? true,
    lookup: options.lookup,
  });
  cleanups.push(() => dispatcher.close());
  return createSender({ dispatcher, timeoutMs: options.timeoutMs ?? 5000, userAgent: USER_AGENT });
}

function attemptTo(url: string, msgId = 'msg_sender_1') {
  const timestampSeconds = Math.floor(Date.now() / 1000);
  const headers = signedHeaders({ msgId, timestampSeconds, body: BODY, secrets: [SECRET] });
  return { url, headers, body: Buffer.from(BODY, 'utf8') };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

function onlyRequest(target: Receiver) {
  expect(target.requests).toHaveLength(1);
  return target.requests[0];
}

describe('createSender', () => {
  it('delivers a request svix and standardwebhooks both verify, and reads a 2xx', async () => {
    const target = await receiver(() => ({ status: 200, body: 'thanks' }));

    const outcome = await sender().send(attemptTo(target.url));

    expect(outcome).toEqual({
      statusCode: 200,
      responseBody: 'thanks',
      durationMs: expect.any(Number),
      retryAfter: null,
    });
    const request = onlyRequest(target);
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/webhooks');
    expect(request?.body).toBe(BODY);
    expect(request?.verifiedSvix).toBe(true);
    expect(request?.verifiedStandard).toBe(true);
    expect(request?.headers['webhook-id']).toBe('msg_sender_1');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['user-agent']).toBe('Verihook-Webhooks/0.1.0');
    expect(request?.headers['content-length']).toBe(String(Buffer.byteLength(BODY)));
  });

  it('adds its user agent when the headers carry none', async () => {
    const target = await receiver();
    const { 'user-agent': _dropped, ...headers } = attemptTo(target.url).headers;

    const outcome = await sender().send({ ...attemptTo(target.url), headers });

    expect(outcome.statusCode).toBe(204);
    expect(onlyRequest(target)?.headers['user-agent']).toBe(USER_AGENT);
  });

  it('reports a 500 with its body', async () => {
    const target = await receiver(() => ({ status: 500, body: 'database down' }));

    const outcome = await sender().send(attemptTo(target.url));

    expect(outcome).toEqual({
      statusCode: 500,
      responseBody: 'database down',
      durationMs: expect.any(Number),
      retryAfter: null,
    });
  });

  it('captures Retry-After from a 503', async () => {
    const target = await receiver(() => ({ status: 503, headers: { 'retry-after': '120' } }));

    const outcome = await sender().send(attemptTo(target.url));

    expect(outcome.statusCode).toBe(503);
    expect(outcome.retryAfter).toBe('120');
  });

  it('never follows a redirect, not even to a private address it may reach', async () => {
    const stolen = await receiver();
    const target = await receiver(() => ({
      status: 302,
      headers: { location: `http://127.0.0.1:${stolen.port}/stolen` },
      body: 'moved',
    }));

    const outcome = await sender({ allowPrivate: true }).send(attemptTo(target.url));
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(outcome.statusCode).toBe(302);
    expect(outcome.responseBody).toBe('moved');
    expect(target.requests).toHaveLength(1);
    expect(stolen.requests).toHaveLength(0);
  });

  it.each([301, 307, 308])('does not follow a %i either', async (status) => {
    const stolen = await receiver();
    const target = await receiver(() => ({
      status,
      headers: { location: `http://127.0.0.1:${stolen.port}/stolen` },
    }));

    const outcome = await sender().send(attemptTo(target.url));

    expect(outcome.statusCode).toBe(status);
    expect(stolen.requests).toHaveLength(0);
  });

  it('times out when the endpoint answers later than timeoutMs', async () => {
    const target = await receiver(() => ({ status: 200, delayMs: 3000 }));

    const outcome = await sender({ timeoutMs: 300 }).send(attemptTo(target.url));

    expect(outcome).toEqual({
      responseBody: '',
      durationMs: expect.any(Number),
      retryAfter: null,
      error: { code: 'timeout', message: 'no response within 300 ms' },
    });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(290);
    expect(outcome.durationMs).toBeLessThan(2000);
    expect(target.requests).toHaveLength(1);
  });

  it('reports a refused connection on a port that was just closed', async () => {
    const closed = await startReceiver({ secrets: [SECRET] });
    const url = closed.url;
    await closed.close();

    const outcome = await sender().send(attemptTo(url));

    expect(outcome.statusCode).toBeUndefined();
    expect(outcome.error).toEqual({
      code: 'connection_refused',
      message: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it('reports a name that does not resolve as dns', async () => {
    const lookup: HostLookup = async (hostname) => {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    };

    const outcome = await sender({ lookup }).send(attemptTo('https://missing.example.test/in'));

    expect(outcome.error).toEqual({
      code: 'dns',
      message: 'getaddrinfo ENOTFOUND missing.example.test',
    });
  });

  it('keeps only the first KiB of a large response body', async () => {
    const large = 'x'.repeat(600) + 'y'.repeat(10_000);
    const target = await receiver(() => ({ status: 400, body: large }));

    const outcome = await sender().send(attemptTo(target.url));

    expect(MAX_RESPONSE_BODY_BYTES).toBe(1024);
    expect(outcome.statusCode).toBe(400);
    expect(outcome.responseBody).toBe(large.slice(0, 1024));
  });

  it('cuts a multibyte character at the KiB boundary into U+FFFD and replaces NUL', async () => {
    const target = await receiver(() => ({ status: 200, body: `\u0000a${'€'.repeat(1000)}` }));

    const outcome = await sender().send(attemptTo(target.url));

    expect(outcome.responseBody).toBe(`\ufffda${'€'.repeat(340)}\ufffd`);
  });

  it('stops reading an endless body after the first KiB instead of waiting', async () => {
    const server = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('z'.repeat(4096));
    });
    const port = await listen(server);

    const outcome = await sender({ timeoutMs: 5000 }).send(attemptTo(`http://127.0.0.1:${port}/`));

    expect(outcome.statusCode).toBe(200);
    expect(outcome.responseBody).toBe('z'.repeat(1024));
    expect(outcome.durationMs).toBeLessThan(2000);
    expect(outcome.error).toBeUndefined();
  });

  it('keeps the status of an answer whose body stalls past the timeout', async () => {
    const server = createHttpServer((_req, res) => {
      res.writeHead(202);
      res.write('accepted, more to come');
    });
    const port = await listen(server);

    const outcome = await sender({ timeoutMs: 300 }).send(attemptTo(`http://127.0.0.1:${port}/`));

    expect(outcome.statusCode).toBe(202);
    expect(outcome.responseBody).toBe('accepted, more to come');
    expect(outcome.error).toBeUndefined();
  });

  it('reports a certificate it cannot trust as tls', async () => {
    const fixtures = new URL('./fixtures/', import.meta.url);
    const server = createHttpsServer(
      {
        key: readFileSync(new URL('self-signed.key.pem', fixtures)),
        cert: readFileSync(new URL('self-signed.cert.pem', fixtures)),
      },
      (_req, res) => res.end('should not be reached'),
    );
    const port = await listen(server as unknown as Server);
    const lookup: HostLookup = async () => [{ address: '127.0.0.1', family: 4 }];

    const outcome = await sender({ lookup }).send(attemptTo(`https://receiver.test:${port}/`));

    expect(outcome.statusCode).toBeUndefined();
    expect(outcome.error).toEqual({ code: 'tls', message: 'self-signed certificate' });
  });
});

describe('createSender with the guarded dispatcher', () => {
  it('refuses a loopback receiver when private endpoints are not allowed', async () => {
    const target = await receiver();

    const outcome = await sender({ allowPrivate: false }).send(attemptTo(target.url));

    expect(outcome).toEqual({
      responseBody: '',
      durationMs: expect.any(Number),
      retryAfter: null,
      error: {
        code: 'ssrf_blocked',
        message: 'refusing to connect: 127.0.0.1 is not a public address: loopback',
      },
    });
    expect(target.requests).toHaveLength(0);
  });

  it('refuses a name that resolves to the loopback receiver', async () => {
    const target = await receiver();
    const lookup: HostLookup = async () => [{ address: '127.0.0.1', family: 4 }];

    const outcome = await sender({ allowPrivate: false, lookup }).send(
      attemptTo(`http://hooks.example.test:${target.port}/webhooks`),
    );

    expect(outcome.error).toEqual({
      code: 'ssrf_blocked',
      message:
        'refusing to connect: hooks.example.test (127.0.0.1) is not a public address: loopback',
    });
    expect(target.requests).toHaveLength(0);
  });

  it('delivers to the loopback receiver when private endpoints are allowed', async () => {
    const target = await receiver();

    const outcome = await sender({ allowPrivate: true }).send(attemptTo(target.url));

    expect(outcome.statusCode).toBe(204);
    expect(outcome.error).toBeUndefined();
    expect(onlyRequest(target)?.verifiedSvix).toBe(true);
  });

  // undici may open a second socket while the first is still finishing its first response.
  it('reuses kept-alive connections for consecutive attempts', async () => {
    let connections = 0;
    const server = createHttpServer((_req, res) => res.end('ok'));
    server.on('connection', () => {
      connections += 1;
    });
    const port = await listen(server);
    const send = sender().send;

    for (let i = 0; i < 10; i += 1) await send(attemptTo(`http://127.0.0.1:${port}/`, `msg_${i}`));

    expect(connections).toBeLessThanOrEqual(2);
  });
});
