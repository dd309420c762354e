import { hasPostgres } from '@verihook/testing';
import { eq, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/index.ts';
import { endpoints, eventBodies, messages } from '../../src/db/schema/index.ts';
import {
  claimDueMessages,
  claimStatement,
  recordAttemptsStatement,
  releaseExpiredLeases,
  releaseMessages,
} from '../../src/delivery/store.ts';
import { registry } from '../../src/metrics.ts';
import {
  addDomain,
  closedPortUrl,
  eventually,
  messagesOf,
  openTestRelay,
  registerEndpoint,
  seedEvents,
  type TestRelay,
} from './relay.ts';

let relay: TestRelay | undefined;

afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

/** `events` events fanned out to `endpoints` endpoints that no worker ever sends to. */
async function relayWithBacklog(label: string, events: number, endpoints = 1) {
  relay = await openTestRelay(label);
  const url = await closedPortUrl();
  const ids = [];
  for (let i = 0; i < endpoints; i++) ids.push((await registerEndpoint(relay, url)).id);
  await seedEvents(relay.database, events);
  return { current: relay, endpointId: ids[0] ?? '' };
}

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** The delivery worker's claim and record counts so far, from this process's metrics. */
function batchCounts(text: string) {
  const series = 'verihook_delivery_batch_messages';
  return {
    claims: metricValue(text, `${series}_count{step="claim"}`),
    emptyClaims: metricValue(text, `${series}_bucket{le="0",step="claim"}`),
    records: metricValue(text, `${series}_count{step="record"}`),
    recorded: metricValue(text, `${series}_sum{step="record"}`),
  };
}

async function statusCounts(current: TestRelay) {
  const rows = await queryRows<{ status: string; count: number }>(
    current.database.db,
    sql`select status, count(*)::int as count from messages group by status order by status`,
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.count]));
}

describe.runIf(hasPostgres())('the delivery queue', () => {
  it('claims by walking the due index even when statistics were taken on a small table', async () => {
    const { current } = await relayWithBacklog('delivery_claim_plan', 1, 20);
    await current.database.db.execute(sql`analyze messages`);
    await seedEvents(current.database, 1_000);

    const plan = await queryRows<{ 'QUERY PLAN': string }>(
      current.database.db,
      sql`explain ${claimStatement({ limit: 100, leaseMs: 30_000 })}`,
    );
    const text = plan.map((row) => row['QUERY PLAN']).join('\n');

    expect(text).toContain('Index Scan using messages_due_idx on messages');
    expect(text).toMatch(/Index Scan (using|on) messages_pkey/);
    expect(text).not.toMatch(/Seq Scan|Sort/);
    const started = performance.now();
    const claimed = await claimDueMessages(current.database.db, { limit: 100, leaseMs: 30_000 });
    expect(claimed).toHaveLength(100);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await statusCounts(current)).toEqual({ inflight: 100, pending: 19_920 });
  });

  it('claims each message with its endpoint and body, and records attempts by primary key', async () => {
    const { current, endpointId } = await relayWithBacklog('delivery_record_plan', 2_000);
    const { db } = current.database;
    await db.execute(sql`analyze messages`);
    const [endpoint] = await db.select().from(endpoints).where(eq(endpoints.id, endpointId));
    const claimed = await claimDueMessages(db, { limit: 100, leaseMs: 30_000 });
    const outcomes = claimed.map((delivery, n) => ({
      kind: 'attempted' as const,
      messageId: delivery.messageId,
      endpointId: delivery.endpointId,
      attemptId: `atmpt_plan_${n}`,
      attemptNumber: delivery.attemptNumber,
      attemptedAt: new Date(),
      status: 'succeeded' as const,
      retryDelayMs: null,
      responseStatusCode: 204,
      responseBody: '',
      responseDurationMs: 3,
      errorCode: null,
      error: null,
      endpointResult: 'success' as const,
    }));

    const plan = await queryRows<{ 'QUERY PLAN': string }>(
      db,
      sql`explain ${recordAttemptsStatement(outcomes)}`,
    );
    const text = plan.map((row) => row['QUERY PLAN']).join('\n');

    const [first] = claimed;
    const [event] = await db
      .select()
      .from(eventBodies)
      .where(eq(eventBodies.eventId, first?.eventId ?? ''));
    expect(claimed).toHaveLength(100);
    expect(first).toMatchObject({
      endpointId,
      attemptNumber: 1,
      url: endpoint?.url,
      endpointEnabled: true,
      secrets: [endpoint?.secret],
      body: event?.body,
    });
    expect(text).toMatch(/Index (Only )?Scan using messages_pkey on messages/);
    expect(text).not.toContain('Seq Scan on messages');
  });

  it('skips messages another transaction holds, without waiting for it', async () => {
    const { current } = await relayWithBacklog('delivery_skip_locked', 30);
    const { db } = current.database;
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked: string[] = [];
    const lockedReady = eventually(
      async () => locked,
      (ids) => ids.length === 10,
    );
    const holder = db.transaction(async (tx) => {
      const rows = await queryRows<{ id: string }>(
        tx,
        sql`select id from messages order by next_attempt_at limit 10 for update`,
      );
      locked = rows.map((row) => row.id);
      await held;
    });
    await lockedReady;

    const claimed = await claimDueMessages(db, { limit: 100, leaseMs: 30_000 });
    release();
    await holder;

    expect(claimed).toHaveLength(20);
    const claimedIds = new Set(claimed.map((delivery) => delivery.messageId));
    expect(locked.filter((id) => claimedIds.has(id))).toEqual([]);
    expect(await statusCounts(current)).toEqual({ inflight: 20, pending: 10 });
  });

  it('hands each message to one of many concurrent claims', async () => {
    const { current } = await relayWithBacklog('delivery_concurrent_claims', 500);
    const { db } = current.database;

    const claims = await Promise.all(
      Array.from({ length: 8 }, () => claimDueMessages(db, { limit: 100, leaseMs: 30_000 })),
    );

    const ids = claims.flat().map((delivery) => delivery.messageId);
    expect(ids).toHaveLength(500);
    expect(new Set(ids).size).toBe(500);
  });

  it('makes a message due again once its lease runs out, and not before', async () => {
    const { current, endpointId } = await relayWithBacklog('delivery_lease', 3);
    const { db } = current.database;
    const [first] = await claimDueMessages(db, { limit: 1, leaseMs: 200 });
    await claimDueMessages(db, { limit: 1, leaseMs: 60_000 });

    const early = await releaseExpiredLeases(db);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const late = await releaseExpiredLeases(db);

    expect([early, late]).toEqual([0, 1]);
    const [row] = await db
      .select()
      .from(messages)
      .where(eq(messages.id, first?.messageId ?? ''));
    expect(row?.status).toBe('pending');
    expect(row?.leaseExpiresAt).toBeNull();
    expect(row?.attemptCount).toBe(0);
    expect(await statusCounts(current)).toEqual({ inflight: 1, pending: 2 });
    expect(await messagesOf(current.database, endpointId)).toHaveLength(3);
  });

  it('puts unsent claimed messages back as they were due', async () => {
    const { current } = await relayWithBacklog('delivery_release', 2);
    const { db } = current.database;
    const before = await db.select().from(messages);
    const claimed = await claimDueMessages(db, { limit: 2, leaseMs: 60_000 });

    await releaseMessages(
      db,
      claimed.map((delivery) => delivery.messageId),
    );

    const after = await db.select().from(messages);
    expect(after.map((row) => [row.id, row.status, row.nextAttemptAt, row.leaseExpiresAt])).toEqual(
      expect.arrayContaining(before.map((row) => [row.id, 'pending', row.nextAttemptAt, null])),
    );
    expect(claimed.map((delivery) => delivery.attemptNumber)).toEqual([1, 1]);
  });
});

describe.runIf(hasPostgres())('stopping the delivery worker', () => {
  it('stops claiming, lets the attempt in flight finish and records it', async () => {
    relay = await openTestRelay('delivery_graceful_stop');
    const receiver = await relay.receiver({ respond: () => ({ status: 200, delayMs: 600 }) });
    const endpoint = await registerEndpoint(relay, receiver);
    const { organizationId } = await addDomain(relay);
    await addDomain(relay, organizationId);
    await relay.startWorker({ concurrency: 1 });
    await receiver.waitFor(1);

    const stopStarted = Date.now();
    await relay.stopWorker();
    const stopMs = Date.now() - stopStarted;

    expect(stopMs).toBeGreaterThanOrEqual(300);
    const rows = await messagesOf(relay.database, endpoint.id);
    expect(rows.map((row) => row.status).sort()).toEqual(['pending', 'succeeded']);
    expect(receiver.requests).toHaveLength(1);
    expect(rows.find((row) => row.status === 'pending')?.leaseExpiresAt).toBeNull();
  });
});

describe('the delivery worker on PGlite', () => {
  it('delivers and retries on the embedded database', async () => {
    relay = await openTestRelay('delivery_pglite', { backend: 'pglite' });
    const receiver = await relay.receiver({
      respond: (_request, n) => ({ status: n === 1 ? 500 : 204 }),
    });
    const endpoint = await registerEndpoint(relay, receiver);
    await relay.startWorker();

    await addDomain(relay);
    const requests = await receiver.waitFor(2);
    const [message] = await eventually(
      () => messagesOf(relay?.database ?? ({} as TestRelay['database']), endpoint.id),
      (rows) => rows[0]?.status === 'succeeded',
    );

    expect(requests.map((r) => r.verifiedSvix && r.verifiedStandard)).toEqual([true, true]);
    expect(message?.attemptCount).toBe(2);
  });

  it('claims and records in batches there, not one message at a time', async () => {
    relay = await openTestRelay('delivery_pglite_batches', { backend: 'pglite' });
    const receiver = await relay.receiver();
    await registerEndpoint(relay, receiver);
    await seedEvents(relay.database, 200);
    const before = batchCounts(await registry.metrics());

    await relay.startWorker();
    await receiver.waitFor(200, 30_000);
    await relay.stopWorker();

    const after = batchCounts(await registry.metrics());
    const claimsThatTookMessages =
      after.claims - after.emptyClaims - (before.claims - before.emptyClaims);
    const records = after.records - before.records;
    process.stdout.write(
      `[pglite batches] 200 messages: ${claimsThatTookMessages} claims, ` +
        `${records} record transactions\n`,
    );
    expect(after.recorded - before.recorded).toBe(200);
    expect(claimsThatTookMessages).toBeLessThanOrEqual(10);
    expect(records).toBeLessThan(50);
  });
});
