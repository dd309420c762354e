import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { startDnsServer, type TestDnsServer } from '@verihook/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const relayDir = new URL('../../../apps/relay/', import.meta.url).pathname;
const script = new URL('../src/quickstart.ts', import.meta.url).pathname;
const credentials = {
  VERIHOOK_CLIENT_ID: 'quickstart',
  VERIHOOK_CLIENT_SECRET: 'quickstart-secret-0123456789',
};

let dns: TestDnsServer;
let relay: ChildProcess;
let relayUrl: string;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

async function waitForHealth(url: string): Promise<void> {
  for (let tries = 0; tries < 200; tries += 1) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the relay did not become healthy');
}

beforeAll(async () => {
  dns = await startDnsServer();
  const port = await freePort();
  relayUrl = `http://127.0.0.1:${port}`;
  relay = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: relayDir,
    env: {
      ...process.env,
      ...credentials,
      DATABASE_URL: 'memory://',
      PORT: String(port),
      LOG_LEVEL: 'silent',
      VERIHOOK_DNS_SERVERS: dns.address,
      VERIHOOK_ALLOW_PRIVATE_ENDPOINTS: 'true',
    },
    stdio: 'ignore',
  });
  await waitForHealth(relayUrl);
});

afterAll(async () => {
  relay?.kill('SIGTERM');
  if (relay && relay.exitCode === null) await once(relay, 'exit');
  await dns?.close();
});

describe('the API quickstart', () => {
  it('drives the relay from token to deleted domain, one line per step', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, ...credentials, RELAY_URL: relayUrl },
    });
    const lines = stdout.trim().split('\n');

    expect(lines[0]).toBe('token: issued');
    expect(lines[1]).toMatch(/^organization: org_\w+ \(domain verification on\)$/);
    expect(lines[2]).toBe('domain: quickstart.test PENDING');
    expect(lines[3]).toMatch(
      /^publish: TXT _verihook-[\w-]+\.quickstart\.test "verihook-verification=[\w-]+"$/,
    );
    expect(lines[4]).toBe('verify now: not yet (nxdomain)');
    expect(lines[5]).toBe('events: organization.domain_created');
    expect(lines[6]).toBe('deleted: quickstart.test');
  });

  it('stops with the relay error code when the credentials are wrong', async () => {
    const failure = run(process.execPath, ['--import', 'tsx', script], {
      env: {
        ...process.env,
        ...credentials,
        VERIHOOK_CLIENT_SECRET: 'wrong-secret-0123456789',
        RELAY_URL: relayUrl,
      },
    });

    await expect(failure).rejects.toMatchObject({
      code: 1,
      stderr: 'POST /oauth/token: 401 invalid_client\n',
    });
  });
});
