// One DNS TXT check of a domain's verification record, classified as SPEC §2 describes.
import { promises as dns } from 'node:dns';
import { performance } from 'node:perf_hooks';

export const CHECK_OUTCOMES = [
  'found',
  'mismatch',
  'nxdomain',
  'nodata',
  'servfail',
  'timeout',
] as const;
export type CheckOutcome = (typeof CHECK_OUTCOMES)[number];

/** The outcome of one check, JSON-serializable; it never holds the secret. */
export interface CheckResult {
  outcome: CheckOutcome;
  /** The name this result describes: the challenge name, or the domain if the apex form matched. */
  record_name: string;
  checked_at: string;
  duration_ms: number;
  /** TXT records seen at `record_name`. */
  records_seen: number;
  matched_form?: 'challenge' | 'apex';
  /** Whether the expected record sits at `<key>.<domain>.<domain>` instead. */
  doubled_name: boolean;
  hint?: string;
  /** The resolver's error code (`ENOTFOUND`, `ESERVFAIL`, …) when the lookup failed. */
  error_code?: string;
}

export interface CheckInput {
  /** The domain's A-label, lower-case, without a trailing dot. */
  domain: string;
  txtRecordKey: string;
  expectedValue: string;
}

export interface TxtCheckerOptions {
  /** `host:port` or bare IP addresses; absent or empty, the system's servers. */
  servers?: string[];
  /** Per-query timeout of one try. */
  timeoutMs: number;
  /** Tries per server before a lookup times out; default 2. */
  tries?: number;
}

export interface TxtChecker {
  check(input: CheckInput): Promise<CheckResult>;
  /** The servers queried, as the resolver reports them. */
  servers(): string[];
}

export class TxtCheckerError extends Error {
  override readonly name = 'TxtCheckerError';

  constructor(
    readonly code: 'invalid_check_input' | 'invalid_checker_options',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Whether an outcome says nothing about the record: the check should be retried soon. */
export function isTemporary(outcome: CheckOutcome): boolean {
  return outcome === 'servfail' || outcome === 'timeout';
}

/** A record's value as compared: its strings joined, trimmed, one pair of quotes removed. */
export function normalizeTxtRecord(strings: readonly string[]): string {
  const text = strings.join('').trim();
  const quoted = text.length >= 2 && text.startsWith('"') && text.endsWith('"');
  return quoted ? text.slice(1, -1) : text;
}

type Lookup =
  | { kind: 'records'; records: string[][] }
  | { kind: 'failed'; outcome: Exclude<CheckOutcome, 'found' | 'mismatch'>; errorCode: string };

/** Creates a checker whose resolver queries the given servers (one resolver for every check). */
export function createTxtChecker(options: TxtCheckerOptions): TxtChecker {
  const resolver = createResolver(options);

  return {
    servers: () => resolver.getServers(),
    async check(input) {
      const { domain, txtRecordKey, expectedValue } = validateInput(input);
      const startedAt = performance.now();
      const checkedAt = new Date().toISOString();
      const finish = (finding: Finding): CheckResult => ({
        ...finding,
        checked_at: checkedAt,
        duration_ms: Math.round(performance.now() - startedAt),
      });

      const recordName = `${txtRecordKey}.${domain}`;
      const challenge = lookupTxt(resolver, recordName);
      const apex = lookupTxt(resolver, domain);
      const doubledName = `${recordName}.${domain}`;
      const doubled = doubledName.length <= 253 ? lookupTxt(resolver, doubledName) : undefined;
      for (const pending of [apex, doubled]) pending?.catch(() => {});

      const atChallenge = await challenge;
      if (hasMatch(atChallenge, expectedValue)) {
        return finish(found(recordName, atChallenge, 'challenge'));
      }
      const atApex = await apex;
      if (hasMatch(atApex, `${txtRecordKey}=${expectedValue}`)) {
        return finish(found(domain, atApex, 'apex'));
      }
      const atDoubled = doubled ? await doubled : undefined;
      const isDoubled = atDoubled !== undefined && hasMatch(atDoubled, expectedValue);
      return finish(
        notFound({
          recordName,
          txtRecordKey,
          expectedValue,
          lookup: atChallenge,
          doubledName: isDoubled ? doubledName : undefined,
        }),
      );
    },
  };
}

function createResolver(options: TxtCheckerOptions): dns.Resolver {
  const { servers = [], timeoutMs, tries = 2 } = options;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new TxtCheckerError('invalid_checker_options', 'timeoutMs must be a positive integer');
  }
  if (!Number.isInteger(tries) || tries <= 0) {
    throw new TxtCheckerError('invalid_checker_options', 'tries must be a positive integer');
  }

  const resolver = new dns.Resolver({ timeout: timeoutMs, tries });
  if (servers.length === 0) return resolver;
  try {
    resolver.setServers(servers);
  } catch (error) {
    const message = `DNS servers must be IP addresses with an optional port: ${servers.join(', ')}`;
    throw new TxtCheckerError('invalid_checker_options', message, { cause: error });
  }
  return resolver;
}

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})+$`);
// node:dns hands each TXT byte over as one latin1 character, so only ASCII compares reliably.
const VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
const KEY =
  /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

function validateInput(input: CheckInput): CheckInput {
  const { domain, txtRecordKey, expectedValue } = input;
  if (typeof domain !== 'string' || !DOMAIN.test(domain) || domain.length > 253) {
    const message = `domain "${String(domain)}" must be a lower-case A-label, no trailing dot`;
    throw new TxtCheckerError('invalid_check_input', message);
  }
  if (typeof txtRecordKey !== 'string' || !KEY.test(txtRecordKey)) {
    const message = `txtRecordKey "${String(txtRecordKey)}" must be lower-case DNS labels`;
    throw new TxtCheckerError('invalid_check_input', message);
  }
  if (txtRecordKey.length + 1 + domain.length > 253) {
    throw new TxtCheckerError('invalid_check_input', 'the record name is longer than 253 octets');
  }
  if (typeof expectedValue !== 'string' || !VALUE.test(expectedValue)) {
    const message = 'expectedValue must be printable ASCII without surrounding white space';
    throw new TxtCheckerError('invalid_check_input', message);
  }
  return input;
}

/** Resolves TXT at an absolute name (the trailing dot keeps any search domain off). */
async function lookupTxt(resolver: dns.Resolver, name: string): Promise<Lookup> {
  try {
    const records = await resolver.resolveTxt(`${name}.`);
    if (records.length === 0) return { kind: 'failed', outcome: 'nodata', errorCode: 'ENODATA' };
    return { kind: 'records', records };
  } catch (error) {
    const errorCode = (error as NodeJS.ErrnoException).code;
    if (typeof errorCode !== 'string') throw error;
    return { kind: 'failed', outcome: outcomeOfError(errorCode), errorCode };
  }
}

/** node:dns error codes; any other failure to get an answer (EREFUSED, ECONNREFUSED, EBADRESP…)
 * is a servfail: the server could not tell whether the record exists. */
function outcomeOfError(errorCode: string): Exclude<CheckOutcome, 'found' | 'mismatch'> {
  if (errorCode === 'ENOTFOUND') return 'nxdomain';
  if (errorCode === 'ENODATA') return 'nodata';
  if (errorCode === 'ETIMEOUT') return 'timeout';
  return 'servfail';
}

function hasMatch(lookup: Lookup, expectedValue: string): boolean {
  if (lookup.kind === 'failed') return false;
  return lookup.records.some((record) => normalizeTxtRecord(record) === expectedValue);
}

type Finding = Omit<CheckResult, 'checked_at' | 'duration_ms'>;

function found(recordName: string, lookup: Lookup, matchedForm: 'challenge' | 'apex'): Finding {
  return {
    outcome: 'found',
    record_name: recordName,
    records_seen: lookup.kind === 'records' ? lookup.records.length : 0,
    matched_form: matchedForm,
    doubled_name: false,
  };
}

interface Miss {
  recordName: string;
  txtRecordKey: string;
  expectedValue: string;
  lookup: Lookup;
  /** The doubled name when the expected record was found there. */
  doubledName: string | undefined;
}

function notFound(miss: Miss): Finding {
  const { recordName, lookup, doubledName } = miss;
  const doubledHint = doubledName
    ? `The record was published at ${doubledName}; your DNS provider appended the domain: ` +
      `enter only \`${miss.txtRecordKey}\` as the host`
    : undefined;

  if (lookup.kind === 'records') {
    return {
      outcome: 'mismatch',
      record_name: recordName,
      records_seen: lookup.records.length,
      doubled_name: doubledName !== undefined,
      hint: doubledHint ?? mismatchHint(recordName, lookup.records, miss.expectedValue),
    };
  }
  return {
    outcome: lookup.outcome,
    record_name: recordName,
    records_seen: 0,
    doubled_name: doubledName !== undefined,
    hint: doubledHint ?? failureHint(recordName, lookup),
    error_code: lookup.errorCode,
  };
}

function mismatchHint(recordName: string, records: string[][], expectedValue: string): string {
  const lowerCased = expectedValue.toLowerCase();
  if (records.some((record) => normalizeTxtRecord(record).toLowerCase() === lowerCased)) {
    return (
      `A TXT record at ${recordName} differs from the expected value only in letter case; ` +
      'the value is case-sensitive'
    );
  }
  const which =
    records.length === 1 ? 'The TXT record' : `None of the ${records.length} TXT records`;
  const verb = records.length === 1 ? 'does not hold' : 'holds';
  return `${which} at ${recordName} ${verb} the expected value; copy it exactly, as one record`;
}

function failureHint(recordName: string, lookup: Extract<Lookup, { kind: 'failed' }>): string {
  const temporary = 'this is temporary and says nothing about the record';
  switch (lookup.outcome) {
    case 'nxdomain':
      return (
        `No DNS name ${recordName} exists yet; publish the TXT record there ` +
        '(changes can take up to 48 hours to appear)'
      );
    case 'nodata':
      return `${recordName} exists but holds no TXT record; publish the TXT record there`;
    case 'servfail':
      return `DNS failed to answer for ${recordName} (${lookup.errorCode}); ${temporary}`;
    case 'timeout':
      return `No DNS server answered for ${recordName} in time; ${temporary}`;
  }
}
