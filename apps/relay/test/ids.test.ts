import { describe, expect, it } from 'vitest';
import { newId } from '../src/ids.ts';

describe('newId', () => {
  it('is the prefix, an underscore and 26 Crockford base32 characters', () => {
    const id = newId('dom');
    expect(id).toMatch(/^dom_[0-9ABCDEFGHJKMNPQRSTVWXYZ]{26}$/);
    expect(id).toHaveLength(30);
  });

  it('stays within 32 characters for every prefix it accepts', () => {
    expect(newId('abcde')).toHaveLength(32);
    expect(() => newId('abcdef')).toThrow('id prefix "abcdef" is not 1 to 5 letters');
    expect(() => newId('Org')).toThrow();
  });

  it('encodes the time first, so later ids sort after earlier ones', async () => {
    const first = newId('evt');
    await new Promise((resolve) => setTimeout(resolve, 3));
    const second = newId('evt');
    expect(first < second).toBe(true);
    expect(first.slice(4, 14) < second.slice(4, 14)).toBe(true);
  });

  it('keeps ids made within one millisecond in order and distinct', () => {
    const ids = Array.from({ length: 2000 }, () => newId('org'));
    expect(new Set(ids).size).toBe(2000);
    expect([...ids].sort()).toEqual(ids);
  });
});
