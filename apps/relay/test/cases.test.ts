import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CASES_FILE, originalCasesFile } from './verification/handed-cases.ts';

describe('the field cases copy', () => {
  const original = originalCasesFile();

  it.runIf(original !== undefined)(
    'equals ../shared/cases/handed.json beside the repository',
    () => {
      expect(readFileSync(CASES_FILE, 'utf8')).toBe(readFileSync(original as string, 'utf8'));
    },
  );

  it('holds the cases every suite replays', () => {
    const ids = (JSON.parse(readFileSync(CASES_FILE, 'utf8')) as { id: string }[]).map((c) => c.id);

    expect(ids.filter((id) => id.startsWith('DNS-'))).toHaveLength(5);
    expect(ids.filter((id) => id.startsWith('WH-'))).toHaveLength(17);
    expect(ids.filter((id) => /^(DLV|SSRF)-/.test(id))).toHaveLength(6);
  });
});
