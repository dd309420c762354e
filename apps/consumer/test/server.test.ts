// The real process: src/index.ts started with node, on 127.0.0.1, with a PGlite data directory.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { domainCreatedDnsPending, domainDnsVerificationSuccess } from '@verihook/events/examples';
import { afterAll, describe, expect, it } from 'vitest';
import { newSecret, webhookRequest } from './support.ts';

const INDEX = fileURLToPath(new URL('../src/index.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

interface Running {
  child: ChildProcess;
  url: string;
  stdout: () => string;
}

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const { DATABASE_URL: _database, ...inherited } = process.env;
  return { ...inherited, PORT: '0', HOST: '127.0.0.1', ...extra };
}

function run(env: NodeJS.ProcessEnv, cwd: string) {
  const child = spawn(process.execPath, ['--import', TSX, INDEX], { cwd, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

async function start(
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<Running & { exited: Promise<number | null> }> {
  const process = run(env, cwd);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const line = process
      .stdout()
      .split('\n')
      .find((entry) => entry.includes('"listening"'));
    if (line) return { ...process, url: JSON.parse(line).url };
    if (process.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  process.child.kill('SIGKILL');
  throw new Error(`the consumer did not start:\n${process.stderr()}`);
}

async function stop(running: Running & { exited: Promise<number | null> }) {
  running.child.kill('SIGTERM');
  return running.exited;
}

/** Sends `bytes` of a body the server must refuse, without ever finishing the request. */
function sendWithoutEnding(url: string, bytes: number) {
  return new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
    const req = request(`${url}/webhooks`, { method: 'POST' }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode, body });
      });
    });
    req.on('error', reject);
    req.write(Buffer.alloc(bytes, 97));
  });
}

describe('the consumer process', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'verihook-consumer-'));
  const secret = newSecret();
  const env = baseEnv({ WEBHOOK_SECRET: secret, MAX_BODY_BYTES: '4096' });
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it('exits 1 with a clear message, and no secret, on a bad configuration', async () => {
    const pasted = `v1,${secret}`;
    const failed = run(baseEnv({ WEBHOOK_SECRET: pasted, PORT: 'http' }), workDir);

    expect(await failed.exited).toBe(1);
    expect(failed.stderr()).toBe(
      [
        'Invalid configuration:',
        '  - PORT: must be a whole number',
        "  - WEBHOOK_SECRET: secret must start with whsec_ ('v1,' belongs to a signature, not to the secret)",
        '',
      ].join('\n'),
    );
    expect(failed.stdout()).toBe('');
  });

  it('keeps its state in .verihook/consumer across a restart, and stops on SIGTERM', async () => {
    const first = await start(env, workDir);
    const pending = JSON.stringify(domainCreatedDnsPending);
    const verified = JSON.stringify(domainDnsVerificationSuccess);
    const resend = webhookRequest(verified, { secrets: [secret], messageId: 'msg_restart_1' });

    expect(
      (await fetch(`${first.url}/webhooks`, webhookRequest(pending, { secrets: [secret] }))).status,
    ).toBe(200);
    expect((await fetch(`${first.url}/webhooks`, resend)).status).toBe(200);
    expect(await (await fetch(`${first.url}/hrd?email=alice@acmecorp.com`)).json()).toEqual({
      organization_id: domainCreatedDnsPending.organization_id,
      domain: 'acmecorp.com',
    });
    expect(await stop(first)).toBe(0);
    expect(existsSync(join(workDir, '.verihook/consumer/PG_VERSION'))).toBe(true);

    const second = await start(env, workDir);
    const again = await fetch(`${second.url}/webhooks`, resend);
    expect(await again.json()).toEqual({ received: true, duplicate: true });
    expect((await fetch(`${second.url}/hrd?email=alice@acmecorp.com`)).status).toBe(200);
    expect(await stop(second)).toBe(0);

    const logged = `${first.stdout()}${second.stdout()}`;
    expect(logged).not.toContain(secret.slice('whsec_'.length));
    expect(logged).toContain('"msg":"webhook","message_id":"msg_restart_1"');
  }, 60_000);

  it('answers 413 while an oversized body is still arriving', async () => {
    const running = await start(env, workDir);

    const answer = await sendWithoutEnding(running.url, 8192);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({
      error: { code: 'payload_too_large', message: 'The body is larger than 4096 bytes.' },
    });
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
    expect(await stop(running)).toBe(0);
  }, 30_000);
});
