// Proves the published tarball works in a project outside the workspace, types included.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const packageDir = new URL('..', import.meta.url).pathname;
const tsc = join(packageDir, 'node_modules', '.bin', 'tsc');
const scratch = mkdtempSync(join(tmpdir(), 'verihook-events-pack-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const program = `
import { parseEvent, safeParseEvent, type VerihookEvent } from '@verihook/events';
import { domainDnsVerificationSuccess } from '@verihook/events/examples';
import schema from '@verihook/events/schemas/event.json' with { type: 'json' };

const event: VerihookEvent = parseEvent(JSON.stringify(domainDnsVerificationSuccess));
if (event.type === 'organization.domain_dns_verification_success') {
  const method: 'DNS' = event.data.verification_method;
  console.log(event.type, method);
}
const bad = safeParseEvent({ type: 'nope' });
console.log(bad.success ? 'accepted' : 'rejected');
console.log(typeof schema.$defs);
`;

describe('the packed tarball', () => {
  it('installs and imports in a scratch project, with types', () => {
    run('pnpm', ['pack', '--pack-destination', scratch], packageDir);
    const tarball = readdirSync(scratch).find((name) => name.endsWith('.tgz'));
    expect(tarball).toMatch(/^verihook-events-0\.1\.0\.tgz$/);

    writeFileSync(
      join(scratch, 'package.json'),
      JSON.stringify({ name: 'scratch', private: true, type: 'module' }),
    );
    run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', `./${tarball}`], scratch);
    writeFileSync(join(scratch, 'main.mts'), program);
    writeFileSync(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          target: 'es2022',
          strict: true,
          outDir: 'out',
          types: [],
          resolveJsonModule: true,
        },
        files: ['main.mts'],
      }),
    );

    run(tsc, ['-p', 'tsconfig.json'], scratch);
    const output = run('node', ['out/main.mjs'], scratch);

    expect(output.trim().split('\n')).toEqual([
      'organization.domain_dns_verification_success DNS',
      'rejected',
      'object',
    ]);
  });
});
