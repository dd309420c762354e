import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { readJson } from './helpers.ts';

const RELAY_DIR = fileURLToPath(new URL('..', import.meta.url));

interface Started {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
}

const running: Started[] = [];

function start(env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: RELAY_DIR,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const started: Started = {
    child,
    stdout: [],
    stderr: [],
    exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
  };
  const collect = (into: string[]) => {
    let partial = '';
    return (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      into.push(...lines);
    };
  };
  child.stdout?.on('data', collect(started.stdout));
  child.stderr?.on('data', collect(started.stderr));
  running.push(started);
  return started;
}

async function waitForLine(lines: string[], pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = lines.find((entry) => pattern.test(entry));
    if (line) return line;
    if (Date.now() > deadline)
      throw new Error(`no line matching ${pattern} in:\n${lines.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

afterEach(() => {
  for (const started of running.splice(0))
    if (started.child.exitCode === null) started.child.kill('SIGKILL');
});

describe('the relay process', () => {
  it('serves the token, organization, domain and events flow, then stops cleanly on SIGTERM', async () => {
    const relay = start({
      DATABASE_URL: 'memory://',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
    });

    const created = await waitForLine(relay.stdout, /^Created the first API client/);
    const [, clientId, clientSecret] =
      /VERIHOOK_CLIENT_ID=(\S+) VERIHOOK_CLIENT_SECRET=(\S+)$/.exec(created) ?? [];
    const listening = JSON.parse(await waitForLine(relay.stdout, /"msg":"listening"/));
    const base: string = listening.url;

    const tokenResponse = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId ?? '',
        client_secret: clientSecret ?? '',
      }),
    });
    const { access_token } = await readJson(tokenResponse);
    const headers = { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' };
    const orgResponse = await fetch(`${base}/api/v1/organizations`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ display_name: 'Acme' }),
    });
    const { organization } = await readJson(orgResponse);
    const domainResponse = await fetch(`${base}/api/v1/organizations/${organization.id}/domains`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ domain: 'acmecorp.com' }),
    });
    const { domain } = await readJson(domainResponse);
    const list = await readJson(
      await fetch(`${base}/api/v1/organizations/${organization.id}/domains`, { headers }),
    );
    const deleted = await fetch(
      `${base}/api/v1/organizations/${organization.id}/domains/${domain.id}`,
      { method: 'DELETE', headers },
    );
    const events = await readJson(await fetch(`${base}/api/v1/events`, { headers }));

    expect(listening).toMatchObject({
      level: 'info',
      database: 'pglite',
      environment_id: expect.stringMatching(/^env_/),
    });
    expect(tokenResponse.status).toBe(200);
    expect(orgResponse.status).toBe(201);
    expect(domainResponse.status).toBe(201);
    expect(domain).toMatchObject({
      domain: 'acmecorp.com',
      verification_status: 'VERIFIED',
      verification_method: 'ADMIN',
    });
    expect(list.domains.map((entry: { id: string }) => entry.id)).toEqual([domain.id]);
    expect(deleted.status).toBe(204);
    expect(
      events.events.map((event: { type: string; data: { id: string } }) => [
        event.type,
        event.data.id,
      ]),
    ).toEqual([
      ['organization.domain_deleted', domain.id],
      ['organization.domain_created', domain.id],
    ]);

    relay.child.kill('SIGTERM');
    expect(await relay.exited).toBe(0);
    const requestLines = relay.stdout
      .filter((line) => line.includes('"msg":"request"'))
      .map((line) => JSON.parse(line));
    expect(requestLines.map((line) => `${line.method} ${line.status}`)).toEqual([
      'POST 200',
      'POST 201',
      'POST 201',
      'GET 200',
      'DELETE 204',
      'GET 200',
    ]);
    expect(relay.stdout.filter((line) => line.includes(clientSecret ?? '?'))).toEqual([created]);
    expect(relay.stdout.join('\n')).not.toContain(access_token);
    expect(relay.stdout.at(-1)).toContain('"msg":"stopped"');
  });

  it('exits 1 with one line per bad setting', async () => {
    const relay = start({
      DATABASE_URL: 'memory://',
      PORT: 'abc',
      VERIHOOK_VERIFICATION_WINDOW: 'forever',
    });

    expect(await relay.exited).toBe(1);
    expect(relay.stderr.filter(Boolean)).toEqual([
      'Invalid configuration: PORT: "abc" is not a port number (0 to 65535)',
      'Invalid configuration: VERIHOOK_VERIFICATION_WINDOW: "forever" is not a duration like 30s, 5m, 2h or 3d',
    ]);
    expect(relay.stdout.filter(Boolean)).toEqual([]);
  });
});
