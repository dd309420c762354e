// Verihook's delivery engine: relay processes draining a backlog to one endpoint and fanned out
// to ten, commit-to-receipt latency with one and two relay processes, and PGlite against
// PostgreSQL, all against the receiver process that verifies every request with svix.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Database, queryRows } from '@verihook/relay/src/db/index.ts';
import { claimStatement } from '@verihook/relay/src/delivery/store.ts';
import { DEFAULT_CONCURRENCY, defaultLeaseMs } from '@verihook/relay/src/delivery/worker.ts';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { cpuSince, markCpu } from '../cpu.ts';
import {
  commitToReceipt,
  epochMs,
  producePaced,
  startCpuProbe,
  waitForDeliveries,
} from '../delivery.ts';
import {
  defineStage,
  type MeasuredFigureSpec,
  type Sample,
  type StageContext,
} from '../harness.ts';
import { runTag } from '../payload.ts';
import { type Receiver, startReceiver } from '../receiver-client.ts';
import {
  type BenchEndpoint,
  createEndpoints,
  type DeliveryTimings,
  enableOnly,
  messageIdsOf,
  openRelayStore,
  parseDeliveryTimings,
  pointEndpoints,
  produceBacklog,
  produceOne,
  queueCounts,
  type RelayLocation,
  type RelayProcess,
  type RelayStore,
  restoreQueue,
  saveQueue,
  startRelayProcess,
  sumTimings,
} from '../relay.ts';
import { summarise } from '../stats.ts';

const FAN_OUT_ENDPOINTS = 10;
const LATENCY_RATE_PER_SECOND = 500;
const PER_TRANSACTION = 100;
const DRAIN_TIMEOUT_MS = 120_000;
// The worker's defaults (apps/relay/src/delivery/worker.ts), which relay processes run with.
const WORKER_SHAPE = `the worker as shipped: ${DEFAULT_CONCURRENCY} in flight, claims of up to 100`;
const ONE_PROCESS = `1 relay process × ${DEFAULT_CONCURRENCY}`;

interface Sizes {
  runs: number;
  drainEvents: number;
  drainWarmup: number;
  fanOutEvents: number;
  fanOutWarmup: number;
  latencyMs: number;
  latencyWarmupMs: number;
  pgliteEvents: number;
}

const FULL: Sizes = {
  runs: 3,
  drainEvents: 20_000,
  drainWarmup: 2_000,
  fanOutEvents: 2_000,
  fanOutWarmup: 200,
  latencyMs: 10_000,
  latencyWarmupMs: 2_000,
  // Writing events through recordEvent into PGlite runs at about 250 a second here.
  pgliteEvents: 5_000,
};

const QUICK: Sizes = {
  runs: 2,
  drainEvents: 2_000,
  drainWarmup: 0,
  fanOutEvents: 200,
  fanOutWarmup: 0,
  latencyMs: 2_000,
  latencyWarmupMs: 0,
  pgliteEvents: 500,
};

interface Rig {
  ctx: StageContext;
  location: RelayLocation;
  store: RelayStore;
  receiver: Receiver;
  /** A connection of its own to the scratch database, for the CPU probe (PostgreSQL only). */
  probe?: { sql: postgres.Sql; database: string };
  /** The median size of the event bodies in the backlog, once written. */
  payloadBytes: number;
}

interface Drained {
  /** (messages − 1) / time from the first receipt to the last, per second. */
  rate: number;
  details: Record<string, unknown>;
}

const DRAIN_NOTES =
  "drain and fan-out: the backlog is written once through the relay's outbox: domain rows " +
  `and \`recordEvent\` in transactions of ${PER_TRANSACTION} events, the relay's fan-out ` +
  'hook creating the messages in the same transactions (one enabled endpoint, or ten for the ' +
  'fan-out). Each run restores that queue (the message rows as fan-out wrote them, attempts ' +
  'emptied; then ANALYZE), starts relay processes (`node --import tsx src/index.ts`, ' +
  `${WORKER_SHAPE}) after the backlog is committed, and counts from the first receipt to the ` +
  'last: (messages − 1) / that time, so the relay start is left out. latency: relay processes ' +
  `already running; ${LATENCY_RATE_PER_SECOND} events/s, each a domain row and its ` +
  '`recordEvent` in its own transaction, from the commit acknowledgement to the receipt ' +
  '(quantiles over each run). pglite: the same drain with the relay on an embedded PGlite data ' +
  'directory (DATABASE_URL unset, VERIHOOK_DATA_DIR set; one process: PGlite is one ' +
  'connection). Bodies are the domain_created events as fan-out stored them (median size in ' +
  'the Payload column), signed by the relay, verified with svix by the receiver process.';

export const deliveryStage = defineStage({
  id: 'delivery',
  title: "Verihook: the relay's own delivery engine",
  needsDatabase: true,
  timeLimitMs: { full: 480_000, quick: 150_000 },
  async run(ctx) {
    const sizes = ctx.quick ? QUICK : FULL;
    const databaseUrl = await ctx.scratchDatabase('delivery');
    const store = await openRelayStore({ databaseUrl });
    ctx.defer(store.close);
    const endpoints = await createEndpoints(store, 1 + FAN_OUT_ENDPOINTS);
    const receiver = await startReceiver({ secrets: endpoints.map((endpoint) => endpoint.secret) });
    ctx.defer(receiver.stop);
    await pointEndpoints(store, endpoints, receiver);
    const probeSql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    ctx.defer(() => probeSql.end({ timeout: 5 }));
    const rig: Rig = {
      ctx,
      location: { databaseUrl },
      store,
      receiver,
      probe: { sql: probeSql, database: new URL(databaseUrl).pathname.slice(1) },
      payloadBytes: 0,
    };

    const [single, ...fanOut] = endpoints as [BenchEndpoint, ...BenchEndpoint[]];
    await prepareBacklogs(rig, sizes, endpoints, single, fanOut);
    await measureDrains(rig, sizes);
    await explainClaim(rig);
    await restoreQueue(store);
    await enableOnly(store, endpoints, [single]);
    await measureLatency(rig, sizes, 1);
    await measureLatency(rig, sizes, 2);
    await measurePglite(ctx, sizes);
  },
});

async function prepareBacklogs(
  rig: Rig,
  sizes: Sizes,
  all: BenchEndpoint[],
  single: BenchEndpoint,
  fanOut: BenchEndpoint[],
) {
  const produce = async (name: string, enabled: BenchEndpoint[], count: number) => {
    await restoreQueue(rig.store);
    await enableOnly(rig.store, all, enabled);
    const started = performance.now();
    await produceBacklog(rig.store, {
      tag: runTag(name, 0),
      count,
      perTransaction: PER_TRANSACTION,
      producers: 2,
    });
    const seconds = (performance.now() - started) / 1000;
    const messages = await saveQueue(rig.store, name);
    const rate = Math.round(count / seconds).toLocaleString('en-US');
    const written = `${count.toLocaleString('en-US')} events, ${messages.toLocaleString('en-US')}`;
    rig.ctx.note(
      `${name} backlog: ${written} messages, written through recordEvent in ` +
        `${seconds.toFixed(1)} s (${rate} events/s, two transactions at once)`,
    );
  };
  await produce('drain', [single], sizes.drainEvents);
  await produce('fanout', fanOut, sizes.fanOutEvents);
  rig.payloadBytes = await medianBodyBytes(rig.store);
  await enableOnly(rig.store, all, all);
}

async function measureDrains(rig: Rig, sizes: Sizes) {
  const { ctx } = rig;
  const drainMessages = sizes.drainEvents;
  const fanOutMessages = sizes.fanOutEvents * FAN_OUT_ENDPOINTS;
  const drains: Record<string, unknown>[] = [];
  await ctx.measure({
    runs: sizes.runs,
    warmup: warmup(sizes.drainWarmup, 'drain'),
    method: {
      concurrency: ONE_PROCESS,
      payloadBytes: rig.payloadBytes,
      perRun: `${drainMessages.toLocaleString('en-US')} queued events, 1 endpoint`,
      notes: DRAIN_NOTES,
    },
    figures: { drain: { label: 'Verihook drain', unit: 'deliveries/s', better: 'higher' } },
    async sample(run) {
      const count = run.warmup ? sizes.drainWarmup : drainMessages;
      const fill = () => restoreQueue(rig.store, 'drain', count);
      const drained = await drainOnce(rig, fill, count, 1);
      if (!run.warmup) drains.push(drained.details);
      return { values: { drain: drained.rate }, details: drained.details };
    },
  });
  noteTimeSplit(ctx, 'drain', drains);

  const fanOuts: Record<string, unknown>[] = [];
  await ctx.measure({
    runs: sizes.runs,
    warmup: warmup(sizes.fanOutWarmup * FAN_OUT_ENDPOINTS, 'fan-out'),
    method: {
      concurrency: ONE_PROCESS,
      payloadBytes: rig.payloadBytes,
      perRun:
        `${sizes.fanOutEvents.toLocaleString('en-US')} events × ${FAN_OUT_ENDPOINTS} endpoints = ` +
        `${fanOutMessages.toLocaleString('en-US')} messages`,
      notes: DRAIN_NOTES,
    },
    figures: {
      fanout: { label: 'Verihook fan-out drain', unit: 'deliveries/s', better: 'higher' },
    },
    async sample(run) {
      const count = run.warmup ? sizes.fanOutWarmup * FAN_OUT_ENDPOINTS : fanOutMessages;
      const fill = () => restoreQueue(rig.store, 'fanout', count);
      const drained = await drainOnce(rig, fill, count, 1);
      if (!run.warmup) fanOuts.push(drained.details);
      return { values: { fanout: drained.rate }, details: drained.details };
    },
  });
  noteTimeSplit(ctx, 'fan-out', fanOuts);
}

async function medianBodyBytes(store: RelayStore): Promise<number> {
  const [row] = await queryRows<{ bytes: number }>(
    store.database.db,
    sql`select percentile_disc(0.5) within group (order by octet_length(body))::int as bytes
        from event_bodies`,
  );
  return row?.bytes ?? 0;
}

function warmup(count: number, what: string) {
  return count === 0
    ? { runs: 0, description: 'none' }
    : { runs: 1, description: `1 × ${count.toLocaleString('en-US')}-message ${what}` };
}

/** Puts `count` messages in the queue, starts relay processes, and waits for the drain. */
async function drainOnce(
  rig: Omit<Rig, 'store'>,
  fill: () => Promise<number>,
  count: number,
  processes: number,
) {
  const queued = await fill();
  if (queued !== count) throw new Error(`restored ${queued} messages, expected ${count}`);
  await rig.receiver.reset();
  const startedAt = performance.now();
  const relays = await startRelays(rig.location, processes);
  try {
    const startupMs = Math.round(performance.now() - startedAt);
    const probe = await startRunProbe(rig, relays);
    const done = await waitForDeliveries(rig.receiver, count, DRAIN_TIMEOUT_MS);
    const { firstReceiptAt } = await rig.receiver.stats();
    const cpu = await probe();
    const texts = await Promise.all(relays.map((relay) => relay.metrics()));
    const spanMs = done.reachedAt - (firstReceiptAt ?? done.reachedAt);
    const timings = sumTimings(texts.map(parseDeliveryTimings));
    return {
      rate: ((count - 1) / Math.max(spanMs, 1)) * 1000,
      details: {
        ...done.details,
        ...cpu,
        relayStartupMs: startupMs,
        drainMs: Math.round(spanMs),
        ...describeTimings(timings, spanMs, processes),
      },
    } satisfies Drained;
  } finally {
    await Promise.all(relays.map((relay) => relay.stop()));
  }
}

async function startRelays(location: RelayLocation, processes: number): Promise<RelayProcess[]> {
  const started = await Promise.allSettled(
    Array.from({ length: processes }, () => startRelayProcess(location)),
  );
  const relays = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    await Promise.all(relays.map((relay) => relay.stop()));
    throw failed.reason;
  }
  return relays;
}

/** CPU of the machine, this process, the receiver, the relay processes and the backends. */
async function startRunProbe(rig: Omit<Rig, 'store'>, relays: RelayProcess[]) {
  const mark = markCpu();
  const relayBefore = relays.map((relay) => relay.cpuMs());
  const others = await startCpuProbe({ receiver: rig.receiver, postgres: rig.probe });
  return async () => {
    const elapsedMs = performance.now() - mark.atMs;
    const relayMs = relays.reduce(
      (sum, relay, n) => sum + relay.cpuMs() - (relayBefore[n] ?? 0),
      0,
    );
    return {
      ...(await others()),
      relayCorePct: Math.round((relayMs / elapsedMs) * 100),
      ...cpuSince(mark),
    };
  };
}

/** The worker's time split over a drain of `spanMs`: what share of it each step kept busy. */
function describeTimings(timings: DeliveryTimings, spanMs: number, processes: number) {
  const { claim, record, nextDue, leaseSweep, attempts } = timings;
  const seconds = spanMs / 1000;
  const share = (busy: number) => Math.round((busy / (seconds * processes)) * 100);
  const mean = (total: number, count: number, scale = 1) =>
    count === 0 ? 0 : Math.round((total / count) * scale * 100) / 100;
  return {
    claims: claim.count,
    messagesPerClaim: mean(claim.messages, claim.count),
    claimMs: mean(claim.seconds, claim.count, 1000),
    claimLoopBusyPct: share(claim.seconds + nextDue.seconds + leaseSweep.seconds),
    nextDueQueries: nextDue.count,
    records: record.count,
    outcomesPerRecord: mean(record.messages, record.count),
    recordMs: mean(record.seconds, record.count, 1000),
    recordBusyPct: share(record.seconds),
    attemptMs: mean(attempts.seconds, attempts.count, 1000),
    attemptsInFlight: mean(attempts.seconds, seconds),
  };
}

function medianOf(runs: Record<string, unknown>[], key: string): number {
  const values = runs.map((run) => run[key]).filter((value) => typeof value === 'number');
  return values.length === 0 ? 0 : summarise(values as number[]).median;
}

function cpuSummary(runs: Record<string, unknown>[]): string {
  const names = ['relay', 'postgres', 'receiver'].filter((name) =>
    runs.some((run) => typeof run[`${name}CorePct`] === 'number'),
  );
  const parts = names.map((name) => `${name} ${Math.round(medianOf(runs, `${name}CorePct`))}`);
  return `${[...parts, `bench ${Math.round(medianOf(runs, 'processCorePct'))}`].join(', ')}`;
}

function noteTimeSplit(ctx: StageContext, what: string, runs: Record<string, unknown>[]) {
  if (runs.length === 0) return;
  const m = (key: string) => medianOf(runs, key);
  ctx.note(
    `${what}, where the relay's time goes (medians over the runs): ${m('claims')} claims of ` +
      `${m('messagesPerClaim')} messages, ${m('claimMs')} ms each, keeping the claim loop busy ` +
      `${m('claimLoopBusyPct')} % of the drain (with ${m('nextDueQueries')} next-due queries); ` +
      `${m('records')} record transactions of ${m('outcomesPerRecord')} outcomes, ` +
      `${m('recordMs')} ms each, busy ${m('recordBusyPct')} %; attempts ${m('attemptMs')} ms ` +
      `each, ${m('attemptsInFlight')} in flight on average (of ${DEFAULT_CONCURRENCY}); ` +
      `CPU, % of one core: ${cpuSummary(runs)}; machine ${Math.round(m('machineBusyPct'))} % busy`,
  );
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

/** EXPLAIN (ANALYZE, BUFFERS) of the relay's claim against the full drain backlog, rolled back. */
async function explainClaim(rig: Rig) {
  const { store, ctx } = rig;
  const backlog = await restoreQueue(store, 'drain');
  const statement = claimStatement({ limit: 100, leaseMs: defaultLeaseMs(15_000) });
  const plan = await rolledBack(store.database, async (tx) => {
    const rows = await queryRows<{
      'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time': number }>;
    }>(tx, sql`explain (analyze, buffers, format json) ${statement}`);
    return rows[0]?.['QUERY PLAN'][0];
  });
  if (!plan) throw new Error('EXPLAIN of the claim returned no plan');
  const nodes = flatten(plan.Plan);
  const scans = nodes
    .filter((node) => node['Node Type'].includes('Scan') && node['Relation Name'] === 'messages')
    .map((node) => {
      const index = node['Index Name'] ? ` using ${node['Index Name']}` : '';
      const loops = (node['Actual Loops'] ?? 1) > 1 ? ` × ${node['Actual Loops']}` : '';
      return `${node['Node Type']}${index} (${node['Actual Rows'] ?? 0} rows${loops})`;
    });
  const buffers = (plan.Plan['Shared Hit Blocks'] ?? 0) + (plan.Plan['Shared Read Blocks'] ?? 0);
  ctx.note(
    `claim of 100 with ${backlog.toLocaleString('en-US')} messages queued: ` +
      `${plan['Execution Time'].toFixed(2)} ms, ${buffers} buffers; ${scans.join('; ')}`,
  );
}

class Rollback extends Error {}

async function rolledBack<T>(database: Database, work: (tx: Database['db']) => Promise<T>) {
  let result: T | undefined;
  try {
    await database.db.transaction(async (tx) => {
      result = await work(tx);
      throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  }
  return result;
}

function flatten(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(flatten)];
}

async function measureLatency(rig: Rig, sizes: Sizes, processes: 1 | 2) {
  const { ctx, store, receiver } = rig;
  const relays = await startRelays(rig.location, processes);
  ctx.defer(() => Promise.all(relays.map((relay) => relay.stop())));
  const key = processes === 1 ? 'latency' : 'latency-2proc';
  const warmupSeconds = sizes.latencyWarmupMs / 1000;
  const label = processes === 1 ? 'Verihook latency' : 'Verihook latency, 2 relay processes';
  const produced: number[] = [];
  await ctx.measure({
    runs: sizes.runs,
    warmup:
      sizes.latencyWarmupMs === 0
        ? { runs: 0, description: 'none' }
        : {
            runs: 1,
            description: `1 × ${LATENCY_RATE_PER_SECOND} events/s for ${warmupSeconds} s`,
          },
    method: {
      concurrency: processes === 1 ? ONE_PROCESS : `2 relay processes × ${DEFAULT_CONCURRENCY}`,
      payloadBytes: rig.payloadBytes,
      perRun: `${LATENCY_RATE_PER_SECOND} events/s for ${sizes.latencyMs / 1000} s`,
      notes: DRAIN_NOTES,
    },
    figures: {
      [`${key}-p50`]: { label: `${label} p50, commit to receipt`, unit: 'ms', better: 'lower' },
      [`${key}-p99`]: { label: `${label} p99, commit to receipt`, unit: 'ms', better: 'lower' },
    } as Record<string, MeasuredFigureSpec>,
    async sample(run): Promise<Sample<string>> {
      const durationMs = run.warmup ? sizes.latencyWarmupMs : sizes.latencyMs;
      const count = Math.round((LATENCY_RATE_PER_SECOND * durationMs) / 1000);
      const tag = runTag(`lat${processes}`, run.index + (run.warmup ? 100 : 0));
      await receiver.reset();
      const probe = await startRunProbe(rig, relays);
      const started = epochMs();
      const committedByEvent = await producePaced({
        count,
        durationMs,
        send: (n) => produceOne(store, tag, n),
      });
      const producedMs = epochMs() - started;
      if (!run.warmup) produced.push((count / producedMs) * 1000);
      const done = await waitForDeliveries(receiver, count, 60_000);
      const cpu = await probe();
      const messageIds = await messageIdsOf(store, [...committedByEvent.keys()]);
      const committedAt = new Map<string, number>();
      for (const [eventId, at] of committedByEvent) {
        const id = messageIds.get(eventId);
        if (id === undefined) throw new Error(`event ${eventId} has no message`);
        committedAt.set(id, at);
      }
      const latency = await commitToReceipt(receiver, committedAt);
      return {
        values: { [`${key}-p50`]: latency.p50, [`${key}-p99`]: latency.p99 },
        details: {
          ...done.details,
          ...cpu,
          producedPerSecond: Math.round((count / producedMs) * 1000),
          maxLatencyMs: Math.round(latency.max),
        },
      };
    },
  });
  await Promise.all(relays.map((relay) => relay.stop()));
  const rate = Math.round(summarise(produced).median);
  const queue = JSON.stringify(await queueCounts(store));
  ctx.note(`${key}: the producer kept ${rate} events/s (median); queue after the runs: ${queue}`);
}

/** A PGlite data directory with the backlog saved, and a receiver for its one endpoint. */
async function preparePglite(ctx: StageContext, sizes: Sizes): Promise<Omit<Rig, 'store'>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'vh-bench-pglite-'));
  ctx.defer(() => rm(dataDir, { recursive: true, force: true }));
  const location = { dataDir };
  const setup = await openRelayStore(location);
  try {
    const [endpoint] = await createEndpoints(setup, 1);
    if (!endpoint) throw new Error('no endpoint created');
    const receiver = await startReceiver({ secrets: [endpoint.secret] });
    ctx.defer(receiver.stop);
    await pointEndpoints(setup, [endpoint], receiver);
    const started = performance.now();
    await produceBacklog(setup, {
      tag: runTag('pglite', 0),
      count: sizes.pgliteEvents,
      perTransaction: PER_TRANSACTION,
      producers: 1,
    });
    const seconds = (performance.now() - started) / 1000;
    await saveQueue(setup, 'drain');
    ctx.note(
      `pglite backlog: ${sizes.pgliteEvents.toLocaleString('en-US')} events written through ` +
        `recordEvent into PGlite in ${seconds.toFixed(1)} s`,
    );
    return { ctx, location, receiver, payloadBytes: await medianBodyBytes(setup) };
  } finally {
    await setup.close();
  }
}

async function measurePglite(ctx: StageContext, sizes: Sizes) {
  const rig = await preparePglite(ctx, sizes);
  // PGlite belongs to one process: the store closes before the relay opens the data directory.
  const fill = async () => {
    const store = await openRelayStore(rig.location);
    try {
      return await restoreQueue(store, 'drain');
    } finally {
      await store.close();
    }
  };
  const runs: Record<string, unknown>[] = [];
  await ctx.measure({
    runs: sizes.runs,
    warmup: { runs: 0, description: 'none (PostgreSQL drains ran before)' },
    method: {
      concurrency: ONE_PROCESS,
      payloadBytes: rig.payloadBytes,
      perRun: `${sizes.pgliteEvents.toLocaleString('en-US')} queued events, 1 endpoint`,
      notes: DRAIN_NOTES,
    },
    figures: {
      'pglite-drain': { label: 'Verihook drain on PGlite', unit: 'deliveries/s', better: 'higher' },
    },
    async sample() {
      const drained = await drainOnce(rig, fill, sizes.pgliteEvents, 1);
      runs.push(drained.details);
      return { values: { 'pglite-drain': drained.rate }, details: drained.details };
    },
  });
  noteTimeSplit(ctx, 'pglite drain', runs);
}
