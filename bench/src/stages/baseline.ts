// The baseline: a relay built the obvious way on pg-boss, one job per delivery, a worker that
// signs and POSTs each job with undici and completes it.
import PgBoss from 'pg-boss';
import postgres from 'postgres';
import {
  commitToReceipt,
  epochMs,
  producePaced,
  startCpuProbe,
  waitForDeliveries,
} from '../delivery.ts';
import { defineStage, type StageContext } from '../harness.ts';
import { messageId, PAYLOAD_BYTES, payloadFor, runTag } from '../payload.ts';
import { type Receiver, startReceiver } from '../receiver-client.ts';
import { createSender, type Sender } from '../sender.ts';
import { generateSecret, secretKey } from '../signing.ts';

// pg-boss 10 workers sleep for the polling interval after every fetch, jobs or not, so a queue
// drains at most WORKERS × BATCH_SIZE / POLLING_INTERVAL_SECONDS jobs a second: 8,000 here,
// above this machine's ceiling (at 4 × 500 the drain sat at its 4,000 bound).
const POLLING_INTERVAL_SECONDS = 0.5;
const WORKERS = 4;
const BATCH_SIZE = 1_000;
const HTTP_CONNECTIONS = 16;
const PREFILL_BATCH = 1_000;
const PRODUCE_BATCH = 100;
const LATENCY_RATE_PER_SECOND = 500;

interface DeliveryJob {
  path: string;
  messageId: string;
  body: string;
}

interface Rig {
  databaseUrl: string;
  /** A connection of its own to the scratch database, for the CPU probe. */
  probeSql: postgres.Sql;
  databaseName: string;
  receiver: Receiver;
  sender: Sender;
  key: Buffer;
  log(message: string): void;
}

const WORKER_SHAPE =
  `pg-boss 10.4.2: ${WORKERS} workers (work() calls), batchSize ${BATCH_SIZE}, ` +
  `pollingIntervalSeconds ${POLLING_INTERVAL_SECONDS} (its minimum); each job is one delivery, ` +
  `the jobs of a batch are POSTed at once through one undici Pool of ${HTTP_CONNECTIONS} ` +
  'connections and completed together; the receiver process verifies each with svix.';

const BASELINE_NOTES =
  `drain: the backlog is inserted (${PREFILL_BATCH} jobs per insert) before the workers start; ` +
  'events / time from starting the workers to the receiver answering the last one. ' +
  `produce-drain: the workers run while a producer inserts ${PRODUCE_BATCH} jobs per insert as ` +
  'fast as it can; events / time from the first insert to the last receipt. latency: ' +
  `${LATENCY_RATE_PER_SECOND} events/s, one boss.send() each, from its commit acknowledgement ` +
  `to the receipt (quantiles over each run's events). ${WORKER_SHAPE}`;

export const baselineStage = defineStage({
  id: 'baseline',
  title: 'Baseline: pg-boss, one job per delivery',
  needsDatabase: true,
  timeLimitMs: { full: 150_000, quick: 45_000 },
  async run(ctx) {
    const secret = generateSecret();
    const receiver = await startReceiver({ secrets: [secret] });
    ctx.defer(receiver.stop);
    const sender = createSender(receiver.origin, HTTP_CONNECTIONS);
    ctx.defer(sender.close);
    const databaseUrl = await ctx.scratchDatabase('baseline');
    const probeSql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    ctx.defer(() => probeSql.end({ timeout: 5 }));
    const rig: Rig = {
      databaseUrl,
      probeSql,
      databaseName: new URL(databaseUrl).pathname.slice(1),
      receiver,
      sender,
      key: secretKey(secret),
      log: ctx.log,
    };

    await measureDrain(ctx, rig);
    await measureProduceAndDrain(ctx, rig);
    await measureLatency(ctx, rig);
  },
});

async function measureDrain(ctx: StageContext, rig: Rig) {
  const events = ctx.quick ? 3_000 : 20_000;
  await ctx.measure({
    runs: 3,
    warmup: { runs: 1, description: '1 × 2,000-job drain' },
    method: {
      concurrency: `${WORKERS} × ${BATCH_SIZE} jobs, ${HTTP_CONNECTIONS} HTTP`,
      payloadBytes: PAYLOAD_BYTES,
      perRun: `${events.toLocaleString('en-US')} queued events, 1 endpoint`,
      notes: BASELINE_NOTES,
    },
    figures: { drain: { label: 'Baseline drain', unit: 'deliveries/s', better: 'higher' } },
    async sample(run) {
      const count = run.warmup ? 2_000 : events;
      return withBoss(rig, runTag('drain', run.index), async (boss, queue) => {
        await insertJobs(boss, queue, rig.receiver, count, PREFILL_BATCH, 'drain', run.index);
        await rig.receiver.reset();
        const probe = await startProbe(rig);
        const started = epochMs();
        await startWorkers(boss, queue, rig);
        const done = await waitForDeliveries(rig.receiver, count, 90_000);
        const elapsedMs = done.reachedAt - started;
        const cpu = await probe();
        return {
          values: { drain: (count / elapsedMs) * 1000 },
          details: { ...done.details, ...cpu },
        };
      });
    },
  });
}

async function measureProduceAndDrain(ctx: StageContext, rig: Rig) {
  const events = ctx.quick ? 3_000 : 20_000;
  await ctx.measure({
    runs: 3,
    warmup: { runs: 0, description: 'none (the drain runs warmed up)' },
    method: {
      concurrency: `${WORKERS} × ${BATCH_SIZE} jobs, ${HTTP_CONNECTIONS} HTTP`,
      payloadBytes: PAYLOAD_BYTES,
      perRun: `${events.toLocaleString('en-US')} events produced, 1 endpoint`,
      notes: BASELINE_NOTES,
    },
    figures: {
      'produce-drain': {
        label: 'Baseline produce + drain',
        unit: 'deliveries/s',
        better: 'higher',
      },
    },
    async sample(run) {
      return withBoss(rig, runTag('produce', run.index), async (boss, queue) => {
        await rig.receiver.reset();
        await startWorkers(boss, queue, rig);
        const probe = await startProbe(rig);
        const started = epochMs();
        await insertJobs(boss, queue, rig.receiver, events, PRODUCE_BATCH, 'produce', run.index);
        const done = await waitForDeliveries(rig.receiver, events, 90_000);
        const elapsedMs = done.reachedAt - started;
        const cpu = await probe();
        return {
          values: { 'produce-drain': (events / elapsedMs) * 1000 },
          details: { ...done.details, ...cpu },
        };
      });
    },
  });
}

async function measureLatency(ctx: StageContext, rig: Rig) {
  const durationMs = ctx.quick ? 2_000 : 10_000;
  const events = (LATENCY_RATE_PER_SECOND * durationMs) / 1000;
  await ctx.measure({
    runs: 3,
    warmup: { runs: 0, description: 'none (the drain runs warmed up)' },
    method: {
      concurrency: `${WORKERS} × ${BATCH_SIZE} jobs, ${HTTP_CONNECTIONS} HTTP`,
      payloadBytes: PAYLOAD_BYTES,
      perRun: `${LATENCY_RATE_PER_SECOND} events/s for ${durationMs / 1000} s`,
      notes: BASELINE_NOTES,
    },
    figures: {
      'latency-p50': {
        label: 'Baseline latency p50, commit to receipt',
        unit: 'ms',
        better: 'lower',
      },
      'latency-p99': {
        label: 'Baseline latency p99, commit to receipt',
        unit: 'ms',
        better: 'lower',
      },
    },
    async sample(run) {
      return withBoss(rig, runTag('latency', run.index), async (boss, queue) => {
        await rig.receiver.reset();
        await startWorkers(boss, queue, rig);
        const tag = runTag('latency', run.index);
        const probe = await startProbe(rig);
        const committedAt = await producePaced({
          count: events,
          durationMs,
          async send(index) {
            const data = deliveryJob(rig.receiver, messageId(tag, index));
            await boss.send(queue, data);
            return data.messageId;
          },
        });
        const done = await waitForDeliveries(rig.receiver, events, 60_000);
        const cpu = await probe();
        const latency = await commitToReceipt(rig.receiver, committedAt);
        return {
          values: { 'latency-p50': latency.p50, 'latency-p99': latency.p99 },
          details: { ...done.details, ...cpu, maxLatencyMs: Math.round(latency.max) },
        };
      });
    },
  });
}

function startProbe(rig: Rig) {
  const postgres = { sql: rig.probeSql, database: rig.databaseName };
  return startCpuProbe({ receiver: rig.receiver, postgres });
}

/** Starts a pg-boss instance with its own queue for one run, and stops it after. */
async function withBoss<T>(
  rig: Rig,
  queue: string,
  work: (boss: PgBoss, queue: string) => Promise<T>,
): Promise<T> {
  const boss = new PgBoss({ connectionString: rig.databaseUrl, schedule: false });
  boss.on('error', (error: Error) => rig.log(`pg-boss error: ${error.message}`));
  await boss.start();
  try {
    await boss.createQueue(queue);
    return await work(boss, queue);
  } finally {
    await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
  }
}

async function startWorkers(boss: PgBoss, queue: string, rig: Rig) {
  const options = { batchSize: BATCH_SIZE, pollingIntervalSeconds: POLLING_INTERVAL_SECONDS };
  const deliver = async (job: PgBoss.Job<DeliveryJob>) => {
    const { path, messageId: id, body } = job.data;
    const status = await rig.sender.deliver(path, rig.key, id, body);
    if (status < 200 || status > 299) throw new Error(`endpoint answered ${status}`);
  };
  for (let worker = 0; worker < WORKERS; worker += 1) {
    await boss.work<DeliveryJob>(queue, options, async (jobs) => {
      await Promise.all(jobs.map(deliver));
    });
  }
}

async function insertJobs(
  boss: PgBoss,
  queue: string,
  receiver: Receiver,
  count: number,
  batchSize: number,
  label: string,
  runIndex: number,
) {
  const tag = runTag(label, runIndex);
  for (let first = 0; first < count; first += batchSize) {
    const jobs: PgBoss.JobInsert<DeliveryJob>[] = [];
    for (let n = first; n < Math.min(first + batchSize, count); n += 1) {
      jobs.push({ name: queue, data: deliveryJob(receiver, messageId(tag, n)) });
    }
    await boss.insert(jobs);
  }
}

function deliveryJob(receiver: Receiver, id: string): DeliveryJob {
  return { path: receiver.endpointPath(0), messageId: id, body: payloadFor(id) };
}
