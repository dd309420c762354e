// The field cases (../shared/cases/handed.json), from the repository's copy in packages/testing.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface HandedCase {
  id: string;
  description: string;
  input: Record<string, unknown>;
  expected: Record<string, unknown>;
}

/** The repository's copy of the field cases; `cases.test.ts` keeps it equal to the original. */
export const CASES_FILE = fileURLToPath(
  new URL('../../../../packages/testing/cases/handed.json', import.meta.url),
);

/** The cases whose id starts with `prefix`; throws when the cases file cannot be read. */
export function handedCases(prefix: string): HandedCase[] {
  const cases = JSON.parse(readFileSync(CASES_FILE, 'utf8')) as HandedCase[];
  return cases.filter((handed) => handed.id.startsWith(prefix));
}

/** The original beside the repository (`../shared/cases/handed.json`), where there is one. */
export function originalCasesFile(): string | undefined {
  const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
  const candidate = join(dirname(repoRoot), 'shared', 'cases', 'handed.json');
  return existsSync(candidate) ? candidate : undefined;
}
