// The field cases in ../shared/cases/handed.json (beside the repository), found from any worktree.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface HandedCase {
  id: string;
  description: string;
  input: Record<string, unknown>;
  expected: Record<string, unknown>;
}

const CASES_FILE = join('shared', 'cases', 'handed.json');

/** The cases whose id starts with `prefix`; throws when the cases file cannot be found. */
export function handedCases(prefix: string): HandedCase[] {
  const cases = JSON.parse(readFileSync(findCasesFile(), 'utf8')) as HandedCase[];
  return cases.filter((handed) => handed.id.startsWith(prefix));
}

/** Walks up from this file to the first `shared/cases/handed.json` beside an ancestor folder. */
function findCasesFile(): string {
  const searched: string[] = [];
  let folder = dirname(fileURLToPath(import.meta.url));
  while (true) {
    const candidate = join(folder, CASES_FILE);
    if (existsSync(candidate)) return candidate;
    searched.push(candidate);
    const parent = dirname(folder);
    if (parent === folder) break;
    folder = parent;
  }
  throw new Error(`handed.json not found; looked for:\n${searched.join('\n')}`);
}
