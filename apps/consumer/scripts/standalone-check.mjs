// Proves this folder works outside the Verihook monorepo: packs @verihook/events, copies the
// consumer to a temporary directory, npm-installs it against the tarball, typechecks it, starts
// it on an in-memory database and sends it signed webhooks. Run from a Verihook checkout:
//   node apps/consumer/scripts/standalone-check.mjs [--keep] [--no-build]
// --no-build packs the events package's dist/ as it is (the test uses it, so that no other test
// file reads dist/ while tsc rewrites it).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const consumerDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = join(consumerDir, '..', '..');
const keep = process.argv.includes('--keep');
const build = !process.argv.includes('--no-build');
const SKIPPED = new Set(['node_modules', '.verihook', '.output', '.turbo']);

function step(message) {
  process.stdout.write(`standalone-check: ${message}\n`);
}

function run(command, args, cwd) {
  execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], env: cleanEnv() });
}

function cleanEnv(extra = {}) {
  const { DATABASE_URL: _database, INIT_CWD: _init, ...env } = process.env;
  for (const key of Object.keys(env))
    if (key.startsWith('npm_') || key.startsWith('PNPM_')) delete env[key];
  return { ...env, ...extra };
}

function packEvents(destination) {
  step(build ? 'building and packing @verihook/events' : 'packing @verihook/events');
  if (build) run('pnpm', ['--filter', '@verihook/events', 'build'], repoRoot);
  else if (!existsSync(join(repoRoot, 'packages', 'events', 'dist', 'index.js'))) {
    throw new Error('packages/events/dist is missing: run pnpm --filter @verihook/events build');
  }
  run(
    'pnpm',
    ['--filter', '@verihook/events', 'pack', '--pack-destination', destination],
    repoRoot,
  );
  const tarball = readdirSync(destination).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error('pnpm pack wrote no tarball');
  return join(destination, tarball);
}

function copyConsumer(destination, tarball) {
  step(`copying ${relative(repoRoot, consumerDir)} to ${destination}`);
  cpSync(consumerDir, destination, {
    recursive: true,
    filter: (source) => !SKIPPED.has(basename(source)),
  });
  const manifestPath = join(destination, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  manifest.dependencies['@verihook/events'] = `file:${tarball}`;
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
}

function startConsumer(cwd, secret) {
  const env = cleanEnv({ WEBHOOK_SECRET: secret, DATABASE_URL: 'memory://', PORT: '0' });
  const child = spawn(join(cwd, 'node_modules', '.bin', 'tsx'), ['src/index.ts'], { cwd, env });
  let output = '';
  child.stderr.on('data', (chunk) => process.stderr.write(chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "listening" line in 30 s:\n${output}`)),
      30_000,
    );
    child.on('exit', (code) => reject(new Error(`the consumer exited with ${code}:\n${output}`)));
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const line = output.split('\n').find((entry) => entry.includes('"listening"'));
      if (!line) return;
      clearTimeout(timer);
      resolve({ child, url: JSON.parse(line).url });
    });
  });
}

function send(cwd, secret, args) {
  try {
    const env = cleanEnv({ WEBHOOK_SECRET: secret });
    const options = { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] };
    return {
      ok: true,
      output: execFileSync('node', ['scripts/send-example.mjs', ...args], options),
    };
  } catch (error) {
    return { ok: false, output: `${error.stdout ?? ''}${error.stderr ?? ''}` };
  }
}

function expectThat(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
  step(`ok: ${message}`);
}

async function exercise(cwd, url, secret) {
  const target = ['--url', `${url}/webhooks`, '--message-id', 'msg_standalone_check_1'];
  const first = send(cwd, secret, target);
  expectThat(
    first.ok && first.output.includes('"duplicate":false'),
    `first delivery processed (${first.output.trim()})`,
  );
  const again = send(cwd, secret, target);
  expectThat(
    again.ok && again.output.includes('"duplicate":true'),
    'the same message again is a duplicate',
  );
  const tampered = send(cwd, secret, [...target.slice(0, 2), '--tamper']);
  expectThat(
    !tampered.ok && tampered.output.includes('invalid_signature'),
    'one changed byte answers 401',
  );

  const response = await fetch(`${url}/hrd?email=alice@acmecorp.com`);
  const body = await response.json();
  expectThat(
    response.status === 200 && body.domain === 'acmecorp.com',
    `GET /hrd routes (${JSON.stringify(body)})`,
  );
}

async function main() {
  if (!existsSync(join(repoRoot, 'packages', 'events', 'package.json'))) {
    throw new Error(`${repoRoot} is not a Verihook checkout: run this script from inside one`);
  }
  const workDir = mkdtempSync(join(tmpdir(), 'verihook-standalone-'));
  const copy = join(workDir, 'consumer');
  let consumer;
  try {
    copyConsumer(copy, packEvents(workDir));
    step('npm install (outside the workspace)');
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], copy);
    step('npm run typecheck');
    run('npm', ['run', 'typecheck'], copy);

    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    consumer = await startConsumer(copy, secret);
    step(`started at ${consumer.url}`);
    await exercise(copy, consumer.url, secret);
  } finally {
    if (consumer && consumer.child.exitCode === null) {
      consumer.child.removeAllListeners('exit');
      const exited = new Promise((resolve) => consumer.child.once('exit', resolve));
      consumer.child.kill('SIGTERM');
      await exited;
    }
    if (keep) step(`kept ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  }
  step('passed');
}

main().catch((error) => {
  process.stderr.write(`standalone-check: ${error.message}\n`);
  process.exit(1);
});
