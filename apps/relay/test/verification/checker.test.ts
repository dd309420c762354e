import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { startDnsServer, type TestDnsServer } from '@verihook/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CHECK_OUTCOMES,
  type CheckResult,
  createTxtChecker,
  isTemporary,
  type TxtChecker,
  TxtCheckerError,
} from '../../src/verification/checker.ts';
import { type HandedCase, handedCases } from './handed-cases.ts';

const KEY = '_verihook-challenge';
const SHORT_TIMEOUT_MS = 300;

let server: TestDnsServer;
let checker: TxtChecker;
let shortChecker: TxtChecker;

beforeAll(async () => {
  server = await startDnsServer();
  checker = createTxtChecker({ servers: [server.address], timeoutMs: 2000, tries: 1 });
  shortChecker = createTxtChecker({
    servers: [server.address],
    timeoutMs: SHORT_TIMEOUT_MS,
    tries: 1,
  });
});

afterAll(() => server.close());

beforeEach(() => server.clear());

function newSecret(): string {
  return randomBytes(16).toString('base64url');
}

function withoutTiming(result: CheckResult): Omit<CheckResult, 'checked_at' | 'duration_ms'> {
  const { checked_at: _checkedAt, duration_ms: _durationMs, ...rest } = result;
  return rest;
}

function check(domain: string, expectedValue: string, txtRecordKey = KEY) {
  return checker.check({ domain, txtRecordKey, expectedValue });
}

async function closedUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

describe('createTxtChecker', () => {
  it('finds the record at <key>.<domain> and says when and how long', async () => {
    const secret = newSecret();
    server.setTxt(`${KEY}.found.test`, [[secret]]);
    const before = Date.now();

    const result = await check('found.test', secret);

    expect(withoutTiming(result)).toEqual({
      outcome: 'found',
      record_name: `${KEY}.found.test`,
      records_seen: 1,
      matched_form: 'challenge',
      doubled_name: false,
    });
    expect(Date.parse(result.checked_at)).toBeGreaterThanOrEqual(before - 1);
    expect(result.checked_at).toBe(new Date(result.checked_at).toISOString());
    expect(Number.isInteger(result.duration_ms)).toBe(true);
    expect(result.duration_ms).toBeLessThan(2000);
  });

  it('reports a mismatch when the record holds another value', async () => {
    server.setTxt(`${KEY}.wrong.test`, [[newSecret()]]);

    const result = await check('wrong.test', newSecret());

    expect(withoutTiming(result)).toEqual({
      outcome: 'mismatch',
      record_name: `${KEY}.wrong.test`,
      records_seen: 1,
      doubled_name: false,
      hint:
        `The TXT record at ${KEY}.wrong.test does not hold the expected value; ` +
        'copy it exactly, as one record',
    });
  });

  it('finds the one matching record among several', async () => {
    const secret = newSecret();
    server.setTxt(`${KEY}.several.test`, [['v=spf1 -all'], [newSecret()], [secret], ['other']]);

    const result = await check('several.test', secret);

    expect(result.outcome).toBe('found');
    expect(result.records_seen).toBe(4);
  });

  it('counts every record when none of several matches', async () => {
    server.setTxt(`${KEY}.none.test`, [['one'], ['two'], ['three']]);

    const result = await check('none.test', newSecret());

    expect(result.outcome).toBe('mismatch');
    expect(result.records_seen).toBe(3);
    expect(result.hint).toBe(
      `None of the 3 TXT records at ${KEY}.none.test holds the expected value; ` +
        'copy it exactly, as one record',
    );
  });

  it('joins the character-strings of one record', async () => {
    const secret = newSecret();
    server.setTxt(`${KEY}.split.test`, [
      [secret.slice(0, 5), secret.slice(5, 12), secret.slice(12)],
    ]);

    expect((await check('split.test', secret)).outcome).toBe('found');
  });

  it('joins a value longer than 255 bytes that the server split into strings', async () => {
    const longValue = `${newSecret()}-${'x'.repeat(400)}`;
    server.setTxt(`${KEY}.long.test`, [longValue]);

    expect((await check('long.test', longValue)).outcome).toBe('found');
    expect((await check('long.test', longValue.slice(0, 255))).outcome).toBe('mismatch');
  });

  it('falls back to TCP when the answer is too large for UDP', async () => {
    const secret = newSecret();
    const filler = Array.from({ length: 20 }, (_, index) => [`${index}-${'f'.repeat(200)}`]);
    server.setTxt(`${KEY}.large.test`, [...filler, [secret]]);

    const result = await check('large.test', secret);

    expect(result.outcome).toBe('found');
    expect(result.records_seen).toBe(21);
    const transports = server
      .queries()
      .filter((query) => query.name === `${KEY}.large.test`)
      .map((query) => query.transport);
    expect(transports).toEqual(['udp', 'tcp']);
  });

  it.each([
    ['surrounded by quotes', (secret: string) => [`"${secret}"`], 'found'],
    ['surrounded by white space', (secret: string) => [` \t${secret}  `], 'found'],
    ['quoted inside white space', (secret: string) => [`  "${secret}" `], 'found'],
    [
      'quoted across its strings',
      (secret: string) => [`"${secret.slice(0, 4)}`, `${secret.slice(4)}"`],
      'found',
    ],
    ['quoted twice', (secret: string) => [`""${secret}""`], 'mismatch'],
    ['with one quote only', (secret: string) => [`"${secret}`], 'mismatch'],
    ['with white space inside the quotes', (secret: string) => [`" ${secret}"`], 'mismatch'],
    ['with a prefix', (secret: string) => [`verihook=${secret}`], 'mismatch'],
  ])('compares a record %s: %s', async (_label, record, outcome) => {
    const secret = newSecret();
    server.setTxt(`${KEY}.quotes.test`, [record(secret)]);

    expect((await check('quotes.test', secret)).outcome).toBe(outcome);
  });

  it('tells NXDOMAIN from a name that exists without TXT', async () => {
    server.setA(`${KEY}.nodata.test`, ['192.0.2.1']);

    const nxdomain = await check('nxdomain.test', newSecret());
    const nodata = await check('nodata.test', newSecret());

    expect(withoutTiming(nxdomain)).toEqual({
      outcome: 'nxdomain',
      record_name: `${KEY}.nxdomain.test`,
      records_seen: 0,
      doubled_name: false,
      hint:
        `No DNS name ${KEY}.nxdomain.test exists yet; publish the TXT record there ` +
        '(changes can take up to 48 hours to appear)',
      error_code: 'ENOTFOUND',
    });
    expect(withoutTiming(nodata)).toEqual({
      outcome: 'nodata',
      record_name: `${KEY}.nodata.test`,
      records_seen: 0,
      doubled_name: false,
      hint: `${KEY}.nodata.test exists but holds no TXT record; publish the TXT record there`,
      error_code: 'ENODATA',
    });
  });

  it('answers nodata at an empty non-terminal above a published name', async () => {
    server.setTxt(`deeper.${KEY}.parent.test`, [['x']]);

    expect((await check('parent.test', newSecret())).outcome).toBe('nodata');
  });

  it('classifies SERVFAIL as a temporary servfail', async () => {
    server.setServfail(`${KEY}.broken.test`);

    const result = await check('broken.test', newSecret());

    expect(withoutTiming(result)).toEqual({
      outcome: 'servfail',
      record_name: `${KEY}.broken.test`,
      records_seen: 0,
      doubled_name: false,
      hint:
        `DNS failed to answer for ${KEY}.broken.test (ESERVFAIL); ` +
        'this is temporary and says nothing about the record',
      error_code: 'ESERVFAIL',
    });
    expect(isTemporary(result.outcome)).toBe(true);
  });

  it('times out on a server that never answers, within the configured timeout', async () => {
    server.setNoAnswer(`${KEY}.silent.test`);

    const result = await shortChecker.check({
      domain: 'silent.test',
      txtRecordKey: KEY,
      expectedValue: newSecret(),
    });

    expect(withoutTiming(result)).toEqual({
      outcome: 'timeout',
      record_name: `${KEY}.silent.test`,
      records_seen: 0,
      doubled_name: false,
      hint:
        `No DNS server answered for ${KEY}.silent.test in time; ` +
        'this is temporary and says nothing about the record',
      error_code: 'ETIMEOUT',
    });
    expect(result.duration_ms).toBeGreaterThanOrEqual(SHORT_TIMEOUT_MS - 50);
    expect(result.duration_ms).toBeLessThan(SHORT_TIMEOUT_MS * 6);
  });

  it('counts a refused connection (nothing listening) as servfail', async () => {
    const port = await closedUdpPort();
    const refused = createTxtChecker({ servers: [`127.0.0.1:${port}`], timeoutMs: 500, tries: 1 });

    const result = await refused.check({
      domain: 'refused.test',
      txtRecordKey: KEY,
      expectedValue: newSecret(),
    });

    expect(result.outcome).toBe('servfail');
    expect(result.error_code).toBe('ECONNREFUSED');
  });

  it('follows a CNAME at the challenge name to the record', async () => {
    const secret = newSecret();
    server.setCname(`${KEY}.alias.test`, 'challenges.provider.test');
    server.setTxt('challenges.provider.test', [[secret]]);

    const result = await check('alias.test', secret);

    expect(withoutTiming(result)).toEqual({
      outcome: 'found',
      record_name: `${KEY}.alias.test`,
      records_seen: 1,
      matched_form: 'challenge',
      doubled_name: false,
    });
  });

  it('spots the record at the doubled name <key>.<domain>.<domain>', async () => {
    const secret = newSecret();
    server.setTxt(`${KEY}.doubled.test.doubled.test`, [[secret]]);

    const result = await check('doubled.test', secret);

    expect(withoutTiming(result)).toEqual({
      outcome: 'nxdomain',
      record_name: `${KEY}.doubled.test`,
      records_seen: 0,
      doubled_name: true,
      hint:
        `The record was published at ${KEY}.doubled.test.doubled.test; ` +
        `your DNS provider appended the domain: enter only \`${KEY}\` as the host`,
      error_code: 'ENOTFOUND',
    });
  });

  it('spots the doubled name beside a stale record at the right name', async () => {
    const secret = newSecret();
    server.setTxt(`${KEY}.stale.test`, [['an-old-secret']]);
    server.setTxt(`${KEY}.stale.test.stale.test`, [[secret]]);

    const result = await check('stale.test', secret);

    expect(result.outcome).toBe('mismatch');
    expect(result.doubled_name).toBe(true);
  });

  it('does not call a wrong value at the doubled name a doubled record', async () => {
    server.setTxt(`${KEY}.other.test.other.test`, [[newSecret()]]);

    const result = await check('other.test', newSecret());

    expect(result.outcome).toBe('nxdomain');
    expect(result.doubled_name).toBe(false);
  });

  it('accepts the apex form <key>=<secret> in a TXT record at the domain', async () => {
    const secret = newSecret();
    server.setTxt('apex.test', [['v=spf1 -all'], [`${KEY}=${secret}`]]);

    const result = await check('apex.test', secret);

    expect(withoutTiming(result)).toEqual({
      outcome: 'found',
      record_name: 'apex.test',
      records_seen: 2,
      matched_form: 'apex',
      doubled_name: false,
    });
  });

  it('does not take the bare secret at the apex for the apex form', async () => {
    const secret = newSecret();
    server.setTxt('bare.test', [[secret]]);

    expect((await check('bare.test', secret)).outcome).toBe('nxdomain');
  });

  it('checks an internationalized domain by its A-label', async () => {
    const secret = newSecret();
    server.setTxt(`${KEY}.xn--bcher-kva.test`, [[secret]]);

    const result = await check('xn--bcher-kva.test', secret);

    expect(result.outcome).toBe('found');
    expect(result.record_name).toBe(`${KEY}.xn--bcher-kva.test`);
    expect(server.queries().map((query) => query.name)).toContain(`${KEY}.xn--bcher-kva.test`);
  });

  it('follows records as they change while the server runs', async () => {
    const secret = newSecret();
    const name = `${KEY}.changing.test`;
    const outcomes: string[] = [];

    outcomes.push((await check('changing.test', secret)).outcome);
    server.setTxt(name, [['typo']]);
    outcomes.push((await check('changing.test', secret)).outcome);
    server.setTxt(name, [['typo'], [secret]]);
    outcomes.push((await check('changing.test', secret)).outcome);
    server.setServfail(name);
    outcomes.push((await check('changing.test', secret)).outcome);
    server.remove(name);
    outcomes.push((await check('changing.test', secret)).outcome);

    expect(outcomes).toEqual(['nxdomain', 'mismatch', 'found', 'servfail', 'nxdomain']);
  });

  it('runs many checks at once, each with its own answer', async () => {
    const secrets = Array.from({ length: 50 }, () => newSecret());
    secrets.forEach((secret, index) => {
      if (index % 2 === 0) server.setTxt(`${KEY}.d${index}.test`, [[secret]]);
    });

    const results = await Promise.all(
      secrets.map((secret, index) => check(`d${index}.test`, secret)),
    );

    expect(results.map((result) => result.outcome)).toEqual(
      secrets.map((_, index) => (index % 2 === 0 ? 'found' : 'nxdomain')),
    );
  });

  it('never puts the secret in a result', async () => {
    const secret = newSecret();
    server.setTxt(`${KEY}.secret.test`, [[secret.toUpperCase()]]);
    server.setTxt(`${KEY}.secret.test.secret.test`, [[secret]]);
    server.setTxt(`${KEY}.secret2.test`, [[secret]]);

    const results = [await check('secret.test', secret), await check('secret2.test', secret)];

    expect(results.map((result) => result.outcome)).toEqual(['mismatch', 'found']);
    for (const result of results) expect(JSON.stringify(result)).not.toContain(secret);
  });

  it.each([
    ['an upper-case domain', { domain: 'Example.TEST' }],
    ['a trailing dot', { domain: 'example.test.' }],
    ['a Unicode domain', { domain: 'bücher.test' }],
    ['a single label', { domain: 'localhost' }],
    ['an IP address with a port', { domain: '127.0.0.1:53' }],
    ['a key with a space', { txtRecordKey: '_verihook challenge' }],
    ['an upper-case key', { txtRecordKey: '_Verihook' }],
    ['an empty value', { expectedValue: '' }],
    ['a value with surrounding white space', { expectedValue: ' secret ' }],
    ['a non-ASCII value', { expectedValue: 'sécret' }],
  ])('rejects %s with invalid_check_input', async (_label, change) => {
    const input = { domain: 'example.test', txtRecordKey: KEY, expectedValue: 'sekrit', ...change };

    const error = await checker.check(input).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TxtCheckerError);
    expect((error as TxtCheckerError).code).toBe('invalid_check_input');
    expect((error as Error).message).not.toContain('sekrit');
    expect(server.queries()).toEqual([]);
  });

  it.each([
    ['a zero timeout', { timeoutMs: 0 }],
    ['a fractional timeout', { timeoutMs: 1.5 }],
    ['zero tries', { tries: 0 }],
    ['a host name as server', { servers: ['localhost:53'] }],
  ])('rejects %s with invalid_checker_options', (_label, change) => {
    const options = { servers: [server.address], timeoutMs: 1000, ...change };

    expect(() => createTxtChecker(options)).toThrowError(
      expect.objectContaining({ name: 'TxtCheckerError', code: 'invalid_checker_options' }),
    );
  });

  it('reports the servers it queries', () => {
    expect(checker.servers()).toEqual([server.address]);
  });
});

describe('isTemporary', () => {
  it('is true only for servfail and timeout', () => {
    const temporary = CHECK_OUTCOMES.filter(isTemporary);

    expect(temporary).toEqual(['servfail', 'timeout']);
  });
});

describe('handed DNS cases (../shared/cases/handed.json)', () => {
  const cases = new Map(handedCases('DNS-').map((handed) => [handed.id, handed]));

  function handed(id: string): HandedCase {
    const found = cases.get(id);
    if (!found) throw new Error(`case ${id} is missing from handed.json`);
    return found;
  }

  function splitName(name: string): { txtRecordKey: string; domain: string } {
    const [txtRecordKey = '', ...rest] = name.split('.');
    return { txtRecordKey, domain: rest.join('.') };
  }

  /** The strings of a zone-file TXT value such as `"a" "b"`. */
  function presentationStrings(value: string): string[] {
    return [...value.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((match) => match[1] ?? '');
  }

  it('covers every DNS- case in the file', () => {
    expect([...cases.keys()].sort()).toEqual(['DNS-36', 'DNS-38', 'DNS-40', 'DNS-42', 'DNS-44']);
  });

  describe('DNS-36: strings join inside one record, never across records', () => {
    it('verifies the multi-string record and not the two separate records', async () => {
      const { input } = handed('DNS-36');
      const query = input.query as string;
      const token = input.expected_token as string;
      const { txtRecordKey, domain } = splitName(query);

      server.setTxt(query, input.resolveTxt_answer as string[][]);
      const joined = await checker.check({ domain, txtRecordKey, expectedValue: token });
      server.setTxt(query, input.control_answer_two_separate_RRs as string[][]);
      const separate = await checker.check({ domain, txtRecordKey, expectedValue: token });

      expect([joined.outcome, joined.records_seen]).toEqual(['found', 2]);
      expect([separate.outcome, separate.records_seen]).toEqual(['mismatch', 2]);
    });
  });

  describe('DNS-38: NXDOMAIN, NODATA, SERVFAIL and no reply are told apart', () => {
    const OUTCOME_OF_CODE = {
      ENOTFOUND: 'nxdomain',
      ENODATA: 'nodata',
      ESERVFAIL: 'servfail',
      ETIMEOUT: 'timeout',
    } as const;

    function publish(name: string, behaviour: string): void {
      if (behaviour === 'NXDOMAIN') return;
      if (behaviour.startsWith('NOERROR, 0 answers')) server.setA(name, ['192.0.2.1']);
      else if (behaviour === 'SERVFAIL') server.setServfail(name);
      else if (behaviour === 'no reply') server.setNoAnswer(name);
      else throw new Error(`DNS-38: no way to publish "${behaviour}"`);
    }

    it('classifies each answer with its error code, and only failures as temporary', async () => {
      const { input, expected } = handed('DNS-38');
      const queries = input.queries as Record<string, string>;
      const observed = expected.observed_node20_error_codes as Record<string, string>;
      const timeout = Object.values(observed)
        .map((text) => /Resolver timeout (\d+) ms, tries (\d+)/.exec(text))
        .find((match) => match !== null);
      if (!timeout) throw new Error('DNS-38: the case names no resolver timeout');
      const caseChecker = createTxtChecker({
        servers: [server.address],
        timeoutMs: Number(timeout[1]),
        tries: Number(timeout[2]),
      });
      for (const [name, behaviour] of Object.entries(queries)) publish(name, behaviour);

      const rows = await Promise.all(
        Object.keys(queries).map(async (name) => {
          const result = await caseChecker.check({ ...splitName(name), expectedValue: 'token' });
          return [name, result.outcome, result.error_code, isTemporary(result.outcome)];
        }),
      );

      const expectedRows = Object.keys(queries).map((name) => {
        const code = (observed[name] ?? '').split(' ')[0] as keyof typeof OUTCOME_OF_CODE;
        const temporary = String(expected[code]).startsWith('temporary_error');
        return [name, OUTCOME_OF_CODE[code], code, temporary];
      });
      expect(rows).toEqual(expectedRows);
      expect(expectedRows.map((row) => row[3])).toEqual([false, false, true, true]);
    });
  });

  describe('DNS-40: a CNAME at the challenge name', () => {
    it('verifies through the CNAME to the TXT of its target', async () => {
      const { input } = handed('DNS-40');
      for (const [name, value] of Object.entries(input.dns as Record<string, string>)) {
        const [type, ...rest] = value.split(' ');
        if (type === 'CNAME') server.setCname(name, rest.join(' '));
        else if (type === 'TXT') server.setTxt(name, [presentationStrings(rest.join(' '))]);
        else throw new Error(`DNS-40: unexpected record type ${type}`);
      }

      const result = await checker.check({
        ...splitName(input.query as string),
        expectedValue: input.expected_token as string,
      });

      expect([result.outcome, result.record_name]).toEqual(['found', input.query]);
    });
  });

  describe('DNS-42: absolute query name, case-sensitive token', () => {
    const { input, expected } = handed('DNS-42');
    const token = input.token_in_dns as string;
    const canonical = String(expected.canonical_domain).split(' ')[0] ?? '';
    const queryName = String(expected.query_name).split(' ')[0] ?? '';
    const txtRecordKey = queryName.split('.')[0] ?? '';

    it('queries the lower-case absolute name and nothing with a suffix', async () => {
      server.setTxt(queryName, [[token]]);

      const result = await checker.check({ domain: canonical, txtRecordKey, expectedValue: token });

      expect(result.outcome).toBe('found');
      expect(`${result.record_name}.`).toBe(queryName);
      const asked = server.queries().filter((query) => query.type === 'TXT');
      expect(asked.map((query) => query.name)).toContain(queryName.replace(/\.$/, ''));
      const allowed = [queryName, `${canonical}.`, `${queryName}${canonical}.`];
      for (const query of asked) expect(allowed).toContain(`${query.name}.`);
    });

    it('does not verify the token in another letter case, either way round', async () => {
      const otherCase = input.token_variant_with_other_case as string;
      server.setTxt(queryName, [[token]]);
      const upperExpected = await checker.check({
        domain: canonical,
        txtRecordKey,
        expectedValue: otherCase,
      });
      server.setTxt(queryName, [[otherCase]]);
      const upperPublished = await checker.check({
        domain: canonical,
        txtRecordKey,
        expectedValue: token,
      });

      expect([upperExpected.outcome, upperPublished.outcome]).toEqual(['mismatch', 'mismatch']);
      expect(upperPublished.hint).toBe(
        `A TXT record at ${queryName.replace(/\.$/, '')} differs from the expected value ` +
          'only in letter case; the value is case-sensitive',
      );
    });

    it('leaves input normalization to the relay: non-canonical domains are refused', async () => {
      const attempts = (input.user_inputs as string[]).map((domain) =>
        checker.check({ domain, txtRecordKey, expectedValue: token }).catch((error) => error.code),
      );

      expect(await Promise.all(attempts)).toEqual([
        'invalid_check_input',
        'invalid_check_input',
        'invalid_check_input',
      ]);
    });
  });

  describe('DNS-44: internationalized names are checked by their A-label', () => {
    const { input, expected } = handed('DNS-44');
    const hostnames = expected.observed_node20_URL_hostname as Record<string, string>;
    const [recordName = '', , txtValue = ''] = String(input.token_at).split(' ');
    const token = presentationStrings(txtValue)[0] ?? '';
    const { txtRecordKey } = splitName(recordName);

    it('derives the A-labels the case lists', () => {
      const inputs = input.user_inputs as string[];

      expect(inputs.map((domain) => new URL(`http://${domain}`).hostname)).toEqual(
        inputs.map((domain) => hostnames[domain]),
      );
    });

    it('verifies every spelling of bücher.test and not the Cyrillic аpple.test', async () => {
      server.setTxt(recordName, [[token]]);
      server.setTxt(`${txtRecordKey}.apple.test`, [[token]]);

      const outcomes = await Promise.all(
        (input.user_inputs as string[]).map(async (domain) => {
          const aLabel = new URL(`http://${domain}`).hostname;
          const result = await checker.check({
            domain: aLabel,
            txtRecordKey,
            expectedValue: token,
          });
          return [aLabel, result.outcome];
        }),
      );
      const latinApple = await checker.check({
        domain: 'apple.test',
        txtRecordKey,
        expectedValue: token,
      });

      expect(outcomes).toEqual([
        ['xn--bcher-kva.test', 'found'],
        ['xn--bcher-kva.test', 'found'],
        ['xn--bcher-kva.test', 'found'],
        ['xn--pple-43d.test', 'nxdomain'],
      ]);
      expect(latinApple.outcome).toBe('found');
    });

    it('refuses the Unicode form: the checker is given the A-label', async () => {
      const error = await checker
        .check({ domain: 'bücher.test', txtRecordKey, expectedValue: token })
        .catch((caught: TxtCheckerError) => caught);

      expect((error as TxtCheckerError).code).toBe('invalid_check_input');
    });
  });
});
