// The pending domains of the DNS checker stage, derived from their number so that the DNS
// server process and the checker agree without exchanging them.

export const TXT_RECORD_KEY = '_verihook-challenge';

export interface BenchDomain {
  domain: string;
  txtRecordKey: string;
  expectedValue: string;
  /** Whether the DNS server publishes the record (every even-numbered domain). */
  published: boolean;
}

export function benchDomain(n: number): BenchDomain {
  return {
    domain: `d${n}.bench.test`,
    txtRecordKey: TXT_RECORD_KEY,
    expectedValue: `verihook-verification=bench${n.toString(36).padStart(8, '0')}`,
    published: n % 2 === 0,
  };
}
