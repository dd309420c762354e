import { describe, expect, it } from 'vitest';
import { normalizeDomain } from '../src/domains/normalize.ts';
import { ApiError } from '../src/errors.ts';

function rejection(input: string): { status: number; code: string } | undefined {
  try {
    normalizeDomain(input);
    return undefined;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return { status: error.status, code: error.code };
  }
}

const label63 = 'a'.repeat(63);

describe('normalizeDomain', () => {
  it.each([
    ['bücher.de', 'xn--bcher-kva.de', 'bücher.de'],
    ['BÜCHER.DE', 'xn--bcher-kva.de', 'bücher.de'],
    ['xn--bcher-kva.de', 'xn--bcher-kva.de', 'bücher.de'],
    ['AcmeCorp.COM', 'acmecorp.com', 'acmecorp.com'],
    ['acmecorp.com.', 'acmecorp.com', 'acmecorp.com'],
    ['  acmecorp.com \n', 'acmecorp.com', 'acmecorp.com'],
    ['eu.login.acmecorp.com', 'eu.login.acmecorp.com', 'eu.login.acmecorp.com'],
    ['acme.co.uk', 'acme.co.uk', 'acme.co.uk'],
    ['acme.github.io', 'acme.github.io', 'acme.github.io'],
    ['acme.test', 'acme.test', 'acme.test'],
    ['globex.test', 'globex.test', 'globex.test'],
    [`${label63}.com`, `${label63}.com`, `${label63}.com`],
  ])('normalizes %j to %j', (input, domain, unicode) => {
    expect(normalizeDomain(input)).toEqual({ domain, domain_unicode: unicode });
  });

  it('accepts a name of exactly 253 octets', () => {
    const name = `${label63}.${label63}.${label63}.${'b'.repeat(57)}.com`;
    expect(name).toHaveLength(253);
    expect(normalizeDomain(name).domain).toBe(name);
  });

  it.each([
    ['gmail.com', 'email_provider_not_allowed'],
    ['GMAIL.com.', 'email_provider_not_allowed'],
    ['outlook.com', 'email_provider_not_allowed'],
    ['mail.gmail.com', 'email_provider_not_allowed'],
    ['mailinator.com', 'email_provider_not_allowed'],
    ['co.uk', 'public_suffix_not_allowed'],
    ['github.io', 'public_suffix_not_allowed'],
    ['com', 'single_label_not_allowed'],
    ['localhost', 'single_label_not_allowed'],
    ['1.2.3.4', 'ip_address_not_allowed'],
    ['0x7f.1', 'ip_address_not_allowed'],
    ['[::1]', 'ip_address_not_allowed'],
    ['::1', 'ip_address_not_allowed'],
    ['2001:db8::1', 'ip_address_not_allowed'],
    ['*.acme.com', 'wildcard_not_allowed'],
    ['acme.*.com', 'wildcard_not_allowed'],
    [`${'a'.repeat(64)}.com`, 'label_too_long'],
    [`${label63}.${label63}.${label63}.${'b'.repeat(58)}.com`, 'domain_too_long'],
    ['https://acme.com/x', 'invalid_domain'],
    ['http://acme.com', 'invalid_domain'],
    ['acme.com/x', 'invalid_domain'],
    ['acme.com:443', 'invalid_domain'],
    ['alice@acme.com', 'invalid_domain'],
    ['acme.com?x=1', 'invalid_domain'],
    ['acme..com', 'invalid_domain'],
    ['.acme.com', 'invalid_domain'],
    ['acme.com..', 'invalid_domain'],
    ['-acme.com', 'invalid_domain'],
    ['acme-.com', 'invalid_domain'],
    ['ac_me.com', 'invalid_domain'],
    ['ac me.com', 'invalid_domain'],
    ['xn--zz.com', 'invalid_domain'],
    ['', 'invalid_domain'],
    ['   ', 'invalid_domain'],
  ])('rejects %j with %s', (input, code) => {
    expect(rejection(input)).toEqual({ status: 400, code });
  });

  it('checks the 254-octet name the test uses really is 254 octets with short labels', () => {
    const name = `${label63}.${label63}.${label63}.${'b'.repeat(58)}.com`;
    expect(name).toHaveLength(254);
    expect(name.split('.').every((label) => label.length <= 63)).toBe(true);
  });

  it('names the offending field in the error', () => {
    try {
      normalizeDomain('gmail.com');
      expect.unreachable();
    } catch (error) {
      expect((error as ApiError).fields).toEqual([
        { path: 'domain', message: 'gmail.com is a public or disposable email provider' },
      ]);
    }
  });
});
