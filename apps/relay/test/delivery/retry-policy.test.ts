import { describe, expect, it } from 'vitest';
import {
  classifyResponse,
  DEFAULT_RETRY_SCHEDULE_MS,
  firstAttemptDelayMs,
  maxAttempts,
  nextAttemptDelayMs,
  parseRetryAfterMs,
  RetryPolicyError,
} from '../../src/delivery/retry-policy.ts';
import { parseScheduleMs } from '../../src/durations.ts';

const NOW = new Date('2025-01-01T00:00:00Z');
const SECOND = 1000;
const NO_JITTER = { scheduleMs: DEFAULT_RETRY_SCHEDULE_MS, now: NOW, jitter: 0 };

describe('classifyResponse', () => {
  it.each([
    [200, 'success'],
    [201, 'success'],
    [204, 'success'],
    [299, 'success'],
    [301, 'failure'],
    [302, 'failure'],
    [307, 'failure'],
    [308, 'failure'],
    [400, 'failure'],
    [404, 'failure'],
    [409, 'failure'],
    [410, 'gone'],
    [429, 'failure'],
    [500, 'failure'],
    [503, 'failure'],
  ])('classifies %i as %s', (statusCode, expected) => {
    expect(classifyResponse(statusCode)).toBe(expected);
  });
});

describe('the default schedule', () => {
  it('equals VERIHOOK_RETRY_SCHEDULE 0,5s,5m,30m,2h,5h,10h,10h', () => {
    expect(DEFAULT_RETRY_SCHEDULE_MS).toEqual(parseScheduleMs('0,5s,5m,30m,2h,5h,10h,10h'));
    expect(maxAttempts(DEFAULT_RETRY_SCHEDULE_MS)).toBe(8);
    expect(firstAttemptDelayMs(DEFAULT_RETRY_SCHEDULE_MS)).toBe(0);
  });

  it.each([
    [1, 5 * SECOND],
    [2, 300 * SECOND],
    [3, 1800 * SECOND],
    [4, 7200 * SECOND],
    [5, 18_000 * SECOND],
    [6, 36_000 * SECOND],
    [7, 36_000 * SECOND],
  ])('retries after failed attempt %i in %i ms', (attemptNumber, delayMs) => {
    expect(nextAttemptDelayMs({ ...NO_JITTER, attemptNumber, statusCode: 500 })).toEqual({
      retry: true,
      delayMs,
    });
  });

  it('is exhausted after attempt 8, even when Retry-After asks for more', () => {
    expect(nextAttemptDelayMs({ ...NO_JITTER, attemptNumber: 8, statusCode: 500 })).toEqual({
      retry: false,
      reason: 'exhausted',
    });
    expect(
      nextAttemptDelayMs({ ...NO_JITTER, attemptNumber: 8, statusCode: 429, retryAfter: '10' }),
    ).toEqual({ retry: false, reason: 'exhausted' });
  });

  it('retries timeouts and connection errors (no status) on the schedule', () => {
    expect(nextAttemptDelayMs({ ...NO_JITTER, attemptNumber: 1 })).toEqual({
      retry: true,
      delayMs: 5 * SECOND,
    });
    expect(nextAttemptDelayMs({ ...NO_JITTER, attemptNumber: 3, retryAfter: '9999' })).toEqual({
      retry: true,
      delayMs: 1800 * SECOND,
    });
  });

  it('treats a 3xx as an ordinary failure', () => {
    expect(nextAttemptDelayMs({ ...NO_JITTER, attemptNumber: 1, statusCode: 302 })).toEqual({
      retry: true,
      delayMs: 5 * SECOND,
    });
  });
});

describe('DLV-27: Retry-After on 429 and 503', () => {
  // The case lists the delays after each failed attempt: the default minus its leading 0.
  it('uses the same schedule as the case', () => {
    expect(DEFAULT_RETRY_SCHEDULE_MS.slice(1).map((ms) => ms / SECOND)).toEqual([
      5, 300, 1800, 7200, 18000, 36000, 36000,
    ]);
  });

  it.each([
    ['a', 1, 429, '120', 120],
    ['b', 1, 503, 'Wed, 01 Jan 2025 00:10:00 GMT', 600],
    ['c', 1, 429, '86400', 7205],
    ['d', 1, 503, 'soon', 5],
    ['e', 2, 429, '60', 300],
    ['f', 1, 500, '120', 5],
  ])(
    'case %s: after attempt %i, %i with Retry-After %s, retries in %i s',
    (_case, attemptNumber, statusCode, retryAfter, seconds) => {
      const next = nextAttemptDelayMs({ ...NO_JITTER, attemptNumber, statusCode, retryAfter });

      expect(next).toEqual({
        retry: true,
        delayMs: seconds * SECOND,
        ...(retryAfter === 'soon' ? { invalidRetryAfter: 'soon' } : {}),
      });
    },
  );

  it('reports an invalid Retry-After so the worker can log it', () => {
    const next = nextAttemptDelayMs({
      ...NO_JITTER,
      attemptNumber: 1,
      statusCode: 503,
      retryAfter: 'soon',
    });

    expect(next).toEqual({ retry: true, delayMs: 5000, invalidRetryAfter: 'soon' });
  });

  it.each([
    ['', 5],
    [null, 5],
    [undefined, 5],
    ['-5', 5],
    ['1.5', 5],
    ['120 s', 5],
    ['0', 5],
    ['Tue, 31 Dec 2024 23:00:00 GMT', 5],
    ['Sat, 01 Jan 2025 00:10:00 GMT', 600],
    ['Wed, 31 Feb 2025 00:10:00 GMT', 5],
    ['wed, 01 jan 2025 00:10:00 gmt', 5],
  ])('with Retry-After %j on 429 after attempt 1 retries in %i s', (retryAfter, seconds) => {
    const next = nextAttemptDelayMs({
      ...NO_JITTER,
      attemptNumber: 1,
      statusCode: 429,
      retryAfter,
    });

    expect(next.retry && next.delayMs).toBe(seconds * SECOND);
  });
});

describe('DLV-29: 410 Gone', () => {
  it('does not retry a 410 and says the endpoint is gone', () => {
    expect(classifyResponse(410)).toBe('gone');
    expect(nextAttemptDelayMs({ ...NO_JITTER, attemptNumber: 1, statusCode: 410 })).toEqual({
      retry: false,
      reason: 'gone',
    });
  });

  it('retries a 404 in 5 s like any other failure', () => {
    expect(classifyResponse(404)).toBe('failure');
    expect(nextAttemptDelayMs({ ...NO_JITTER, attemptNumber: 1, statusCode: 404 })).toEqual({
      retry: true,
      delayMs: 5000,
    });
  });
});

describe('jitter', () => {
  const at = (random: number, extra: object = {}) =>
    nextAttemptDelayMs({
      scheduleMs: DEFAULT_RETRY_SCHEDULE_MS,
      now: NOW,
      attemptNumber: 2,
      statusCode: 500,
      random: () => random,
      ...extra,
    });

  it('varies the schedule delay by up to 20 % either way by default', () => {
    expect(at(0)).toEqual({ retry: true, delayMs: 240_000 });
    expect(at(0.5)).toEqual({ retry: true, delayMs: 300_000 });
    expect(at(0.75)).toEqual({ retry: true, delayMs: 330_000 });
    expect(at(0.9)).toEqual({ retry: true, delayMs: 348_000 });
  });

  it('takes another fraction when asked', () => {
    expect(at(0, { jitter: 0.5 })).toEqual({ retry: true, delayMs: 150_000 });
  });

  it('stays within ±20 % with the real random source', () => {
    for (let i = 0; i < 1000; i += 1) {
      const next = nextAttemptDelayMs({ ...NO_JITTER, jitter: 0.2, attemptNumber: 1 });
      const delayMs = next.retry ? next.delayMs : -1;
      expect(delayMs).toBeGreaterThanOrEqual(4000);
      expect(delayMs).toBeLessThanOrEqual(6000);
    }
  });

  it('keeps an immediate first entry immediate', () => {
    const next = nextAttemptDelayMs({
      scheduleMs: [0, 0, 1000],
      now: NOW,
      attemptNumber: 1,
      random: () => 0,
    });

    expect(next).toEqual({ retry: true, delayMs: 0 });
  });

  it('lets Retry-After win over the jittered delay, capped 2 h past it', () => {
    expect(at(0, { statusCode: 429, retryAfter: '250' })).toEqual({
      retry: true,
      delayMs: 250_000,
    });
    expect(at(0, { statusCode: 429, retryAfter: '100' })).toEqual({
      retry: true,
      delayMs: 240_000,
    });
    expect(at(0, { statusCode: 503, retryAfter: '999999' })).toEqual({
      retry: true,
      delayMs: 240_000 + 7_200_000,
    });
  });
});

describe('parseRetryAfterMs', () => {
  it.each([
    ['120', 120_000],
    [' 120 ', 120_000],
    ['0', 0],
    ['Wed, 01 Jan 2025 00:10:00 GMT', 600_000],
    ['Wednesday, 01-Jan-25 00:10:00 GMT', 600_000],
    ['Wed Jan  1 00:10:00 2025', 600_000],
    ['Tue, 31 Dec 2024 23:59:00 GMT', 0],
    ['Tue, 01 Jan 2075 00:00:00 GMT', Date.UTC(2075, 0, 1) - NOW.getTime()],
    ['Thursday, 01-Jan-76 00:00:00 GMT', 0],
    ['Wednesday, 01-Jan-70 00:00:00 GMT', Date.UTC(2070, 0, 1) - NOW.getTime()],
  ])('reads %j as %i ms', (value, ms) => {
    expect(parseRetryAfterMs(value, NOW)).toBe(ms);
  });

  it.each([
    'soon',
    '',
    '-1',
    '1e3',
    '12.5',
    'Wed, 1 Jan 2025 00:10:00 GMT',
    'Wed, 01 Jan 2025 00:10:00 UTC',
    'Wed, 01 Jan 2025 24:00:00 GMT',
    'Wed, 01 Jan 2025 00:60:00 GMT',
    'Wed, 29 Feb 2025 00:00:00 GMT',
    '2025-01-01T00:10:00Z',
  ])('rejects %j', (value) => {
    expect(parseRetryAfterMs(value, NOW)).toBeUndefined();
  });
});

describe('bad input', () => {
  it.each([
    [{ attemptNumber: 0 }, 'invalid_attempt_number'],
    [{ attemptNumber: 1.5 }, 'invalid_attempt_number'],
    [{ scheduleMs: [] }, 'invalid_schedule'],
    [{ scheduleMs: [0, -1] }, 'invalid_schedule'],
    [{ scheduleMs: [0, Number.NaN] }, 'invalid_schedule'],
    [{ jitter: 1 }, 'invalid_jitter'],
    [{ jitter: -0.1 }, 'invalid_jitter'],
    [{ now: new Date('not a date') }, 'invalid_now'],
    [{ statusCode: 200 }, 'not_a_failure'],
  ])('rejects %j with %s', (override, code) => {
    const attempt = () => nextAttemptDelayMs({ ...NO_JITTER, attemptNumber: 1, ...override });

    expect(attempt).toThrow(RetryPolicyError);
    expect(attempt).toThrow(expect.objectContaining({ code }));
  });
});
