import { hasPostgres } from '@verihook/testing';
import { eq, inArray } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { endpoints, messages } from '../../src/db/schema/index.ts';
import {
  addDomain,
  attemptsOf,
  endpointRow,
  eventually,
  messagesOf,
  openTestRelay,
  registerEndpoint,
  type TestRelay,
} from './relay.ts';

const DEFAULT_SCHEDULE = { VERIHOOK_RETRY_SCHEDULE: '0,5s,5m,30m,2h,5h,10h,10h' };

let relay: TestRelay | undefined;

afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

async function open(label: string, env: Record<string, string> = {}) {
  relay = await openTestRelay(label, { env });
  return relay;
}

/** Milliseconds from the end of a message's latest attempt to its next attempt. */
async function nextAttemptDelayMs(current: TestRelay, messageId: string): Promise<number> {
  const [message] = await current.database.db
    .select()
    .from(messages)
    .where(eq(messages.id, messageId));
  const latest = (await attemptsOf(current.database, messageId)).at(-1);
  if (!message?.nextAttemptAt || !latest) throw new Error(`${messageId} has no next attempt`);
  const endedAt = latest.createdAt.getTime() + latest.responseDurationMs;
  return message.nextAttemptAt.getTime() - endedAt;
}

describe.runIf(hasPostgres())('endpoint state through delivery outcomes', () => {
  it('DLV-29: a 410 disables the endpoint (gone) and cancels its pending messages; a 404 retries in 5 s', async () => {
    const current = await open('delivery_dlv29', DEFAULT_SCHEDULE);
    const goneReceiver = await current.receiver({ respond: () => ({ status: 410 }) });
    const controlReceiver = await current.receiver({ respond: () => ({ status: 404 }) });
    const gone = await registerEndpoint(current, goneReceiver);
    const control = await registerEndpoint(current, controlReceiver);
    const { organizationId } = await addDomain(current);
    for (let i = 0; i < 3; i++) await addDomain(current, organizationId);
    const [due, ...later] = await messagesOf(current.database, gone.id);
    await current.database.db
      .update(messages)
      .set({ nextAttemptAt: new Date(Date.now() + 3_600_000) })
      .where(
        inArray(
          messages.id,
          later.map((message) => message.id),
        ),
      );

    await current.startWorker();
    const disabled = await eventually(
      () => endpointRow(current.database, gone.id),
      (row) => row.status === 'disabled',
    );
    const controlMessages = await eventually(
      () => messagesOf(current.database, control.id),
      (rows) => rows.every((row) => row.status === 'pending' && row.attemptCount === 1),
    );

    expect(disabled.disabledReason).toBe('gone');
    expect(goneReceiver.requests).toHaveLength(1);
    const goneMessages = await messagesOf(current.database, gone.id);
    expect(goneMessages.map((row) => [row.id, row.status, row.attemptCount])).toEqual([
      [due?.id, 'failed', 1],
      ...later.map((row) => [row.id, 'cancelled', 0]),
    ]);
    expect((await endpointRow(current.database, control.id)).status).toBe('enabled');
    expect(controlMessages).toHaveLength(4);
    for (const message of controlMessages) {
      const delayMs = await nextAttemptDelayMs(current, message.id);
      expect(delayMs).toBeGreaterThanOrEqual(5_000);
      expect(delayMs).toBeLessThan(5_300);
    }
    const logs = current.logs();
    expect(logs).toContainEqual(
      expect.objectContaining({ endpoint_id: gone.id, reason: 'gone', msg: 'endpoint disabled' }),
    );

    await addDomain(current, organizationId);
    expect(await messagesOf(current.database, gone.id)).toHaveLength(4);
    expect(await messagesOf(current.database, control.id)).toHaveLength(5);
  });

  it('DLV-27: Retry-After on 429/503 as max(backoff, Retry-After) capped at backoff + 2 h', async () => {
    const current = await open('delivery_dlv27', DEFAULT_SCHEDULE);
    let httpDate = new Date(0);
    const inTenMinutes = () => {
      httpDate = new Date(Math.floor(Date.now() / 1000) * 1000 + 600_000);
      return httpDate.toUTCString();
    };
    const cases = {
      a: { status: 429, retryAfter: () => '120' },
      b: { status: 503, retryAfter: inTenMinutes },
      c: { status: 429, retryAfter: () => '86400' },
      d: { status: 503, retryAfter: () => 'soon' },
      f: { status: 500, retryAfter: () => '120' },
    };
    const registered = new Map<keyof typeof cases, string>();
    for (const [name, spec] of Object.entries(cases) as [
      keyof typeof cases,
      (typeof cases)['a'],
    ][]) {
      const receiver = await current.receiver({
        respond: () => ({ status: spec.status, headers: { 'retry-after': spec.retryAfter() } }),
      });
      registered.set(name, (await registerEndpoint(current, receiver)).id);
    }

    await current.startWorker();
    await addDomain(current);
    const delays: Partial<Record<keyof typeof cases, number>> = {};
    for (const [name, endpointId] of registered) {
      const [message] = await eventually(
        () => messagesOf(current.database, endpointId),
        (rows) => rows[0]?.attemptCount === 1 && rows[0]?.status === 'pending',
      );
      delays[name] = await nextAttemptDelayMs(current, message?.id ?? '');
    }

    // Each delay is measured from the attempt's end; recording it takes a few milliseconds.
    expect(delays.a).toBeGreaterThanOrEqual(120_000);
    expect(delays.a).toBeLessThan(120_300);
    expect(delays.c).toBeGreaterThanOrEqual(7_205_000);
    expect(delays.c).toBeLessThan(7_205_300);
    expect(delays.d).toBeGreaterThanOrEqual(5_000);
    expect(delays.d).toBeLessThan(5_300);
    expect(delays.f).toBeGreaterThanOrEqual(5_000);
    expect(delays.f).toBeLessThan(5_300);
    const [bMessage] = await messagesOf(current.database, registered.get('b') ?? '');
    // b: the next attempt is at the HTTP-date itself (the delay counts from the attempt's start).
    const bNextAt = bMessage?.nextAttemptAt?.getTime() ?? 0;
    expect(bNextAt - httpDate.getTime()).toBeGreaterThanOrEqual(0);
    expect(bNextAt - httpDate.getTime()).toBeLessThan(300);
    expect(current.logs()).toContainEqual(
      expect.objectContaining({
        retry_after: 'soon',
        msg: 'ignored an invalid Retry-After header',
      }),
    );
  });

  it('disables an endpoint that kept failing for VERIHOOK_DISABLE_AFTER, after its last attempt', async () => {
    const current = await open('delivery_disable_after', { VERIHOOK_DISABLE_AFTER: '500ms' });
    const receiver = await current.receiver({ respond: () => ({ status: 500 }) });
    const endpoint = await registerEndpoint(current, receiver);
    await current.startWorker();

    const { organizationId } = await addDomain(current);
    const disabled = await eventually(
      () => endpointRow(current.database, endpoint.id),
      (row) => row.status === 'disabled',
    );

    expect(disabled.disabledReason).toBe('failing');
    const [message] = await messagesOf(current.database, endpoint.id);
    expect(message?.status).toBe('failed');
    expect(message?.attemptCount).toBe(3);
    expect(receiver.requests).toHaveLength(3);
    await addDomain(current, organizationId);
    expect(await messagesOf(current.database, endpoint.id)).toHaveLength(1);
  });

  it('cancels, without sending, a due message whose endpoint was disabled before the claim', async () => {
    const current = await open('delivery_disabled_claim');
    const receiver = await current.receiver();
    const endpoint = await registerEndpoint(current, receiver);
    await addDomain(current);
    await current.database.db
      .update(endpoints)
      .set({ status: 'disabled', disabledReason: 'manual' })
      .where(eq(endpoints.id, endpoint.id));

    await current.startWorker();
    const [message] = await eventually(
      () => messagesOf(current.database, endpoint.id),
      (rows) => rows[0]?.status === 'cancelled',
    );

    expect(receiver.requests).toHaveLength(0);
    expect(await attemptsOf(current.database, message?.id ?? '')).toEqual([]);
  });

  it('signs with the old and the new secret during the rotation grace period, then only the new', async () => {
    const current = await open('delivery_rotation');
    const receiver = await current.receiver();
    const endpoint = await registerEndpoint(current, receiver);
    await current.startWorker();

    const rotated = await current.api.post(
      `/api/v1/webhooks/endpoints/${endpoint.id}/secret/rotate`,
      { grace_period_seconds: 1 },
    );
    const newSecret: string = rotated.body.secret;
    receiver.setSecrets([endpoint.secret, newSecret]);
    const during = (await current.api.get(`/api/v1/webhooks/endpoints/${endpoint.id}`)).body;
    const { organizationId } = await addDomain(current);
    const [inGrace] = await receiver.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await addDomain(current, organizationId);
    const [, afterGrace] = await receiver.waitFor(2);
    const after = (await current.api.get(`/api/v1/webhooks/endpoints/${endpoint.id}`)).body;

    expect(rotated.status).toBe(200);
    expect(newSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(newSecret).not.toBe(endpoint.secret);
    expect(during.endpoint.previous_secret_expires_at).toEqual(expect.any(String));
    expect(inGrace?.headers['webhook-signature']?.toString().split(' ')).toHaveLength(2);
    expect(inGrace?.verifiedSecrets).toEqual([endpoint.secret, newSecret]);
    expect(afterGrace?.headers['webhook-signature']?.toString().split(' ')).toHaveLength(1);
    expect(afterGrace?.verifiedSecrets).toEqual([newSecret]);
    expect(afterGrace?.verifiedSvix && afterGrace?.verifiedStandard).toBe(true);
    expect(after.endpoint.previous_secret_expires_at).toBeNull();
    expect(
      (await current.api.get(`/api/v1/webhooks/endpoints/${endpoint.id}/secret`)).body,
    ).toEqual({ secret: newSecret });
  });
});
