// Standard Webhooks signatures, computed with node:crypto and byte-identical to the svix library's.
import { createHmac, randomBytes } from 'node:crypto';
import packageJson from '../../package.json' with { type: 'json' };

export const SECRET_PREFIX = 'whsec_';
export const SECRET_BYTES = 32;
export const USER_AGENT = `Verihook-Webhooks/${packageJson.version}`;

const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export type SigningErrorCode =
  | 'invalid_secret'
  | 'no_secrets'
  | 'invalid_message_id'
  | 'invalid_timestamp';

/** A secret or signing input that cannot produce a valid signature. Never carries the secret. */
export class SigningError extends Error {
  readonly code: SigningErrorCode;

  constructor(code: SigningErrorCode, message: string) {
    super(message);
    this.name = 'SigningError';
    this.code = code;
  }
}

export interface SignInput {
  msgId: string;
  timestampSeconds: number;
  body: Buffer | string;
  /** Every active secret, newest first: the header lists the signatures in this order. */
  secrets: string[];
}

export type SignedHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
  'content-type': 'application/json';
  'user-agent': string;
};

/** A new signing secret: `whsec_` and the base64 of 32 random bytes. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/** The HMAC key of a secret: the base64-decoded part after `whsec_`, never its UTF-8 bytes. */
export function parseSecret(secret: string): Buffer {
  if (typeof secret !== 'string' || !secret.startsWith(SECRET_PREFIX)) {
    throw new SigningError('invalid_secret', `a signing secret must start with ${SECRET_PREFIX}`);
  }
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (encoded.length === 0 || !CANONICAL_BASE64.test(encoded)) {
    throw new SigningError(
      'invalid_secret',
      `a signing secret must be ${SECRET_PREFIX} followed by padded base64 (A-Z a-z 0-9 + / =)`,
    );
  }
  return Buffer.from(encoded, 'base64');
}

/** The `webhook-signature` value: one `v1,<base64>` per secret, space-separated, in input order. */
export function sign(input: SignInput): string {
  checkSignInput(input);
  const keys = input.secrets.map(parseSecret);
  const signedPrefix = `${input.msgId}.${input.timestampSeconds}.`;
  const body = typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : input.body;
  return keys
    .map((key) => {
      const digest = createHmac('sha256', key).update(signedPrefix).update(body).digest('base64');
      return `v1,${digest}`;
    })
    .join(' ');
}

/** Every header a delivery attempt carries, with the signature for this id, timestamp and body. */
export function signedHeaders(input: SignInput & { userAgent?: string }): SignedHeaders {
  return {
    'webhook-id': input.msgId,
    'webhook-timestamp': String(input.timestampSeconds),
    'webhook-signature': sign(input),
    'content-type': 'application/json',
    'user-agent': input.userAgent ?? USER_AGENT,
  };
}

function checkSignInput(input: SignInput): void {
  if (typeof input.msgId !== 'string' || input.msgId.length === 0) {
    throw new SigningError('invalid_message_id', 'the message id must be a non-empty string');
  }
  if (!Number.isSafeInteger(input.timestampSeconds) || input.timestampSeconds < 0) {
    throw new SigningError(
      'invalid_timestamp',
      'the timestamp must be a whole, non-negative number of Unix seconds',
    );
  }
  if (!Array.isArray(input.secrets) || input.secrets.length === 0) {
    throw new SigningError('no_secrets', 'at least one signing secret is needed');
  }
}
