// Prometheus metrics: counters kept by the process, queue depths read from the database per scrape.
import { sql } from 'drizzle-orm';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { type Db, queryRows } from './db/index.ts';

export const registry = new Registry();

export const httpRequests = new Histogram({
  name: 'verihook_http_request_duration_seconds',
  help: 'HTTP requests served, by method and status code',
  labelNames: ['method', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export const deliveryAttempts = new Counter({
  name: 'verihook_delivery_attempts_total',
  help: 'Delivery attempts recorded, by outcome (succeeded; pending: will retry; failed: no retry left)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

/** Where the delivery loop spends its time: claims, recording outcomes and its other queries. */
export const deliverySteps = new Histogram({
  name: 'verihook_delivery_step_duration_seconds',
  help:
    'Delivery worker database steps: claim (with the bodies), record (a batch of outcomes), ' +
    'next_due, lease_sweep',
  labelNames: ['step'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  registers: [registry],
});

/** How many messages each claim took and each record transaction wrote. */
export const deliveryBatchSizes = new Histogram({
  name: 'verihook_delivery_batch_messages',
  help: 'Messages per delivery worker step: claim (claimed), record (outcomes written)',
  labelNames: ['step'] as const,
  buckets: [0, 1, 2, 5, 10, 20, 50, 100, 200],
  registers: [registry],
});

/** Sign, send and read the answer of one attempt, as the worker sees it. */
export const deliveryAttemptSeconds = new Histogram({
  name: 'verihook_delivery_attempt_duration_seconds',
  help: 'Delivery attempts from signing to the end of the response',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 15],
  registers: [registry],
});

export const domainChecks = new Counter({
  name: 'verihook_domain_checks_total',
  help: 'Scheduled DNS checks, by outcome (found, mismatch, nxdomain, nodata, servfail, timeout)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

const queueDepth = new Gauge({
  name: 'verihook_messages',
  help: 'Messages waiting (pending) or being sent (inflight), read at scrape time',
  labelNames: ['status'] as const,
  registers: [registry],
});

const pendingDomains = new Gauge({
  name: 'verihook_pending_domains',
  help: 'Domains waiting for DNS verification, read at scrape time',
  registers: [registry],
});

/** Reads the queue depths (each count walks a partial index) and renders every metric. */
export async function renderMetrics(db: Db): Promise<string> {
  const [row] = await queryRows<{ pending: number; inflight: number; domains: number }>(
    db,
    sql`select
      (select count(*)::int from messages where status = 'pending') as pending,
      (select count(*)::int from messages where status = 'inflight') as inflight,
      (select count(*)::int from domains where verification_status = 'PENDING') as domains`,
  );
  queueDepth.set({ status: 'pending' }, row?.pending ?? 0);
  queueDepth.set({ status: 'inflight' }, row?.inflight ?? 0);
  pendingDomains.set(row?.domains ?? 0);
  return registry.metrics();
}
