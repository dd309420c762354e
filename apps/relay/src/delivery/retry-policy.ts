// When a failed delivery attempt is tried again: the retry schedule, jitter and Retry-After.

/** Immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts in all. */
export const DEFAULT_RETRY_SCHEDULE_MS = [
  0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
];
export const DEFAULT_JITTER = 0.2;
/** Retry-After may push an attempt out by at most this much beyond its scheduled delay. */
export const RETRY_AFTER_BOUND_MS = 7_200_000;

export type ResponseClass = 'success' | 'failure' | 'gone';

export type RetryPolicyErrorCode =
  | 'invalid_schedule'
  | 'invalid_attempt_number'
  | 'invalid_jitter'
  | 'invalid_now'
  | 'not_a_failure';

/** A retry question that has no answer: a bad schedule, attempt number or jitter. */
export class RetryPolicyError extends Error {
  readonly code: RetryPolicyErrorCode;

  constructor(code: RetryPolicyErrorCode, message: string) {
    super(message);
    this.name = 'RetryPolicyError';
    this.code = code;
  }
}

export interface NextAttemptInput {
  /** The attempt that just failed, counted from 1. */
  attemptNumber: number;
  /** scheduleMs[0] is the delay before attempt 1; scheduleMs[k] the delay after attempt k fails. */
  scheduleMs: readonly number[];
  /** Absent for timeouts and connection errors. */
  statusCode?: number;
  retryAfter?: string | null;
  now: Date;
  /** The schedule delay varies by up to this fraction either way; 0 turns jitter off. */
  jitter?: number;
  random?: () => number;
}

export type NextAttempt =
  | { retry: true; delayMs: number; invalidRetryAfter?: string }
  | { retry: false; reason: 'exhausted' | 'gone' };

const RETRY_AFTER_STATUSES = new Set([429, 503]);

/** Any 2xx succeeds; 410 Gone means the endpoint asks to be disabled; everything else failed. */
export function classifyResponse(statusCode: number): ResponseClass {
  if (statusCode >= 200 && statusCode <= 299) return 'success';
  if (statusCode === 410) return 'gone';
  return 'failure';
}

/** How many attempts a schedule allows. */
export function maxAttempts(scheduleMs: readonly number[]): number {
  checkSchedule(scheduleMs);
  return scheduleMs.length;
}

/** The delay before the first attempt of a new message. */
export function firstAttemptDelayMs(scheduleMs: readonly number[]): number {
  checkSchedule(scheduleMs);
  return scheduleMs[0] ?? 0;
}

/** Whether and when to try again after a failed attempt (SPEC §5, DLV-27, DLV-29). */
export function nextAttemptDelayMs(input: NextAttemptInput): NextAttempt {
  const jitter = input.jitter ?? DEFAULT_JITTER;
  checkInput(input, jitter);
  if (input.statusCode !== undefined) {
    const outcome = classifyResponse(input.statusCode);
    if (outcome === 'success') {
      throw new RetryPolicyError('not_a_failure', `status ${input.statusCode} is a success`);
    }
    if (outcome === 'gone') return { retry: false, reason: 'gone' };
  }
  const scheduledMs = input.scheduleMs[input.attemptNumber];
  if (scheduledMs === undefined) return { retry: false, reason: 'exhausted' };

  const baseMs = applyJitter(scheduledMs, jitter, input.random ?? Math.random);
  const retryAfter = input.retryAfter?.trim();
  if (!retryAfter || !RETRY_AFTER_STATUSES.has(input.statusCode ?? 0)) {
    return { retry: true, delayMs: baseMs };
  }

  const retryAfterMs = parseRetryAfterMs(retryAfter, input.now);
  if (retryAfterMs === undefined) {
    return { retry: true, delayMs: baseMs, invalidRetryAfter: retryAfter };
  }
  const delayMs = Math.min(Math.max(baseMs, retryAfterMs), baseMs + RETRY_AFTER_BOUND_MS);
  return { retry: true, delayMs };
}

function applyJitter(delayMs: number, jitter: number, random: () => number): number {
  if (jitter === 0 || delayMs === 0) return delayMs;
  return Math.round(delayMs * (1 + jitter * (2 * random() - 1)));
}

function checkInput(input: NextAttemptInput, jitter: number): void {
  checkSchedule(input.scheduleMs);
  if (!Number.isSafeInteger(input.attemptNumber) || input.attemptNumber < 1) {
    throw new RetryPolicyError(
      'invalid_attempt_number',
      `the attempt number must be a whole number from 1, not ${input.attemptNumber}`,
    );
  }
  if (!(jitter >= 0 && jitter < 1)) {
    throw new RetryPolicyError(
      'invalid_jitter',
      `jitter must be at least 0 and below 1, not ${jitter}`,
    );
  }
  if (!(input.now instanceof Date) || Number.isNaN(input.now.getTime())) {
    throw new RetryPolicyError('invalid_now', 'now must be a valid Date');
  }
}

function checkSchedule(scheduleMs: readonly number[]): void {
  const valid =
    Array.isArray(scheduleMs) &&
    scheduleMs.length > 0 &&
    scheduleMs.every((delayMs) => Number.isFinite(delayMs) && delayMs >= 0);
  if (!valid) {
    throw new RetryPolicyError(
      'invalid_schedule',
      'the retry schedule must be a non-empty list of non-negative milliseconds',
    );
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = MONTHS.join('|');
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
const IMF_FIXDATE = new RegExp(
  `^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d{2}) (${MONTH}) (\\d{4}) ${TIME} GMT$`,
);
const WEEKDAY = 'Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday';
const RFC850_DATE = new RegExp(`^(?:${WEEKDAY}), (\\d{2})-(${MONTH})-(\\d{2}) ${TIME} GMT$`);
const ASCTIME_DATE = new RegExp(
  `^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (${MONTH}) ( \\d|\\d{2}) ${TIME} (\\d{4})$`,
);

/**
 * Milliseconds from `now` that a Retry-After value asks for, or undefined when it is neither
 * delay-seconds nor an HTTP-date (RFC 9110 §10.2.3). A date in the past asks for 0.
 */
export function parseRetryAfterMs(value: string, now: Date): number | undefined {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const dateMs = parseHttpDateMs(text, now);
  if (dateMs === undefined) return undefined;
  return Math.max(0, dateMs - now.getTime());
}

// RFC 9110 §5.6.7: recipients accept IMF-fixdate and the obsolete RFC 850 and asctime forms.
function parseHttpDateMs(text: string, now: Date): number | undefined {
  const imf = IMF_FIXDATE.exec(text);
  if (imf) {
    const [, day, month, year, ...time] = imf;
    return utcMs([year, month, day, ...time]);
  }
  const rfc850 = RFC850_DATE.exec(text);
  if (rfc850) {
    const [, day, month, twoDigitYear, ...time] = rfc850;
    return utcMs([rfc850Year(twoDigitYear, now), month, day, ...time]);
  }
  const asctime = ASCTIME_DATE.exec(text);
  if (asctime) {
    const [, month, day, hour, minute, second, year] = asctime;
    return utcMs([year, month, day, hour, minute, second]);
  }
  return undefined;
}

// A two-digit year more than 50 years ahead means the most recent past year with those digits.
function rfc850Year(twoDigits: string | undefined, now: Date): string {
  const currentYear = now.getUTCFullYear();
  const year = currentYear - (currentYear % 100) + Number(twoDigits);
  return String(year > currentYear + 50 ? year - 100 : year);
}

// Fields: year, month name, day, hour, minute, second. Rejects dates such as 31 Feb.
function utcMs(fields: Array<string | undefined>): number | undefined {
  const [yearText, monthName, ...rest] = fields;
  const month = MONTHS.indexOf(monthName ?? '');
  const [year, day, hour, minute, second] = [yearText, ...rest].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Date.UTC(year, month, day, hour, minute, second);
  if (Number.isNaN(ms)) return undefined;
  const date = new Date(ms);
  const parsed = [year, month, day, hour, minute, second].join();
  const roundTrip = [
    date.getUTCFullYear(),
    date.getUTCMonth(),
    date.getUTCDate(),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
  ].join();
  return parsed === roundTrip ? ms : undefined;
}
