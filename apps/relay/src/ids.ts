// Prefixed, time-ordered identifiers: `dom_01JH6Z8K9W...`, 26 Crockford base32 characters after
// the prefix (48 bits of milliseconds, then 80 random bits), like a ULID.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;

/** At most five characters, so that an id stays within 32. */
export type IdPrefix = 'env' | 'org' | 'dom' | 'evt' | 'cli' | 'req' | (string & {});

let lastTime = -1;
let lastRandom: number[] = [];

function encodeTime(ms: number): string {
  let text = '';
  let rest = ms;
  for (let i = 0; i < TIME_CHARS; i++) {
    text = ALPHABET[rest % 32] + text;
    rest = Math.floor(rest / 32);
  }
  return text;
}

function freshRandom(): number[] {
  return [...randomBytes(RANDOM_CHARS)].map((byte) => byte % 32);
}

// Within one millisecond the random part counts up, so ids from this process stay ordered.
function nextRandom(now: number): number[] {
  if (now !== lastTime) return freshRandom();
  const next = [...lastRandom];
  for (let i = next.length - 1; i >= 0; i--) {
    if ((next[i] as number) < 31) {
      next[i] = (next[i] as number) + 1;
      return next;
    }
    next[i] = 0;
  }
  return freshRandom();
}

/** A new id such as `org_01JH6Z8K9WQ3V4T5R6S7A8B9CD`: the prefix, `_`, 26 time-ordered characters. */
export function newId(prefix: IdPrefix): string {
  if (!/^[a-z]{1,5}$/.test(prefix)) throw new Error(`id prefix "${prefix}" is not 1 to 5 letters`);
  const now = Math.max(Date.now(), lastTime);
  lastRandom = nextRandom(now);
  lastTime = now;
  return `${prefix}_${encodeTime(now)}${lastRandom.map((digit) => ALPHABET[digit]).join('')}`;
}
