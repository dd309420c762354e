// The DNS server CLI the end-to-end test runs as its own process: records set over HTTP resolve.
import { Resolver } from 'node:dns/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLine, ManagedProcess, waitForListening } from '../src/processes.ts';

const demoDir = fileURLToPath(new URL('..', import.meta.url));
let server: ManagedProcess;
let control: string;
let resolver: Resolver;

beforeAll(async () => {
  server = new ManagedProcess({
    name: 'DNS server',
    args: ['--import', 'tsx', 'src/dns-server.ts'],
    cwd: demoDir,
    env: process.env,
  });
  control = await waitForListening(server, 30_000);
  const address = jsonLine(server.tail(1)[0] ?? '')?.dns as string;
  resolver = new Resolver({ timeout: 2_000, tries: 1 });
  resolver.setServers([address]);
});

afterAll(async () => {
  await server?.stop();
});

function put(name: string, body: unknown) {
  return fetch(`${control}/records/${name}/txt`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('src/dns-server.ts', () => {
  it('answers NXDOMAIN for a name nobody published', async () => {
    await expect(resolver.resolveTxt('_verihook-x.nobody.test')).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
  });

  it('serves a TXT record published over the control route, and forgets it on removal', async () => {
    const published = await put('_verihook-x.acme.test', { values: ['verihook-verification=abc'] });
    const found = await resolver.resolveTxt('_verihook-x.acme.test');
    const removed = await fetch(`${control}/records/_verihook-x.acme.test`, { method: 'DELETE' });
    const after = await resolver.resolveTxt('_verihook-x.acme.test').catch((error) => error.code);

    expect(published.status).toBe(204);
    expect(found).toEqual([['verihook-verification=abc']]);
    expect(removed.status).toBe(204);
    expect(after).toBe('ENOTFOUND');
  });

  it('lists the queries it received', async () => {
    await resolver.resolveTxt('listed.test').catch(() => {});

    const queries = (await (await fetch(`${control}/queries`)).json()) as { name: string }[];

    expect(queries.at(-1)).toEqual({ name: 'listed.test', type: 'TXT', transport: 'udp' });
  });

  it('refuses a record that is not a list of strings, and unknown routes', async () => {
    const bad = await put('x.test', { values: [1] });
    const unknown = await fetch(`${control}/zone`);

    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'send {"values": ["…"]}' });
    expect(unknown.status).toBe(404);
  });
});
