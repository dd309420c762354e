// Reads a webhook's raw body and checks its Standard Webhooks signature with svix.
import { Webhook, WebhookVerificationError } from 'svix';
import { HttpError } from './errors.ts';

/** Why a request was refused before its body was trusted; each becomes a 401. */
export type RejectionCode =
  | 'missing_headers'
  | 'invalid_message_id'
  | 'ambiguous_headers'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'invalid_signature';

/** The three signature headers, under their unbranded names, as svix reads them. */
export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

const FIELDS = ['id', 'timestamp', 'signature'] as const;
// The relay's ids are `msg_` and 28 hex digits; any other sender gets 1 to 256 printable ASCII.
const MESSAGE_ID = /^[\x21-\x7e]{1,256}$/;
// Unix seconds have 10 digits until the year 2286; 13 is milliseconds, which earns its own hint.
const MAX_TIMESTAMP_DIGITS = 13;

function reject(code: RejectionCode, message: string): HttpError {
  return new HttpError(401, code, message);
}

/**
 * Reads the body once, as bytes, and stops with a 413 as soon as it passes `maxBodyBytes`, so an
 * oversized request is never buffered whole. The bytes are what was signed: never re-serialize.
 */
export async function readRawBody(request: Request, maxBodyBytes: number): Promise<Uint8Array> {
  const tooLarge = () =>
    new HttpError(413, 'payload_too_large', `The body is larger than ${maxBodyBytes} bytes.`);
  if (Number(request.headers.get('content-length') ?? 0) > maxBodyBytes) throw tooLarge();
  if (!request.body) return new Uint8Array(0);

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBodyBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, received);
}

/**
 * Picks the signature headers from a request: the `webhook-*` set or the branded `svix-*` set,
 * whichever is complete. Where both are sent they must agree; svix alone would silently merge
 * them field by field, preferring `svix-*`.
 */
export function pickSignatureHeaders(headers: Headers): SignatureHeaders {
  // A fetch Headers object has no own properties: svix needs a plain object.
  const plain = Object.fromEntries(headers);
  const unbranded = FIELDS.map((field) => plain[`webhook-${field}`]);
  const branded = FIELDS.map((field) => plain[`svix-${field}`]);
  const complete = (set: (string | undefined)[]) => set.every((value) => value);

  if (!complete(unbranded) && !complete(branded)) {
    throw reject(
      'missing_headers',
      'Send webhook-id, webhook-timestamp and webhook-signature (or all three svix-* headers).',
    );
  }
  const chosen = complete(unbranded) ? unbranded : branded;
  const other = chosen === unbranded ? branded : unbranded;
  const conflict = FIELDS.find((_, index) => other[index] && other[index] !== chosen[index]);
  if (conflict) {
    throw reject(
      'ambiguous_headers',
      `webhook-${conflict} and svix-${conflict} disagree; send one set, or the same values in both.`,
    );
  }

  const [id, timestamp, signature] = chosen as [string, string, string];
  checkMessageId(id);
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature };
}

/**
 * Checks the message id is 1 to 256 printable ASCII characters (no space), before any HMAC is
 * computed: the id is stored once per message, so an unbounded one would be stored unbounded.
 */
export function checkMessageId(id: string) {
  if (!MESSAGE_ID.test(id)) {
    throw reject(
      'invalid_message_id',
      'webhook-id must be 1 to 256 printable ASCII characters without spaces, such as msg_2b1c….',
    );
  }
}

/**
 * Checks the timestamp is whole Unix seconds within `toleranceSeconds` of now, so a captured
 * request cannot be replayed later (Standard Webhooks, "Verifying webhook signatures").
 */
export function checkTimestamp(timestamp: string, toleranceSeconds: number, nowMs = Date.now()) {
  if (!/^(0|[1-9]\d*)$/.test(timestamp)) {
    throw reject('invalid_timestamp', 'webhook-timestamp must be whole Unix seconds.');
  }
  if (timestamp.length > MAX_TIMESTAMP_DIGITS) {
    throw reject(
      'invalid_timestamp',
      `webhook-timestamp has ${timestamp.length} digits: it must be whole Unix seconds (10 digits today).`,
    );
  }
  const seconds = Number(timestamp);
  const now = Math.floor(nowMs / 1000);
  if (now - seconds > toleranceSeconds) {
    throw reject(
      'timestamp_too_old',
      `The timestamp is ${now - seconds} s old (at most ${toleranceSeconds}).`,
    );
  }
  if (seconds - now > toleranceSeconds) {
    const hint =
      timestamp.length >= 13 ? ' It looks like milliseconds; the header counts seconds.' : '';
    throw reject('timestamp_too_new', `The timestamp is ${seconds - now} s ahead.${hint}`);
  }
}

const SVIX_REJECTIONS: Record<string, RejectionCode> = {
  'Missing required headers': 'missing_headers',
  'Invalid Signature Headers': 'invalid_timestamp',
  'Message timestamp too old': 'timestamp_too_old',
  'Message timestamp too new': 'timestamp_too_new',
};

/** Verifies requests against every active secret: one during normal operation, two in a rotation. */
export class WebhookVerifier {
  readonly #webhooks: Webhook[];
  readonly #toleranceSeconds: number;

  constructor(secrets: string[], options: { toleranceSeconds: number }) {
    this.#webhooks = secrets.map((secret) => new Webhook(secret));
    this.#toleranceSeconds = options.toleranceSeconds;
  }

  /** Returns the message id when any secret's signature matches; otherwise throws a 401 `HttpError`. */
  verify(body: Uint8Array, headers: Headers): string {
    if (!(body instanceof Uint8Array)) {
      throw new TypeError('verify() needs the raw body bytes, not a parsed or re-serialized body');
    }
    const picked = pickSignatureHeaders(headers);
    checkTimestamp(picked['webhook-timestamp'], this.#toleranceSeconds);

    const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    let failure: WebhookVerificationError | undefined;
    for (const webhook of this.#webhooks) {
      try {
        webhook.verify(bytes, { ...picked });
        return picked['webhook-id'];
      } catch (error) {
        if (!(error instanceof WebhookVerificationError)) throw error;
        failure = error;
      }
    }
    const code = SVIX_REJECTIONS[failure?.message ?? ''] ?? 'invalid_signature';
    throw reject(
      code,
      code === 'invalid_signature' ? 'No signature matches this body.' : `${failure?.message}.`,
    );
  }
}
