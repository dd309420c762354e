// Runs the demo's start script, the one `pnpm demo` runs, as a user would.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManagedProcess } from '../src/processes.ts';
import { STORY_STEPS } from '../src/story.ts';

const demoDir = fileURLToPath(new URL('..', import.meta.url));
const manifest = JSON.parse(readFileSync(`${demoDir}/package.json`, 'utf8')) as {
  scripts: Record<string, string>;
};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

async function runStartScript(): Promise<Run> {
  const startedAt = Date.now();
  const child = spawn('pnpm', ['run', '--silent', 'start'], {
    cwd: demoDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr, durationMs: Date.now() - startedAt };
}

describe('pnpm demo', () => {
  let run: Run;
  let lines: string[];

  beforeAll(async () => {
    run = await runStartScript();
    lines = run.stdout.trimEnd().split('\n');
  }, 90_000);

  it('is the start script that the root demo script runs', () => {
    const root = JSON.parse(readFileSync(`${demoDir}/../../package.json`, 'utf8'));

    expect(manifest.scripts.start).toBe('node --import tsx src/demo.ts');
    expect(root.scripts.demo).toBe(
      'pnpm --filter @verihook/events build && pnpm --filter @verihook/demo start',
    );
  });

  it('exits 0 within a minute, with nothing on stderr', () => {
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.durationMs).toBeLessThan(60_000);
  });

  it('tells the story one numbered line per step', () => {
    const steps = lines.filter((line) => /^[✔✘] /.test(line));
    const expected = [
      /^DNS server for the \.test zone is listening on 127\.0\.0\.1:\d+ \(UDP and TCP\)$/,
      /^Relay is up at http:\/\/127\.0\.0\.1:\d+ on an in-memory database; it checks pending domains every 200 ms and fails them after 5 s \(72 h by default\)$/,
      /^Got an API token for client "verihook-demo" \(OAuth 2\.0 client credentials\)$/,
      /^Registered http:\/\/127\.0\.0\.1:\d+\/webhooks as webhook endpoint \w+ for every event type \(signing secret whsec_[A-Za-z0-9+/]{4}…\)$/,
      /^Consumer is up at http:\/\/127\.0\.0\.1:\d+ on an in-memory database, checking every webhook's signature with that secret$/,
      /^Created organizations Acme Corp \(org_\w+\) and Globex Inc \(org_\w+\), both with domain verification on$/,
      /^Added acme\.test to Acme Corp: PENDING until its admin publishes TXT _verihook-[\w-]+\.acme\.test "verihook-verification=[\w-]+"$/,
      /^Consumer received organization\.domain_created for acme\.test \(PENDING\): signature valid, applied$/,
      /^Published that TXT record in the local DNS server, as Acme's admin would at their DNS host$/,
      /^acme\.test is VERIFIED: the relay's DNS check found the record [\d.]+ m?s after it was published$/,
      /^Consumer received organization\.domain_dns_verification_success for acme\.test \(VERIFIED\): signature valid, applied$/,
      /^Consumer's GET \/hrd routes alice@acme\.test to Acme Corp \(org_\w+\), since acme\.test is verified$/,
      /^Added globex\.test to Globex Inc: PENDING, and nobody will publish its TXT record$/,
      /^Consumer received organization\.domain_created for globex\.test \(PENDING\): signature valid, applied$/,
      /^globex\.test is FAILED [\d.]+ s after it was added: verification_window_expired \(last DNS check: nxdomain\)$/,
      /^Consumer received organization\.domain_dns_verification_failed for globex\.test \(FAILED\): signature valid, applied$/,
      /^Deleted acme\.test from Acme Corp$/,
      /^Consumer received organization\.domain_deleted for acme\.test: signature valid, applied$/,
      /^Consumer's GET \/hrd for alice@acme\.test now answers 404 no_route: the route is gone$/,
      /^Both sides agree: the relay recorded 5 events, and the consumer verified and applied each exactly once, refusing none$/,
    ];

    expect(expected).toHaveLength(STORY_STEPS);
    expect(steps).toHaveLength(STORY_STEPS);
    steps.forEach((line, index) => {
      const prefix = `✔ ${String(index + 1).padStart(2)}/${STORY_STEPS} `;
      expect(line.startsWith(prefix), line).toBe(true);
      expect(line.slice(prefix.length)).toMatch(expected[index] as RegExp);
    });
  });

  it('stops everything it started, and says so', async () => {
    const urls = [...run.stdout.matchAll(/up at (http:\/\/127\.0\.0\.1:\d+)/g)].map((m) => m[1]);
    const answers = await Promise.all(
      urls.map((url) =>
        fetch(`${url}/healthz`).then(
          () => 'answered',
          () => 'refused',
        ),
      ),
    );

    expect(lines.at(-2)).toBe('Stopped the consumer, the relay, and the DNS server.');
    expect(lines.at(-1)).toMatch(/^Done in [\d.]+ s: the whole story ran on this machine\.$/);
    expect(urls).toHaveLength(2);
    expect(answers).toEqual(['refused', 'refused']);
  });

  it('shows no secret but a truncated webhook secret and the TXT value meant for DNS', () => {
    expect(run.stdout).not.toContain('demo-client-secret-for-local-use');
    expect(run.stdout).not.toMatch(/whsec_[A-Za-z0-9+/]{5,}/);
  });
});

describe('pnpm demo, interrupted', () => {
  it('stops what it started on SIGINT and exits 130', async () => {
    const demo = new ManagedProcess({
      name: 'demo',
      args: ['--import', 'tsx', 'src/demo.ts'],
      cwd: demoDir,
      env: process.env,
    });
    const relayUrl = await demo.waitForLine(
      (line) => /^✔ {2}2\/\d+ Relay is up at (\S+) /.exec(line)?.[1],
      60_000,
      'relay line',
    );

    process.kill(demo.pid as number, 'SIGINT');
    const exit = await demo.exited;
    const answer = await fetch(`${relayUrl}/healthz`).then(
      () => 'answered',
      () => 'refused',
    );

    expect(exit).toEqual({ code: 130, signal: null });
    expect(demo.tail(3)).toEqual([
      '',
      'Interrupted: stopping everything the demo started.',
      'Stopped the relay and the DNS server.',
    ]);
    expect(answer).toBe('refused');
  });
});
