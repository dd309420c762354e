// Runs every workspace package's tests through turbo and prints one line: N passed, N failed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const groups = ['packages', 'apps', 'examples'];

function workspacePackages() {
  const dirs = groups.flatMap((group) => {
    const base = join(root, group);
    if (!existsSync(base)) return [];
    return readdirSync(base).map((name) => join(base, name));
  });
  dirs.push(join(root, 'bench'));
  return dirs
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => manifest.scripts?.test);
}

const packages = workspacePackages();
for (const { dir } of packages) rmSync(join(dir, '.output', 'vitest.json'), { force: true });

const extra = process.argv.slice(2).filter((arg) => arg !== '--');
const args = ['turbo', 'run', 'test', '--concurrency=1', '--continue', ...extra];
const run = spawnSync('pnpm', ['exec', ...args], {
  cwd: root,
  stdio: 'inherit',
  env: { TURBO_TELEMETRY_DISABLED: '1', ...process.env },
});

let passed = 0;
let failed = 0;
let skipped = 0;
for (const { dir, manifest } of packages) {
  const report = join(dir, '.output', 'vitest.json');
  if (!existsSync(report)) {
    console.error(`${manifest.name}: no test report (the test run crashed or was filtered out)`);
    if (extra.length === 0) failed += 1;
    continue;
  }
  const result = JSON.parse(readFileSync(report, 'utf8'));
  passed += result.numPassedTests;
  failed += result.numFailedTests;
  skipped += result.numPendingTests + result.numTodoTests;
  if (result.numFailedTestSuites > 0 && result.numFailedTests === 0)
    failed += result.numFailedTestSuites;
}

console.log('');
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 || run.status !== 0 ? 1 : 0);
