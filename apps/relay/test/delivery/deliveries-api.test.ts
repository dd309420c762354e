import { createHash } from 'node:crypto';
import { parseEvent } from '@verihook/events';
import { hasPostgres, type Receiver } from '@verihook/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fanOutEvent } from '../../src/delivery/fanout.ts';
import {
  addDomain,
  closedPortUrl,
  eventually,
  messagesOf,
  openTestRelay,
  registerEndpoint,
  type TestRelay,
} from './relay.ts';

let relay: TestRelay;

beforeAll(async () => {
  relay = await openTestRelay('delivery_api');
  await relay.startWorker();
});

afterAll(async () => {
  await relay?.close();
});

const registered: string[] = [];
afterEach(async () => {
  for (const id of registered.splice(0)) {
    await relay.api.post(`/api/v1/webhooks/endpoints/${id}/disable`);
  }
});

async function endpointFor(receiver: Receiver | string) {
  const endpoint = await registerEndpoint(relay, receiver);
  registered.push(endpoint.id);
  return endpoint;
}

async function latestEventId(): Promise<string> {
  return (await relay.api.get('/api/v1/events?page_size=1')).body.events[0].id;
}

async function waitForStatus(endpointId: string, statuses: string[]) {
  return eventually(
    () => messagesOf(relay.database, endpointId),
    (rows) => rows.length === statuses.length && rows.every((row, i) => row.status === statuses[i]),
  );
}

describe.runIf(hasPostgres())('the deliveries API', () => {
  it("answers the issue's flow: two 503s, then delivered on the third attempt, all visible", async () => {
    const receiver = await relay.receiver({
      respond: (_request, n) => (n <= 2 ? { status: 503, body: 'busy' } : { status: 200 }),
    });
    const endpoint = await endpointFor(receiver);

    await addDomain(relay);
    const requests = await receiver.waitFor(3, 5_000);
    const [message] = await waitForStatus(endpoint.id, ['succeeded']);
    const eventId = await latestEventId();
    const listed = await relay.api.get(`/api/v1/events/${eventId}/messages`);

    expect(requests.map((r) => r.verifiedSvix)).toEqual([true, true, true]);
    expect(JSON.parse(requests[2]?.body ?? '').type).toBe('organization.domain_created');
    expect(listed.status).toBe(200);
    expect(listed.body.list_metadata).toEqual({ before: null, after: null });
    expect(listed.body.messages).toEqual([
      {
        id: message?.id,
        object: 'webhook_message',
        event_id: eventId,
        endpoint_id: endpoint.id,
        status: 'succeeded',
        attempt_count: 3,
        next_attempt_at: null,
        last_attempt_at: expect.any(String),
        last_response_status_code: 200,
        created_at: expect.any(String),
        updated_at: expect.any(String),
        attempts: [1, 2, 3].map((n) => ({
          id: expect.stringMatching(/^atmpt_[0-9A-Z]{26}$/),
          object: 'webhook_attempt',
          message_id: message?.id,
          endpoint_id: endpoint.id,
          attempt_number: n,
          response_status_code: n < 3 ? 503 : 200,
          response_body: n < 3 ? 'busy' : '',
          response_duration_ms: expect.any(Number),
          error: null,
          created_at: expect.any(String),
        })),
      },
    ]);
    const single = await relay.api.get(`/api/v1/webhooks/messages/${message?.id}`);
    expect(single.body).toEqual({ message: listed.body.messages[0] });
  });

  it("pages through an endpoint's attempts, newest first, with errors when no response came", async () => {
    const endpoint = await endpointFor(await closedPortUrl());

    await addDomain(relay);
    await waitForStatus(endpoint.id, ['failed']);
    const first = await relay.api.get(
      `/api/v1/webhooks/endpoints/${endpoint.id}/attempts?page_size=2`,
    );
    const rest = await relay.api.get(
      `/api/v1/webhooks/endpoints/${endpoint.id}/attempts?page_size=2&after=${first.body.list_metadata.after}`,
    );

    expect(first.status).toBe(200);
    expect(first.body.attempts.map((a: { attempt_number: number }) => a.attempt_number)).toEqual([
      3, 2,
    ]);
    expect(rest.body.attempts.map((a: { attempt_number: number }) => a.attempt_number)).toEqual([
      1,
    ]);
    expect(rest.body.list_metadata.after).toBeNull();
    expect(first.body.attempts[0]).toMatchObject({
      response_status_code: null,
      response_body: '',
      error: { code: 'connection_refused', message: expect.any(String) },
    });
    const missing = await relay.api.get('/api/v1/webhooks/endpoints/ep_missing/attempts');
    expect(missing.status).toBe(404);
  });

  it('retries one message now, keeping its webhook-id', async () => {
    const receiver = await relay.receiver();
    const endpoint = await endpointFor(receiver);
    await addDomain(relay);
    const [delivered] = await waitForStatus(endpoint.id, ['succeeded']);

    const retried = await relay.api.post(`/api/v1/webhooks/messages/${delivered?.id}/retry`);
    const requests = await receiver.waitFor(2);
    const [after] = await eventually(
      () => messagesOf(relay.database, endpoint.id),
      (rows) => rows[0]?.attemptCount === 2 && rows[0]?.status === 'succeeded',
    );

    expect(retried.status).toBe(202);
    expect(retried.body.message).toMatchObject({ id: delivered?.id, status: 'pending' });
    expect(requests.map((r) => r.headers['webhook-id'])).toEqual([delivered?.id, delivered?.id]);
    expect(requests[1]?.body).toBe(requests[0]?.body);
    expect(after?.attemptCount).toBe(2);
    const unknown = await relay.api.post('/api/v1/webhooks/messages/msg_missing/retry');
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'not_found']);
    await relay.api.post(`/api/v1/webhooks/endpoints/${endpoint.id}/disable`);
    const disabled = await relay.api.post(`/api/v1/webhooks/messages/${delivered?.id}/retry`);
    expect([disabled.status, disabled.body.error.code]).toEqual([409, 'endpoint_disabled']);
  });

  it('recovers every failed message of an endpoint since a time, and not earlier ones', async () => {
    let healthy = false;
    const receiver = await relay.receiver({ respond: () => ({ status: healthy ? 200 : 500 }) });
    const endpoint = await endpointFor(receiver);
    const { organizationId } = await addDomain(relay);
    await waitForStatus(endpoint.id, ['failed']);
    const since = new Date();
    await addDomain(relay, organizationId);
    await addDomain(relay, organizationId);
    await waitForStatus(endpoint.id, ['failed', 'failed', 'failed']);

    healthy = true;
    const future = await relay.api.post(`/api/v1/webhooks/endpoints/${endpoint.id}/recover`, {
      since: new Date(Date.now() + 60_000).toISOString(),
    });
    const recovered = await relay.api.post(`/api/v1/webhooks/endpoints/${endpoint.id}/recover`, {
      since: since.toISOString(),
    });
    const rows = await waitForStatus(endpoint.id, ['failed', 'succeeded', 'succeeded']);

    expect(future.body).toEqual({ recovered: 0 });
    expect(recovered.status).toBe(202);
    expect(recovered.body).toEqual({ recovered: 2 });
    expect(rows.map((row) => row.attemptCount)).toEqual([3, 4, 4]);
    expect(receiver.requests).toHaveLength(11);
    const invalid = await relay.api.post(`/api/v1/webhooks/endpoints/${endpoint.id}/recover`, {
      since: 'yesterday',
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.fields).toEqual([
      { path: 'since', message: 'must be an RFC 3339 date-time' },
    ]);
  });

  it('DLV-31: derives the message id from event and endpoint, so a re-emission mints no second one', async () => {
    const receiver = await relay.receiver({
      respond: (_request, n) => ({ status: n === 1 ? 500 : 204 }),
    });
    const endpoint = await endpointFor(receiver);
    await addDomain(relay);
    const requests = await receiver.waitFor(2);
    const eventId = await latestEventId();
    const [event] = (await relay.api.get('/api/v1/events?page_size=1')).body.events;

    const created = await relay.database.db.transaction((tx) =>
      fanOutEvent(tx, parseEvent(event), { firstAttemptDelayMs: 0 }),
    );

    const digest = createHash('sha256').update(`${eventId}:${endpoint.id}`).digest('hex');
    const expectedId = `msg_${digest.slice(0, 28)}`;
    expect(expectedId).toHaveLength(32);
    expect(created).toBe(0);
    expect((await messagesOf(relay.database, endpoint.id)).map((row) => row.id)).toEqual([
      expectedId,
    ]);
    expect(requests.map((r) => r.headers['webhook-id'])).toEqual([expectedId, expectedId]);
  });

  it('answers 404 for the messages of an unknown event', async () => {
    const answer = await relay.api.get('/api/v1/events/evt_missing/messages');

    expect([answer.status, answer.body.error.code]).toEqual([404, 'not_found']);
  });
});
