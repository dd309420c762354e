// Every WH-* case of the Verihook repository's field cases (packages/testing/cases), replayed
// with its exact secrets, headers and bytes at its fixed `now_unix`.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { domainCreatedDnsPending } from '@verihook/events/examples';
import { Webhook } from 'svix';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/app.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import type { Database } from '../src/db/index.ts';
import { openDatabase } from '../src/db/index.ts';
import { WebhookVerifier } from '../src/verify.ts';
import { testConfig } from './support.ts';

const here = dirname(fileURLToPath(import.meta.url));

function ancestors(start: string): string[] {
  const parent = dirname(start);
  return parent === start ? [start] : [start, ...ancestors(parent)];
}

// Inside the Verihook repository (or one of its worktrees) the file must be found; a copy of this
// starter elsewhere has no field cases, and the suite says it was skipped.
const insideRepository = ancestors(here).some((dir) =>
  existsSync(join(dir, 'packages/events/src/schemas.ts')),
);
const casesFile =
  process.env.VERIHOOK_CASES_FILE ??
  ancestors(here)
    .map((dir) => join(dir, 'packages/testing/cases/handed.json'))
    .find((file) => existsSync(file));
if (insideRepository && !casesFile) {
  throw new Error(
    `packages/testing/cases/handed.json was not found above ${here}; set VERIHOOK_CASES_FILE`,
  );
}

// biome-ignore lint/suspicious/noExplicitAny: the cases file is free-form JSON, read per case.
type Case = { id: string; input: any; expected: any };
type ResponseBody = { error?: { code: string; message: string } };
const cases: Case[] = casesFile ? JSON.parse(readFileSync(casesFile, 'utf8')) : [];
const webhookCases = cases.filter((entry) => entry.id.startsWith('WH-'));

function fieldCase(id: string): Case {
  const found = webhookCases.find((entry) => entry.id === id);
  if (!found) throw new Error(`${id} is not in ${casesFile}`);
  return found;
}

function caseBody(input: { body_base64: string; body_sha256: string }): Uint8Array {
  const bytes = Buffer.from(input.body_base64, 'base64');
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(input.body_sha256);
  return bytes;
}

const COVERED = [
  'WH-SIG-01',
  'WH-SIG-02',
  'WH-SIG-04',
  'WH-SIG-06',
  'WH-SIG-07',
  'WH-SIG-08',
  'WH-SIG-10',
  'WH-LIB-11',
  'WH-SEC-12',
  'WH-SEC-13',
  'WH-MULTI-15',
  'WH-TS-17',
  'WH-REPLAY-19',
  'WH-REPLAY-21',
  'WH-HDR-23',
  'WH-HDR-24',
  'WH-SIZE-26',
];

describe.skipIf(!casesFile)('field cases (WH-*)', () => {
  let database: Database;

  beforeAll(async () => {
    database = await openDatabase('memory://');
  });
  afterAll(async () => {
    await database?.close();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  // svix checks the timestamp against Date.now(), so the clock is set to the case's moment.
  function setClock(nowUnix: number) {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(nowUnix * 1000);
  }

  async function post(options: {
    secrets: string[];
    nowUnix: number;
    headers: Record<string, string> | Headers;
    body: Uint8Array | string;
    maxBodyBytes?: number;
  }) {
    setClock(options.nowUnix);
    const config = testConfig({ webhookSecrets: options.secrets });
    if (options.maxBodyBytes) config.maxBodyBytes = options.maxBodyBytes;
    const app = createApp({ db: database.db, config });
    const response = await app.request('/webhooks', {
      method: 'POST',
      headers: options.headers,
      body: options.body,
    });
    return { status: response.status, body: (await response.json()) as ResponseBody };
  }

  /** What a verified body that is not a Verihook event gets: past the signature, then a 400. */
  function notAVerihookEvent(type: string | undefined) {
    const seen = type === undefined ? 'none' : `'${type}'`;
    return {
      status: 400,
      body: { error: { code: 'unknown_event', message: `Not a Verihook event type: ${seen}.` } },
    };
  }

  function rejected(code: string) {
    return { status: 401, body: { error: { code, message: expect.any(String) } } };
  }

  function verifierAt(nowUnix: number, secrets: string[]) {
    setClock(nowUnix);
    return new WebhookVerifier(secrets, { toleranceSeconds: 300 });
  }

  function rejectionCode(verify: () => unknown): string | undefined {
    try {
      verify();
      return undefined;
    } catch (error) {
      return (error as { code?: string }).code;
    }
  }

  it('covers every WH-* case in the file, and only those', () => {
    expect(webhookCases.map((entry) => entry.id).sort()).toEqual([...COVERED].sort());
  });

  describe('WH-SIG-01 and WH-SIG-02: the signature covers the wire bytes, not a re-serialization', () => {
    for (const id of ['WH-SIG-01', 'WH-SIG-02']) {
      it(`${id}: raw body verifies, the re-serialized body does not`, async () => {
        const { input } = fieldCase(id);
        const raw = caseBody(input);
        const base = { secrets: [input.secret], nowUnix: input.now_unix, headers: input.headers };
        const type = JSON.parse(input.body).type;

        expect(await post({ ...base, body: raw })).toEqual(notAVerihookEvent(type));
        expect(await post({ ...base, body: input.reserialized_body })).toEqual(
          rejected('invalid_signature'),
        );
      });
    }
  });

  it('WH-SIG-04: multi-byte UTF-8 verifies as bytes; latin1 or ASCII decoding breaks it', async () => {
    const { input } = fieldCase('WH-SIG-04');
    const raw = caseBody(input);
    const base = { secrets: [input.secret], nowUnix: input.now_unix, headers: input.headers };

    expect(await post({ ...base, body: raw })).toEqual(notAVerihookEvent(undefined));
    expect(await post({ ...base, body: Buffer.from(raw).toString('utf8') })).toEqual(
      notAVerihookEvent(undefined),
    );
    const verifier = verifierAt(input.now_unix, [input.secret]);
    for (const encoding of ['latin1', 'ascii'] as const) {
      const misdecoded = new TextEncoder().encode(Buffer.from(raw).toString(encoding));
      expect(rejectionCode(() => verifier.verify(misdecoded, new Headers(input.headers)))).toBe(
        'invalid_signature',
      );
    }
  });

  it('WH-SIG-06: a parsed object is refused at once, the raw bytes verify', async () => {
    const { input } = fieldCase('WH-SIG-06');
    const raw = caseBody(input);
    const verifier = verifierAt(input.now_unix, [input.secret]);

    expect(() => verifier.verify(JSON.parse(input.body), new Headers(input.headers))).toThrow(
      new TypeError('verify() needs the raw body bytes, not a parsed or re-serialized body'),
    );
    expect(verifier.verify(raw, new Headers(input.headers))).toBe(input.headers['webhook-id']);
    expect(
      await post({
        secrets: [input.secret],
        nowUnix: input.now_unix,
        headers: input.headers,
        body: raw,
      }),
    ).toEqual(notAVerihookEvent('user.created'));
  });

  for (const id of ['WH-SIG-07', 'WH-SIG-08', 'WH-LIB-11']) {
    it(`${id}: the body is read once, verified, then parsed from the same bytes`, async () => {
      const { input } = fieldCase(id);
      const raw = caseBody(input);
      const type = JSON.parse(input.body).type;

      expect(
        await post({
          secrets: [input.secret],
          nowUnix: input.now_unix,
          headers: input.headers,
          body: raw,
        }),
      ).toEqual(notAVerihookEvent(type));
    });
  }

  it('WH-SIG-10: a signed empty body verifies and is acknowledged, not parsed', async () => {
    const { input } = fieldCase('WH-SIG-10');
    const verifier = verifierAt(input.now_unix, [input.secret]);

    expect(verifier.verify(new Uint8Array(0), new Headers(input.headers))).toBe(
      input.headers['webhook-id'],
    );
    expect(
      await post({
        secrets: [input.secret],
        nowUnix: input.now_unix,
        headers: input.headers,
        body: '',
      }),
    ).toEqual({ status: 200, body: { received: true, ignored: 'empty_body' } });
  });

  it('WH-SEC-12: a mangled secret is a configuration error, the correct one verifies', async () => {
    const { input } = fieldCase('WH-SEC-12');
    const secrets = input.configured_secrets;
    const problems = (secret: string) => {
      try {
        loadConfig({ WEBHOOK_SECRET: secret });
        return [];
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).issues;
      }
    };

    expect(problems(secrets.v1_prefixed)).toEqual([
      "WEBHOOK_SECRET: secret must start with whsec_ ('v1,' belongs to a signature, not to the secret)",
    ]);
    const aroundMessage =
      'WEBHOOK_SECRET: has white space around the secret (a trailing newline from a .env file?)';
    expect(problems(secrets.trailing_newline)).toEqual([aroundMessage]);
    expect(problems(secrets.leading_space)).toEqual([aroundMessage]);
    expect(problems(secrets.correct)).toEqual([]);
    expect(
      await post({
        secrets: loadConfig({ WEBHOOK_SECRET: secrets.correct }).webhookSecrets,
        nowUnix: input.now_unix,
        headers: input.headers,
        body: caseBody(input),
      }),
    ).toEqual(notAVerihookEvent('ping'));
  });

  it('WH-SEC-13: a raw-key producer mismatches; its secret is refused; the workaround verifies', async () => {
    const { input, expected } = fieldCase('WH-SEC-13');
    const raw = caseBody(input);
    const headers = new Headers(input.headers);
    const compliant = new Headers({
      ...input.headers,
      'webhook-signature': expected.compliant_signature_for_same_input,
    });
    const workaround = `whsec_${Buffer.from(input.secret, 'utf8').toString('base64')}`;

    expect(
      rejectionCode(() => verifierAt(input.now_unix, [input.secret]).verify(raw, headers)),
    ).toBe('invalid_signature');
    expect(verifierAt(input.now_unix, [input.secret]).verify(raw, compliant)).toBe(
      input.headers['webhook-id'],
    );
    expect(() => loadConfig({ WEBHOOK_SECRET: input.secret })).toThrow(
      'WEBHOOK_SECRET: secret decodes to 18 bytes; Verihook secrets are at least 24',
    );
    expect(
      await post({
        secrets: loadConfig({ WEBHOOK_SECRET: workaround }).webhookSecrets,
        nowUnix: input.now_unix,
        headers: input.headers,
        body: raw,
      }),
    ).toEqual(notAVerihookEvent('order.paid'));
  });

  it('WH-MULTI-15: any matching v1 entry verifies; unknown versions are ignored', async () => {
    const { input } = fieldCase('WH-MULTI-15');
    const raw = caseBody(input);
    const variants = input.webhook_signature_headers as Record<string, string>;
    const outcome = (secret: string, signature: string) => {
      const headers = new Headers({
        'webhook-id': input.id,
        'webhook-timestamp': String(input.timestamp),
        'webhook-signature': signature,
      });
      return rejectionCode(() => verifierAt(input.now_unix, [secret]).verify(raw, headers)) ?? 'OK';
    };

    const withA = Object.fromEntries(
      Object.entries(variants).map(([name, header]) => [name, outcome(input.secret_A, header)]),
    );
    const withB = Object.fromEntries(
      Object.entries(variants).map(([name, header]) => [name, outcome(input.secret_B, header)]),
    );
    expect(withA).toEqual({
      new_then_old: 'OK',
      bogus_then_valid: 'OK',
      unknown_version_then_valid: 'OK',
      double_space: 'OK',
    });
    expect(withB).toEqual({
      new_then_old: 'OK',
      bogus_then_valid: 'invalid_signature',
      unknown_version_then_valid: 'invalid_signature',
      double_space: 'OK',
    });
    expect(outcome(input.secret_A, input.signature_B)).toBe('invalid_signature');

    const rotation = loadConfig({ WEBHOOK_SECRET: `${input.secret_B} ${input.secret_A}` });
    const onlyOld = {
      'webhook-id': input.id,
      'webhook-timestamp': String(input.timestamp),
      'webhook-signature': input.signature_A,
    };
    expect(
      await post({
        secrets: rotation.webhookSecrets,
        nowUnix: input.now_unix,
        headers: onlyOld,
        body: raw,
      }),
    ).toEqual(notAVerihookEvent('invoice.created'));
  });

  it('WH-TS-17: millisecond timestamps are too new; fractional seconds are malformed', async () => {
    const { input } = fieldCase('WH-TS-17');
    const raw = caseBody(input);
    const send = (headers: Record<string, string>) =>
      post({ secrets: [input.secret], nowUnix: input.now_unix, headers, body: raw });

    const a = await send(input.a_ms_timestamp_signed_as_ms);
    expect(a).toEqual(rejected('timestamp_too_new'));
    expect(a.body.error?.message).toContain('It looks like milliseconds');
    expect(await send(input.b_seconds_signature_but_ms_header)).toEqual(
      rejected('timestamp_too_new'),
    );
    expect(await send(input.c_fractional_seconds_signed_as_sent)).toEqual({
      status: 401,
      body: {
        error: {
          code: 'invalid_timestamp',
          message: 'webhook-timestamp must be whole Unix seconds.',
        },
      },
    });
  });

  it('WH-REPLAY-19: a validly signed request from 2001 is too old', async () => {
    const { input } = fieldCase('WH-REPLAY-19');

    expect(
      await post({
        secrets: [input.secret],
        nowUnix: input.now_unix,
        headers: input.headers,
        body: caseBody(input),
      }),
    ).toEqual(rejected('timestamp_too_old'));
  });

  it('WH-REPLAY-21: replays inside the window verify; without the id header they are refused', async () => {
    const { input } = fieldCase('WH-REPLAY-21');
    const raw = caseBody(input);
    const results = [];
    for (const delivery of input.deliveries) {
      results.push(
        await post({
          secrets: [input.secret],
          nowUnix: delivery.at_unix,
          headers: delivery.headers,
          body: raw,
        }),
      );
    }

    expect(results).toEqual([
      notAVerihookEvent('order.created'),
      notAVerihookEvent('order.created'),
      rejected('missing_headers'),
    ]);
  });

  it('WH-REPLAY-21 with a Verihook event: the replay is a duplicate, the stripped one refused', async () => {
    const { input } = fieldCase('WH-REPLAY-21');
    const body = JSON.stringify({ ...domainCreatedDnsPending, id: 'evt_replay21' });
    const [first] = input.deliveries;
    const signature = new Webhook(input.secret).sign(
      first.headers['webhook-id'],
      new Date(Number(first.headers['webhook-timestamp']) * 1000),
      body,
    );
    const headers = { ...first.headers, 'webhook-signature': signature };
    const { 'webhook-id': _id, ...stripped } = headers;
    const send = (nowUnix: number, sent: Record<string, string>) =>
      post({ secrets: [input.secret], nowUnix, headers: sent, body });

    expect(await send(input.deliveries[0].at_unix, headers)).toEqual({
      status: 200,
      body: { received: true, duplicate: false },
    });
    expect(await send(input.deliveries[1].at_unix, headers)).toEqual({
      status: 200,
      body: { received: true, duplicate: true },
    });
    expect(await send(input.deliveries[2].at_unix, stripped)).toEqual(rejected('missing_headers'));
  });

  it('WH-HDR-23: a fetch Headers object is turned into a plain object before svix', async () => {
    const { input } = fieldCase('WH-HDR-23');
    const raw = caseBody(input);
    const headers = new Headers(input.header_values);

    setClock(input.now_unix);
    expect(() => new Webhook(input.secret).verify(Buffer.from(raw), headers as never)).toThrow(
      'Missing required headers',
    );
    expect(verifierAt(input.now_unix, [input.secret]).verify(raw, headers)).toBe(
      input.header_values['webhook-id'],
    );
    expect(
      await post({ secrets: [input.secret], nowUnix: input.now_unix, headers, body: raw }),
    ).toEqual(notAVerihookEvent('user.created'));
  });

  it('WH-HDR-24: either complete header set verifies; partial or conflicting sets are refused', async () => {
    const { input } = fieldCase('WH-HDR-24');
    const raw = caseBody(input);
    const send = (headers: Record<string, string>) =>
      post({ secrets: [input.secret], nowUnix: input.now_unix, headers, body: raw });
    const bothAgreeing = { ...input.webhook_only, ...input.svix_only };

    expect(await send(input.webhook_only)).toEqual(notAVerihookEvent('user.created'));
    expect(await send(input.svix_only)).toEqual(notAVerihookEvent('user.created'));
    expect(await send(bothAgreeing)).toEqual(notAVerihookEvent('user.created'));
    expect(await send(input.mixed_partial_sets)).toEqual(rejected('missing_headers'));
    expect(await send(input.both_sets_svix_id_differs)).toEqual({
      status: 401,
      body: {
        error: {
          code: 'ambiguous_headers',
          message: 'webhook-id and svix-id disagree; send one set, or the same values in both.',
        },
      },
    });
  });

  it('WH-SIZE-26: 150 KiB verifies under the 1 MiB default; a smaller limit answers 413', async () => {
    const { input } = fieldCase('WH-SIZE-26');
    const body = `{"type":"bulk.export","data":{"rows":"${'a'.repeat(153600)}"}}`;
    expect(Buffer.byteLength(body)).toBe(input.body_length_bytes);
    expect(createHash('sha256').update(body).digest('hex')).toBe(input.body_sha256);
    const base = { secrets: [input.secret], nowUnix: input.now_unix, headers: input.headers, body };

    expect(await post(base)).toEqual(notAVerihookEvent('bulk.export'));
    expect(await post({ ...base, maxBodyBytes: 100 * 1024 })).toEqual({
      status: 413,
      body: {
        error: { code: 'payload_too_large', message: 'The body is larger than 102400 bytes.' },
      },
    });
  });
});
