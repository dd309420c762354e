import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { EXAMPLES } from '../src/examples.js';
import { EVENT_SCHEMAS, EVENT_TYPES, VerihookEvent } from '../src/index.js';

function loadSchema(name: string): Record<string, unknown> {
  const file = new URL(`../schemas/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(file, 'utf8'));
}

function validatorFor(name: string) {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats.default(ajv);
  return ajv.compile(loadSchema(name));
}

const union = validatorFor('event');
const byType = Object.fromEntries(EVENT_TYPES.map((type) => [type, validatorFor(type)]));

describe('JSON Schema files', () => {
  it.each(Object.entries(EXAMPLES))(
    '%s validates against its own schema and the union',
    (_n, example) => {
      const own = byType[example.type];

      expect(own?.(example), JSON.stringify(own?.errors)).toBe(true);
      expect(union(example), JSON.stringify(union.errors)).toBe(true);
      expect(EVENT_SCHEMAS[example.type].safeParse(example).success).toBe(true);
    },
  );

  it('rejects an example under every other type schema', () => {
    for (const example of Object.values(EXAMPLES)) {
      for (const type of EVENT_TYPES.filter((other) => other !== example.type)) {
        expect(byType[type]?.(example)).toBe(false);
      }
    }
  });

  it.each([
    ['a bad id prefix', { id: 'msg_1' }],
    ['an unknown type', { type: 'organization.domain_renamed' }],
    ['a local timestamp', { occurred_at: '2026-01-15T10:00:00' }],
    ['a wrong spec version', { spec_version: '2' }],
  ])('agrees with zod on %s', (_label, change) => {
    const input = { ...EXAMPLES.domainDeleted, ...change };

    expect(union(input)).toBe(false);
    expect(VerihookEvent.safeParse(input).success).toBe(false);
  });

  it('agrees with zod that unknown fields are allowed', () => {
    const input = { ...EXAMPLES.domainDeleted, future_field: { nested: true } };

    expect(union(input)).toBe(true);
    expect(VerihookEvent.safeParse(input).success).toBe(true);
  });
});
