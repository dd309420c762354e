import { type Receiver, startReceiver } from '@verihook/testing';
import { Agent, request } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { generateSecret, signedHeaders } from '../../src/delivery/signing.ts';

const OLD = generateSecret();
const NEW = generateSecret();
const BODY = '{"type":"organization.domain_deleted","data":{"domain":"例え.example"}}';
const dispatcher = new Agent();
let receiver: Receiver | undefined;

afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

afterAll(async () => {
  await dispatcher.close();
});

async function post(url: string, secrets: string[], body = BODY) {
  const timestampSeconds = Math.floor(Date.now() / 1000);
  const headers = signedHeaders({ msgId: 'msg_receiver', timestampSeconds, body, secrets });
  const response = await request(url, {
    method: 'POST',
    headers,
    body,
    dispatcher,
  });
  return { status: response.statusCode, body: await response.body.text() };
}

describe('startReceiver', () => {
  it('records and verifies a request signed with its secret', async () => {
    receiver = await startReceiver({ secrets: [NEW] });

    const response = await post(receiver.url, [NEW]);

    expect(response).toEqual({ status: 204, body: '' });
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]).toMatchObject({
      method: 'POST',
      path: '/webhooks',
      body: BODY,
      verifiedSvix: true,
      verifiedStandard: true,
      verifiedSecrets: [NEW],
    });
    expect(receiver.requests[0]?.receivedAt).toBeInstanceOf(Date);
  });

  it('marks a request signed with another secret as unverified', async () => {
    receiver = await startReceiver({ secrets: [NEW] });

    await post(receiver.url, [OLD]);

    expect(receiver.requests[0]).toMatchObject({
      verifiedSvix: false,
      verifiedStandard: false,
      verifiedSecrets: [],
    });
  });

  it('tells which of its secrets verified a rotation request, and follows setSecrets', async () => {
    receiver = await startReceiver({ secrets: [OLD, NEW] });

    await post(receiver.url, [NEW, OLD]);
    await post(receiver.url, [NEW]);
    receiver.setSecrets([OLD]);
    await post(receiver.url, [NEW]);

    expect(receiver.requests.map((r) => r.verifiedSecrets)).toEqual([[OLD, NEW], [NEW], []]);
  });

  it('answers with respond, counting requests from 1', async () => {
    receiver = await startReceiver({
      secrets: [NEW],
      respond: (req, n) => ({
        status: n < 3 ? 503 : 200,
        headers: { 'x-attempt': String(n) },
        body: `${n}:${req.headers['webhook-id']}`,
      }),
    });

    const responses = [];
    for (let i = 0; i < 3; i += 1) responses.push(await post(receiver.url, [NEW]));

    expect(responses).toEqual([
      { status: 503, body: '1:msg_receiver' },
      { status: 503, body: '2:msg_receiver' },
      { status: 200, body: '3:msg_receiver' },
    ]);
  });

  it('waits for requests, and says how many came when they do not', async () => {
    const started = await startReceiver({ secrets: [NEW] });
    receiver = started;

    const waiting = started.waitFor(2, 2000);
    await post(started.url, [NEW]);
    await post(started.url, [NEW]);

    expect((await waiting).length).toBe(2);
    await expect(started.waitFor(3, 100)).rejects.toThrow(
      'the receiver got 2 of 3 requests in 100 ms',
    );
  });

  it('closes while a delayed answer is still pending', async () => {
    const started = await startReceiver({
      secrets: [NEW],
      respond: () => ({ status: 200, delayMs: 10_000 }),
    });
    const pending = post(started.url, [NEW]).catch((error: Error) => error);
    await started.waitFor(1);

    const closedAt = Date.now();
    await started.close();

    expect(Date.now() - closedAt).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(Error);
  });
});
