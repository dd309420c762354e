import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  generateSecret,
  parseSecret,
  SigningError,
  sign,
  signedHeaders,
  USER_AGENT,
} from '../../src/delivery/signing.ts';

// Producer-side vectors from the field cases WH-SIG-04, WH-SIG-10, WH-SEC-12/13 and WH-MULTI-15.
const MSG_ID = 'msg_2Lh8xYbZ0QeTqW3vN5aR7cK9pD1';
const TIMESTAMP = 1735689600;
const SECRET_A = 'whsec_dG9vbGtpdC10ZXN0LWtleS1BLTAxMjM0NTY3ODlhYmM=';
const SECRET_B = 'whsec_dG9vbGtpdC10ZXN0LWtleS1CLTAxMjM0NTY3ODlhYmM=';

function randomGenerator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CODE_POINT_RANGES: Array<[number, number]> = [
  [0x20, 0x7e],
  [0xa0, 0x2ff],
  [0x4e00, 0x9fff],
  [0x1f300, 0x1faff],
  [0x10000, 0x10ffff],
];

function randomBody(random: () => number): string {
  const length = Math.floor(random() * 300);
  let text = '{"data":"';
  for (let i = 0; i < length; i += 1) {
    const [low, high] = CODE_POINT_RANGES[Math.floor(random() * CODE_POINT_RANGES.length)] ?? [
      0x20, 0x7e,
    ];
    const codePoint = low + Math.floor(random() * (high - low + 1));
    text += codePoint === 0x22 || codePoint === 0x5c ? '_' : String.fromCodePoint(codePoint);
  }
  return `${text}"}`;
}

function svixVerifies(secret: string, body: string | Buffer, headers: Record<string, string>) {
  try {
    new SvixWebhook(secret).verify(body, headers);
    return true;
  } catch {
    return false;
  }
}

function standardVerifies(secret: string, body: string | Buffer, headers: Record<string, string>) {
  try {
    new StandardWebhook(secret).verify(body, headers);
    return true;
  } catch {
    return false;
  }
}

function atCaseTime() {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(TIMESTAMP * 1000);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('generateSecret', () => {
  it('returns whsec_ and the base64 of 32 random bytes', () => {
    const secret = generateSecret();

    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(parseSecret(secret).length).toBe(32);
  });

  it('returns a different secret every time', () => {
    const secrets = new Set(Array.from({ length: 100 }, generateSecret));

    expect(secrets.size).toBe(100);
  });

  it('gives secrets that svix accepts as keys', () => {
    const secret = generateSecret();
    const now = Math.floor(Date.now() / 1000);

    const headers = signedHeaders({
      msgId: MSG_ID,
      timestampSeconds: now,
      body: '{}',
      secrets: [secret],
    });

    expect(svixVerifies(secret, '{}', { ...headers })).toBe(true);
  });
});

describe('parseSecret', () => {
  it('base64-decodes the part after whsec_', () => {
    expect(parseSecret(SECRET_A).toString('utf8')).toBe('toolkit-test-key-A-0123456789abc');
  });

  it.each([
    ['a missing prefix', 'dG9vbGtpdC10ZXN0LWtleS1BLTAxMjM0NTY3ODlhYmM='],
    ['a pasted signature prefix (WH-SEC-12)', `v1,${SECRET_A}`],
    ['a trailing newline (WH-SEC-12)', `${SECRET_A}\n`],
    ['a leading space (WH-SEC-12)', ` ${SECRET_A}`],
    ['an empty key', 'whsec_'],
    ['characters outside base64', 'whsec_abc-def_'],
    ['missing padding', 'whsec_dG9vbGtpdC10ZXN0LWtleS1BLTAxMjM0NTY3ODlhYmM'],
  ])('rejects %s with invalid_secret', (_label, secret) => {
    const attempt = () => parseSecret(secret);

    expect(attempt).toThrow(SigningError);
    expect(attempt).toThrow(/^a signing secret must /);
    try {
      attempt();
    } catch (error) {
      expect((error as SigningError).code).toBe('invalid_secret');
      expect((error as SigningError).message).not.toContain('dG9vbGtpdC10');
    }
  });
});

describe('sign', () => {
  it('equals svix over 300 random bodies with multibyte UTF-8, as string and as Buffer', () => {
    const random = randomGenerator(20250101);

    for (let i = 0; i < 300; i += 1) {
      const secret = generateSecret();
      const body = randomBody(random);
      const timestampSeconds = TIMESTAMP + i;
      const svix = new SvixWebhook(secret).sign(MSG_ID, new Date(timestampSeconds * 1000), body);

      expect(sign({ msgId: MSG_ID, timestampSeconds, body, secrets: [secret] })).toBe(svix);
      expect(
        sign({
          msgId: MSG_ID,
          timestampSeconds,
          body: Buffer.from(body, 'utf8'),
          secrets: [secret],
        }),
      ).toBe(svix);
    }
  });

  it('equals svix for a lone surrogate, which both encode as U+FFFD', () => {
    const body = '{"broken":"\ud83d"}';

    const ours = sign({ msgId: MSG_ID, timestampSeconds: TIMESTAMP, body, secrets: [SECRET_A] });

    expect(ours).toBe(new SvixWebhook(SECRET_A).sign(MSG_ID, new Date(TIMESTAMP * 1000), body));
  });

  it('signs the emoji body of WH-SIG-04 exactly as the case says', () => {
    const body = Buffer.from('eyJ0ZXh0IjoiVGhhbmtzIPCfmIog4oCUIGNhZsOpIn0=', 'base64');

    const header = sign({ msgId: MSG_ID, timestampSeconds: TIMESTAMP, body, secrets: [SECRET_A] });

    expect(header).toBe('v1,9ovJWLpMg01SwWVrOwecaUwxZXhFZrFVInZoypHBmlY=');
  });

  it('signs an empty body over "<id>.<ts>." (WH-SIG-10)', () => {
    const header = sign({
      msgId: MSG_ID,
      timestampSeconds: TIMESTAMP,
      body: '',
      secrets: [SECRET_A],
    });

    expect(header).toBe('v1,W9OZb+ok9CLMkSLAMC3PSTDbLvArfSW36puopCUMGeg=');
  });

  it('signs the ping body of WH-SEC-12 with the correct secret', () => {
    const body = '{"type": "ping"}';

    const header = sign({ msgId: MSG_ID, timestampSeconds: TIMESTAMP, body, secrets: [SECRET_A] });

    expect(header).toBe('v1,cYM/h94vc0Q217uyRcNz90QInBF3pqibt6n+DpYt8Og=');
  });

  it('keys the HMAC with base64-decode(after whsec_), not the string bytes (WH-SEC-13)', () => {
    const secret = 'whsec_PolarStyleRawSecret12345';
    const body = '{"type": "order.paid", "data": {"id": "ord_9"}}';

    const header = sign({ msgId: MSG_ID, timestampSeconds: TIMESTAMP, body, secrets: [secret] });

    expect(parseSecret(secret).length).toBe(18);
    expect(header).toBe('v1,8SMQJTI3w8wHi1HhwcHHKy9tSwkDOcy82tDAwPe1pYo=');
    expect(header).not.toBe('v1,DRIe+sEx5qqKcPXFQs1RurQ+yu9+xbA4cA9FzzjdLO8=');
    atCaseTime();
    const headers = { 'webhook-id': MSG_ID, 'webhook-timestamp': String(TIMESTAMP) };
    expect(svixVerifies(secret, body, { ...headers, 'webhook-signature': header })).toBe(true);
  });

  it('puts one signature per secret, newest first, one space apart (WH-MULTI-15)', () => {
    const body = '{"type": "invoice.created"}';

    const header = sign({
      msgId: MSG_ID,
      timestampSeconds: TIMESTAMP,
      body,
      secrets: [SECRET_B, SECRET_A],
    });

    expect(header).toBe(
      'v1,3A2iw0eEwOcO7aGJKT84Rbb0moiHUl33Gu36JibKIw0= v1,aWnAmCsf3Z7n8R0PWWPTGfk/nHkfF3C9nNAWCYkzrvA=',
    );
  });

  it('rejects a missing secret list, a bad timestamp and an empty message id', () => {
    const base = { msgId: MSG_ID, timestampSeconds: TIMESTAMP, body: '{}', secrets: [SECRET_A] };

    expect(() => sign({ ...base, secrets: [] })).toThrow(
      expect.objectContaining({ code: 'no_secrets' }),
    );
    expect(() => sign({ ...base, timestampSeconds: 1735689600.5 })).toThrow(
      expect.objectContaining({ code: 'invalid_timestamp' }),
    );
    expect(() => sign({ ...base, msgId: '' })).toThrow(
      expect.objectContaining({ code: 'invalid_message_id' }),
    );
    expect(() => sign({ ...base, secrets: [SECRET_A, 'whsec_not base64'] })).toThrow(
      expect.objectContaining({ code: 'invalid_secret' }),
    );
  });
});

describe('signedHeaders', () => {
  it('returns the five delivery headers', () => {
    const headers = signedHeaders({
      msgId: MSG_ID,
      timestampSeconds: TIMESTAMP,
      body: '{"type": "ping"}',
      secrets: [SECRET_A],
    });

    expect(headers).toEqual({
      'webhook-id': MSG_ID,
      'webhook-timestamp': '1735689600',
      'webhook-signature': 'v1,cYM/h94vc0Q217uyRcNz90QInBF3pqibt6n+DpYt8Og=',
      'content-type': 'application/json',
      'user-agent': 'Verihook-Webhooks/0.1.0',
    });
    expect(USER_AGENT).toBe('Verihook-Webhooks/0.1.0');
  });

  it('is verified by svix and by standardwebhooks, as string and as bytes', () => {
    const random = randomGenerator(7);
    const now = Math.floor(Date.now() / 1000);

    for (let i = 0; i < 50; i += 1) {
      const secret = generateSecret();
      const body = randomBody(random);
      const headers = {
        ...signedHeaders({ msgId: `msg_${i}`, timestampSeconds: now, body, secrets: [secret] }),
      };

      expect(svixVerifies(secret, body, headers)).toBe(true);
      expect(standardVerifies(secret, body, headers)).toBe(true);
      expect(svixVerifies(secret, Buffer.from(body, 'utf8'), headers)).toBe(true);
      expect(svixVerifies(secret, `${body} `, headers)).toBe(false);
    }
  });

  it('during a rotation verifies with either secret, and not with a third', () => {
    const body = '{"type": "invoice.created"}';
    const newer = generateSecret();
    const older = generateSecret();
    const now = Math.floor(Date.now() / 1000);

    const headers = {
      ...signedHeaders({ msgId: MSG_ID, timestampSeconds: now, body, secrets: [newer, older] }),
    };

    expect(svixVerifies(newer, body, headers)).toBe(true);
    expect(svixVerifies(older, body, headers)).toBe(true);
    expect(standardVerifies(newer, body, headers)).toBe(true);
    expect(standardVerifies(older, body, headers)).toBe(true);
    expect(svixVerifies(generateSecret(), body, headers)).toBe(false);
    expect(headers['webhook-signature'].split(' ')).toEqual([
      sign({ msgId: MSG_ID, timestampSeconds: now, body, secrets: [newer] }),
      sign({ msgId: MSG_ID, timestampSeconds: now, body, secrets: [older] }),
    ]);
  });

  it('passes the WH-MULTI-15 rotation header with secret A and with B at case time', () => {
    const body = '{"type": "invoice.created"}';
    const headers = {
      ...signedHeaders({
        msgId: MSG_ID,
        timestampSeconds: TIMESTAMP,
        body,
        secrets: [SECRET_B, SECRET_A],
      }),
    };

    atCaseTime();

    expect(svixVerifies(SECRET_A, body, headers)).toBe(true);
    expect(svixVerifies(SECRET_B, body, headers)).toBe(true);
    expect(standardVerifies(SECRET_A, body, headers)).toBe(true);
    expect(standardVerifies(SECRET_B, body, headers)).toBe(true);
  });
});
