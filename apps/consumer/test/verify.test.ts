import { describe, expect, it } from 'vitest';
import { HttpError } from '../src/errors.ts';
import {
  checkMessageId,
  checkTimestamp,
  pickSignatureHeaders,
  readRawBody,
  WebhookVerifier,
} from '../src/verify.ts';
import { newSecret, signatureHeaders } from './support.ts';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof HttpError) return error.code;
    throw error;
  }
  return undefined;
}

/** A request whose body arrives in `chunks` pieces of `chunkBytes`, counting how many were pulled. */
function streamingRequest(chunks: number, chunkBytes: number) {
  const stats = { pulled: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      stats.pulled += 1;
      if (stats.pulled > chunks) controller.close();
      else controller.enqueue(new Uint8Array(chunkBytes).fill(97));
    },
    cancel() {
      stats.cancelled = true;
    },
  });
  const request = new Request('http://consumer.test/webhooks', {
    method: 'POST',
    body,
    duplex: 'half',
  } as RequestInit);
  return { request, stats };
}

describe('readRawBody', () => {
  it('returns the exact bytes sent', async () => {
    const bytes = new Uint8Array([0xf0, 0x9f, 0x98, 0x8a, 0x20, 0x7b, 0x7d]);
    const request = new Request('http://consumer.test/webhooks', { method: 'POST', body: bytes });

    expect(Buffer.from(await readRawBody(request, 1024))).toEqual(Buffer.from(bytes));
  });

  it('reads a streamed body up to the limit', async () => {
    const { request } = streamingRequest(4, 256);

    expect((await readRawBody(request, 1024)).byteLength).toBe(1024);
  });

  it('stops reading as soon as the limit is passed, and cancels the stream', async () => {
    const { request, stats } = streamingRequest(1000, 1024);

    await expect(readRawBody(request, 4096)).rejects.toMatchObject({
      status: 413,
      code: 'payload_too_large',
    });
    expect(stats.pulled).toBeLessThan(10);
    expect(stats.cancelled).toBe(true);
  });

  it('refuses a declared Content-Length over the limit without reading', async () => {
    const { request } = streamingRequest(1000, 1024);
    const declared = new Request(request, { headers: { 'content-length': '5000' } });

    await expect(readRawBody(declared, 4096)).rejects.toMatchObject({ status: 413 });
    expect(declared.bodyUsed).toBe(false);
  });

  it('gives an empty array for a request without a body', async () => {
    const request = new Request('http://consumer.test/webhooks', { method: 'POST' });

    expect((await readRawBody(request, 10)).byteLength).toBe(0);
  });
});

describe('pickSignatureHeaders', () => {
  const set = { id: 'msg_1', timestamp: '1735689600', signature: 'v1,abc=' };
  const unbranded = {
    'webhook-id': set.id,
    'webhook-timestamp': set.timestamp,
    'webhook-signature': set.signature,
  };
  const branded = {
    'svix-id': set.id,
    'svix-timestamp': set.timestamp,
    'svix-signature': set.signature,
  };

  it('reads webhook-* headers in any letter case', () => {
    const headers = new Headers({
      'Webhook-Id': set.id,
      'WEBHOOK-TIMESTAMP': set.timestamp,
      'webhook-signature': set.signature,
    });

    expect(pickSignatureHeaders(headers)).toEqual(unbranded);
  });

  it('reads the svix-* set under the unbranded names', () => {
    expect(pickSignatureHeaders(new Headers(branded))).toEqual(unbranded);
  });

  it('accepts both sets when they agree', () => {
    expect(pickSignatureHeaders(new Headers({ ...unbranded, ...branded }))).toEqual(unbranded);
  });

  it('refuses a complete set beside a stray header of the other set that disagrees', () => {
    const headers = new Headers({ ...unbranded, 'svix-timestamp': '1735689601' });

    expect(codeOf(() => pickSignatureHeaders(headers))).toBe('ambiguous_headers');
  });

  it('refuses when no set is complete', () => {
    expect(codeOf(() => pickSignatureHeaders(new Headers({})))).toBe('missing_headers');
    const partial = new Headers({ 'webhook-id': set.id, 'webhook-signature': set.signature });
    expect(codeOf(() => pickSignatureHeaders(partial))).toBe('missing_headers');
    const empty = new Headers({ ...unbranded, 'webhook-signature': '' });
    expect(codeOf(() => pickSignatureHeaders(empty))).toBe('missing_headers');
  });
});

describe('checkMessageId', () => {
  it('accepts the relay ids and any 1 to 256 printable ASCII characters', () => {
    for (const id of ['msg_2b1c0d9e8f7a6b5c4d3e2f1a0b9c', 'a', '~'.repeat(256), 'evt!#$%&()*+']) {
      expect(codeOf(() => checkMessageId(id))).toBeUndefined();
    }
  });

  it('refuses empty, overlong, spaced, control or non-ASCII ids', () => {
    for (const id of ['', 'a'.repeat(257), 'a'.repeat(10_000), 'msg 1', 'msg\u0000', 'msg_é']) {
      expect(codeOf(() => checkMessageId(id))).toBe('invalid_message_id');
    }
  });
});

describe('checkTimestamp', () => {
  const now = 1_735_689_600_000;

  it('accepts whole seconds up to the tolerance on either side', () => {
    expect(codeOf(() => checkTimestamp('1735689600', 300, now))).toBeUndefined();
    expect(codeOf(() => checkTimestamp('1735689300', 300, now))).toBeUndefined();
    expect(codeOf(() => checkTimestamp('1735689900', 300, now))).toBeUndefined();
  });

  it('refuses one second past the tolerance', () => {
    expect(codeOf(() => checkTimestamp('1735689299', 300, now))).toBe('timestamp_too_old');
    expect(codeOf(() => checkTimestamp('1735689901', 300, now))).toBe('timestamp_too_new');
  });

  it('refuses more than 13 digits as invalid, and 13 as milliseconds too new', () => {
    for (const timestamp of ['17356896000000', '999999999999999999999999', '9'.repeat(400)]) {
      expect(codeOf(() => checkTimestamp(timestamp, 300, now))).toBe('invalid_timestamp');
    }
    expect(codeOf(() => checkTimestamp('1735689600000', 300, now))).toBe('timestamp_too_new');
  });

  it('refuses anything but a plain non-negative integer', () => {
    for (const timestamp of [
      '1735689600.5',
      '-1735689600',
      '01735689600',
      '1.7e9',
      'now',
      ' 1735689600',
    ]) {
      expect(codeOf(() => checkTimestamp(timestamp, 300, now))).toBe('invalid_timestamp');
    }
  });
});

describe('WebhookVerifier', () => {
  const secret = newSecret();
  const body = new TextEncoder().encode('{"type": "organization.domain_created"}');

  it('returns the message id of a request svix signed', () => {
    const headers = signatureHeaders(body, { secrets: [secret], messageId: 'msg_abc' });
    const verifier = new WebhookVerifier([secret], { toleranceSeconds: 300 });

    expect(verifier.verify(body, new Headers(headers))).toBe('msg_abc');
  });

  it('tries every configured secret', () => {
    const old = newSecret();
    const headers = new Headers(signatureHeaders(body, { secrets: [old] }));

    expect(
      codeOf(() => new WebhookVerifier([secret], { toleranceSeconds: 300 }).verify(body, headers)),
    ).toBe('invalid_signature');
    expect(
      codeOf(() =>
        new WebhookVerifier([secret, old], { toleranceSeconds: 300 }).verify(body, headers),
      ),
    ).toBeUndefined();
  });

  it('refuses a signature over another message id or timestamp', () => {
    const verifier = new WebhookVerifier([secret], { toleranceSeconds: 300 });
    const signed = signatureHeaders(body, { secrets: [secret], messageId: 'msg_a' });
    const seconds = Number(signed['webhook-timestamp']);

    const otherId = new Headers({ ...signed, 'webhook-id': 'msg_b' });
    const otherTime = new Headers({ ...signed, 'webhook-timestamp': String(seconds - 1) });
    expect(codeOf(() => verifier.verify(body, otherId))).toBe('invalid_signature');
    expect(codeOf(() => verifier.verify(body, otherTime))).toBe('invalid_signature');
  });
});
