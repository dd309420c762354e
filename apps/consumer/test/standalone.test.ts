// Runs scripts/standalone-check.mjs: a copy of this folder outside the workspace installs from
// the packed @verihook/events tarball, typechecks, starts and handles signed webhooks.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const consumerDir = fileURLToPath(new URL('..', import.meta.url));
const eventsDir = join(consumerDir, '..', '..', 'packages', 'events');
const insideRepository = existsSync(join(eventsDir, 'src', 'schemas.ts'));

function newestSourceMs(): number {
  const sources = ['index.ts', 'parse.ts', 'schemas.ts', 'examples.ts'];
  return Math.max(...sources.map((file) => statSync(join(eventsDir, 'src', file)).mtimeMs));
}

describe.skipIf(!insideRepository)('a copy of the consumer outside the monorepo', () => {
  it('installs from the packed events tarball, typechecks, starts and verifies', () => {
    const dist = join(eventsDir, 'dist', 'index.js');
    expect(
      existsSync(dist) && statSync(dist).mtimeMs >= newestSourceMs(),
      'events dist is built',
    ).toBe(true);

    const check = spawnSync('node', ['scripts/standalone-check.mjs', '--no-build'], {
      cwd: consumerDir,
      encoding: 'utf8',
      timeout: 280_000,
    });

    expect(check.status, `${check.stdout}\n${check.stderr}`).toBe(0);
    expect(check.stdout).toContain('standalone-check: ok: the same message again is a duplicate');
    expect(check.stdout).toContain('standalone-check: ok: one changed byte answers 401');
    expect(check.stdout).toContain('standalone-check: ok: GET /hrd routes');
    expect(check.stdout).toContain('standalone-check: passed');
  }, 300_000);
});
