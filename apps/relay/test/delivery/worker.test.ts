import { parseEvent } from '@verihook/events';
import { hasPostgres, type Receiver } from '@verihook/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptRow } from '../../src/db/schema/index.ts';
import {
  addDomain,
  attemptsOf,
  closedPortUrl,
  endpointRow,
  eventually,
  messagesOf,
  openTestRelay,
  registerEndpoint,
  type TestRelay,
} from './relay.ts';

const POLL_INTERVAL_MS = 10_000;

let relay: TestRelay;

beforeAll(async () => {
  relay = await openTestRelay('delivery_worker');
  await relay.startWorker({ pollIntervalMs: POLL_INTERVAL_MS });
});

afterAll(async () => {
  await relay?.close();
});

// Endpoints stay between tests; disabling the previous test's keeps them from getting events.
const registered: string[] = [];
afterEach(async () => {
  for (const id of registered.splice(0)) {
    await relay.api.post(`/api/v1/webhooks/endpoints/${id}/disable`);
  }
});

async function endpointFor(receiver: Receiver | string, body: Record<string, unknown> = {}) {
  const endpoint = await registerEndpoint(relay, receiver, body);
  registered.push(endpoint.id);
  return endpoint;
}

async function settledMessage(endpointId: string, status: string, timeoutMs = 5_000) {
  const [message] = await eventually(
    () => messagesOf(relay.database, endpointId),
    (rows) => rows.length === 1 && rows[0]?.status === status,
    timeoutMs,
  );
  if (!message) throw new Error('no message');
  return { message, attempts: await attemptsOf(relay.database, message.id) };
}

function startedAt(attempt: AttemptRow | undefined): number {
  if (!attempt) throw new Error('missing attempt');
  return attempt.createdAt.getTime();
}

/** Milliseconds from the end of one attempt to the start of the next. */
function gapMs(earlier: AttemptRow | undefined, later: AttemptRow | undefined): number {
  return startedAt(later) - (startedAt(earlier) + (earlier?.responseDurationMs ?? 0));
}

describe.runIf(hasPostgres())('the delivery worker', () => {
  it('delivers domain_created within milliseconds of the commit, verified by svix and standardwebhooks', async () => {
    const receiver = await relay.receiver();
    const endpoint = await endpointFor(receiver);

    const committedAt = Date.now();
    const { domainId } = await addDomain(relay);
    const [request] = await receiver.waitFor(1, 3_000);

    expect(request?.receivedAt.getTime()).toBeLessThan(committedAt + 1_000);
    expect(request?.verifiedSvix).toBe(true);
    expect(request?.verifiedStandard).toBe(true);
    expect(request?.verifiedSecrets).toEqual([endpoint.secret]);
    const event = parseEvent(JSON.parse(request?.body ?? ''));
    expect(event.type).toBe('organization.domain_created');
    expect(event.data.id).toBe(domainId);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['user-agent']).toBe('Verihook-Webhooks/0.1.0');
    expect(request?.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{28}$/);
    const { message, attempts } = await settledMessage(endpoint.id, 'succeeded');
    expect(message.id).toBe(request?.headers['webhook-id']);
    expect(message.attemptCount).toBe(1);
    expect(message.nextAttemptAt).toBeNull();
    expect(message.leaseExpiresAt).toBeNull();
    expect(attempts.map((a) => [a.attemptNumber, a.responseStatusCode, a.errorCode])).toEqual([
      [1, 204, null],
    ]);
  });

  it('logs one line per attempt with the message, endpoint, attempt N of M, status and duration', async () => {
    const receiver = await relay.receiver({ respond: () => ({ status: 202 }) });
    const endpoint = await endpointFor(receiver);

    await addDomain(relay);
    const { message } = await settledMessage(endpoint.id, 'succeeded');

    const lines = relay.logs().filter((line) => line.message_id === message.id);
    expect(lines).toEqual([
      {
        level: 'info',
        time: expect.any(String),
        name: 'verihook-relay',
        worker: 'delivery',
        message_id: message.id,
        endpoint_id: endpoint.id,
        attempt_number: 1,
        max_attempts: 3,
        status_code: 202,
        duration_ms: expect.any(Number),
        outcome: 'succeeded',
        msg: 'delivery attempt 1 of 3',
      },
    ]);
    expect(JSON.stringify(relay.logs())).not.toContain('whsec_');
  });

  it('retries a 500 after the scheduled 200 ms and clears the failing run on success', async () => {
    const receiver = await relay.receiver({
      respond: (_request, n) => (n === 1 ? { status: 500, body: 'boom' } : { status: 200 }),
    });
    const endpoint = await endpointFor(receiver);

    await addDomain(relay);
    const afterFirst = await eventually(
      () => endpointRow(relay.database, endpoint.id),
      (row) => row.failingSince !== null,
    );
    const { attempts } = await settledMessage(endpoint.id, 'succeeded');

    expect(afterFirst.failingSince).toBeInstanceOf(Date);
    expect(attempts.map((a) => [a.responseStatusCode, a.responseBody, a.errorCode])).toEqual([
      [500, 'boom', null],
      [200, '', null],
    ]);
    expect(gapMs(attempts[0], attempts[1])).toBeGreaterThanOrEqual(199);
    expect(gapMs(attempts[0], attempts[1])).toBeLessThan(450);
    expect((await endpointRow(relay.database, endpoint.id)).failingSince).toBeNull();
  });

  it('retries a 404 as an ordinary failure', async () => {
    const receiver = await relay.receiver({
      respond: (_request, n) => ({ status: n === 1 ? 404 : 204 }),
    });
    const endpoint = await endpointFor(receiver);

    await addDomain(relay);
    const { attempts } = await settledMessage(endpoint.id, 'succeeded');

    expect(attempts.map((a) => a.responseStatusCode)).toEqual([404, 204]);
    expect(gapMs(attempts[0], attempts[1])).toBeGreaterThanOrEqual(199);
  });

  it('times out a slow answer after VERIHOOK_REQUEST_TIMEOUT and retries', async () => {
    const receiver = await relay.receiver({
      respond: (_request, n) => (n === 1 ? { status: 200, delayMs: 3_000 } : { status: 200 }),
    });
    const endpoint = await endpointFor(receiver);

    await addDomain(relay);
    const { attempts } = await settledMessage(endpoint.id, 'succeeded', 6_000);

    expect(attempts.map((a) => [a.responseStatusCode, a.errorCode])).toEqual([
      [null, 'timeout'],
      [200, null],
    ]);
    expect(attempts[0]?.responseDurationMs).toBeGreaterThanOrEqual(1_990);
    expect(attempts[0]?.responseDurationMs).toBeLessThan(2_500);
    expect(gapMs(attempts[0], attempts[1])).toBeGreaterThanOrEqual(199);
  });

  it('retries a refused connection on 0, 200 ms, 400 ms, then marks the message failed', async () => {
    const endpoint = await endpointFor(await closedPortUrl());

    await addDomain(relay);
    const { message, attempts } = await settledMessage(endpoint.id, 'failed');

    expect(attempts.map((a) => [a.attemptNumber, a.responseStatusCode, a.errorCode])).toEqual([
      [1, null, 'connection_refused'],
      [2, null, 'connection_refused'],
      [3, null, 'connection_refused'],
    ]);
    expect(gapMs(attempts[0], attempts[1])).toBeGreaterThanOrEqual(199);
    expect(gapMs(attempts[1], attempts[2])).toBeGreaterThanOrEqual(399);
    expect(gapMs(attempts[1], attempts[2])).toBeLessThan(700);
    expect(message.attemptCount).toBe(3);
    expect(message.nextAttemptAt).toBeNull();
    expect(message.lastErrorCode).toBe('connection_refused');
  });

  it('treats a 3xx as a failure and never follows it to the address it names', async () => {
    const target = await relay.receiver();
    const receiver = await relay.receiver({
      respond: (_request, n) =>
        n === 1 ? { status: 302, headers: { location: target.url } } : { status: 204 },
    });
    const endpoint = await endpointFor(receiver);

    await addDomain(relay);
    const { attempts } = await settledMessage(endpoint.id, 'succeeded');

    expect(attempts.map((a) => a.responseStatusCode)).toEqual([302, 204]);
    expect(receiver.requests).toHaveLength(2);
    expect(target.requests).toHaveLength(0);
  });

  it('honours Retry-After in seconds on a 429', async () => {
    const receiver = await relay.receiver({
      respond: (_request, n) =>
        n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 204 },
    });
    const endpoint = await endpointFor(receiver);

    await addDomain(relay);
    const { attempts } = await settledMessage(endpoint.id, 'succeeded', 4_000);

    expect(attempts.map((a) => a.responseStatusCode)).toEqual([429, 204]);
    const startToStart = startedAt(attempts[1]) - startedAt(attempts[0]);
    expect(startToStart).toBeGreaterThanOrEqual(1_000);
    expect(startToStart).toBeLessThan(1_400);
  });

  it('honours Retry-After as an HTTP-date on a 503', async () => {
    let retryAt = 0;
    const receiver = await relay.receiver({
      respond: (_request, n) => {
        if (n > 1) return { status: 204 };
        retryAt = Math.ceil((Date.now() + 1_500) / 1000) * 1000;
        return { status: 503, headers: { 'retry-after': new Date(retryAt).toUTCString() } };
      },
    });
    const endpoint = await endpointFor(receiver);

    await addDomain(relay);
    const { attempts } = await settledMessage(endpoint.id, 'succeeded', 5_000);

    expect(attempts.map((a) => a.responseStatusCode)).toEqual([503, 204]);
    expect(startedAt(attempts[1])).toBeGreaterThanOrEqual(retryAt);
    expect(startedAt(attempts[1])).toBeLessThan(retryAt + 400);
  });

  it('sends identical bytes and webhook-id on every attempt, fresh timestamps (DLV-32: order by data.updated_at)', async () => {
    const receiver = await relay.receiver({
      respond: (_request, n) => {
        if (n === 1) return { status: 503, headers: { 'retry-after': '1' } };
        return n === 2 ? { status: 500 } : { status: 200 };
      },
    });
    const endpoint = await endpointFor(receiver);

    await addDomain(relay);
    const requests = await receiver.waitFor(3, 5_000);

    expect(new Set(requests.map((r) => r.body)).size).toBe(1);
    expect(new Set(requests.map((r) => r.headers['content-length'])).size).toBe(1);
    expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
    const timestamps = requests.map((r) => Number(r.headers['webhook-timestamp']));
    for (const [i, request] of requests.entries()) {
      expect(
        Math.abs((timestamps[i] ?? 0) - Math.floor(request.receivedAt.getTime() / 1000)),
      ).toBeLessThanOrEqual(1);
      expect(request.verifiedSvix && request.verifiedStandard).toBe(true);
    }
    expect(timestamps[1]).toBeGreaterThan(timestamps[0] ?? Number.POSITIVE_INFINITY);
    const updatedAts = requests.map((r) => JSON.parse(r.body).data.updated_at);
    expect(new Set(updatedAts).size).toBe(1);
    const { message } = await settledMessage(endpoint.id, 'succeeded');
    const [event] = (await relay.api.get(`/api/v1/events?page_size=1`)).body.events;
    expect(requests[0]?.body).toBe(JSON.stringify(event));
    expect(requests[0]?.headers['webhook-id']).toBe(message.id);
  });

  it('gives a disabled endpoint no messages and no attempts', async () => {
    const receiver = await relay.receiver();
    const enabled = await relay.receiver();
    const endpoint = await endpointFor(receiver);
    const control = await endpointFor(enabled);
    await relay.api.post(`/api/v1/webhooks/endpoints/${endpoint.id}/disable`);

    await addDomain(relay);
    await enabled.waitFor(1);
    await settledMessage(control.id, 'succeeded');

    expect(await messagesOf(relay.database, endpoint.id)).toEqual([]);
    expect(receiver.requests).toHaveLength(0);
  });

  it('delivers only the event types an endpoint asks for', async () => {
    const deletions = await relay.receiver();
    const everything = await relay.receiver();
    const filtered = await endpointFor(deletions, { event_types: ['organization.domain_deleted'] });
    await endpointFor(everything);

    const { organizationId, domainId } = await addDomain(relay);
    await relay.api.delete(`/api/v1/organizations/${organizationId}/domains/${domainId}`);
    const all = await everything.waitFor(2);
    const [deleted] = await deletions.waitFor(1);

    expect(all.map((r) => JSON.parse(r.body).type)).toEqual([
      'organization.domain_created',
      'organization.domain_deleted',
    ]);
    expect(JSON.parse(deleted?.body ?? '').type).toBe('organization.domain_deleted');
    expect(await messagesOf(relay.database, filtered.id)).toHaveLength(1);
  });
});
