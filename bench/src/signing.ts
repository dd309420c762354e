// Standard Webhooks signatures computed with node:crypto, and a check that they equal svix's.
import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'svix';

const SECRET_PREFIX = 'whsec_';

export interface SignedHeaders {
  'content-type': 'application/json';
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** A Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes. */
export function generateSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/** The HMAC key a secret stands for (Standard Webhooks: base64 after the `whsec_` prefix). */
export function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(encoded, 'base64');
}

/** Headers for one attempt: the signature is HMAC-SHA256 over `id.timestamp.body`, base64. */
export function signHeaders(
  key: Buffer,
  messageId: string,
  body: string,
  timestampSeconds = Math.floor(Date.now() / 1000),
): SignedHeaders {
  const timestamp = String(timestampSeconds);
  const signature = createHmac('sha256', key)
    .update(`${messageId}.${timestamp}.${body}`)
    .digest('base64');
  return {
    'content-type': 'application/json',
    'webhook-id': messageId,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${signature}`,
  };
}

/** Throws unless svix signs one sample byte-identically and verifies our headers for it. */
export function assertSignsLikeSvix(secret: string, messageId: string, body: string): void {
  const timestampSeconds = Math.floor(Date.now() / 1000);
  const ours = signHeaders(secretKey(secret), messageId, body, timestampSeconds);
  const webhook = new Webhook(secret);
  const theirs = webhook.sign(messageId, new Date(timestampSeconds * 1000), body);
  if (theirs !== ours['webhook-signature']) {
    throw new Error('node:crypto signature differs from svix.sign for the same message');
  }
  webhook.verify(body, { ...ours });
}
