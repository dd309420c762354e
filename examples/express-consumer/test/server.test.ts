import type { AddressInfo, Server } from 'node:net';
import { domainDeleted, domainDnsVerificationSuccess } from '@verihook/events/examples';
import { Webhook } from 'svix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExampleApp, listen } from '../src/server.js';

const secret = 'whsec_dG9vbGtpdC10ZXN0LWtleS1BLTAxMjM0NTY3ODlhYmM=';
const signer = new Webhook(secret);
let server: Server;
let base: string;

beforeAll(async () => {
  server = await listen(createExampleApp({ secret, maxBodyBytes: 4096 }), 0);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function signedPost(msgId: string, body: string, tamper?: (body: string) => string) {
  const signature = signer.sign(msgId, new Date(), body);
  const timestamp = String(Math.floor(Date.now() / 1000));
  return fetch(`${base}/webhooks`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': msgId,
      'webhook-timestamp': timestamp,
      'webhook-signature': signature,
    },
    body: tamper ? tamper(body) : body,
  });
}

async function verified() {
  const response = await fetch(`${base}/domains`);
  return ((await response.json()) as { verified: Record<string, string> }).verified;
}

describe('the Express example', () => {
  it('verifies the exact bytes, with the sender spacing kept, and routes the domain', async () => {
    const body = JSON.stringify(domainDnsVerificationSuccess, null, 2);

    const response = await signedPost('msg_express_1', body);

    expect(response.status).toBe(204);
    expect(await verified()).toEqual({
      'acmecorp.com': domainDnsVerificationSuccess.organization_id,
    });
  });

  it('answers a duplicate message id without acting twice', async () => {
    const body = JSON.stringify(domainDnsVerificationSuccess);

    const response = await signedPost('msg_express_1', body);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ duplicate: true });
  });

  it('rejects a body changed by one byte with 401', async () => {
    const body = JSON.stringify(domainDeleted);

    const response = await signedPost('msg_express_2', body, (text) =>
      text.replace('acmecorp', 'acmecorq'),
    );

    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: 'No matching signature found' });
    expect(await verified()).toEqual({
      'acmecorp.com': domainDnsVerificationSuccess.organization_id,
    });
  });

  it('answers 413 over the size limit and 400 for a signed non-event', async () => {
    const large = await signedPost('msg_express_3', JSON.stringify({ pad: 'a'.repeat(5000) }));
    const notAnEvent = await signedPost('msg_express_4', '{"type":"user.created"}');

    expect(large.status).toBe(413);
    expect(notAnEvent.status).toBe(400);
  });

  it('applies a deleted event', async () => {
    const response = await signedPost('msg_express_5', JSON.stringify(domainDeleted));

    expect(response.status).toBe(204);
    expect(await verified()).toEqual({});
  });
});
