// The consumer: verified-and-parsed requests per second through the consumer app's full
// `POST /webhooks` path, against raw svix verification of the same requests in a loop.
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEvent, type VerihookEvent } from '@verihook/events';
import { EXAMPLES } from '@verihook/events/examples';
import { Webhook } from 'svix';
import { Pool } from 'undici';
import { freePort, spawnCommand, waitUntilServing } from '../child.ts';
import { defineStage, type StageContext } from '../harness.ts';
import { runBounded } from '../load.ts';
import { runTag } from '../payload.ts';
import { generateSecret, type SignedHeaders, secretKey, signHeaders } from '../signing.ts';
import { summarise } from '../stats.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CONCURRENCY = 16;
const READY_TIMEOUT_MS = 45_000;
const RAW_PASSES = 3;
const CONSUMER_NOTES =
  'svix: `new Webhook(secret).verify(body, headers)` in one loop in this process, ' +
  `${RAW_PASSES} passes over the run's requests. svix-parse: the same, then \`parseEvent\` ` +
  `from @verihook/events. full: the same requests POSTed once each at concurrency ` +
  `${CONCURRENCY} (undici Pool) to the consumer app, started with DATABASE_URL=memory:// ` +
  '(each event commits to in-memory PGlite); requests / wall time, every answer a 2xx.';

export interface ConsumerCommand {
  command: string;
  args: string[];
  cwd: string;
  /** A file whose absence means the app is not built yet: the full-path part is skipped. */
  requiredFile: string;
}

export const DEFAULT_CONSUMER: ConsumerCommand = {
  command: 'pnpm',
  args: ['--filter', '@verihook/consumer', 'start'],
  cwd: REPO_ROOT,
  requiredFile: join(REPO_ROOT, 'apps/consumer/src/index.ts'),
};

interface SignedRequest {
  body: string;
  headers: SignedHeaders;
}

/** The consumer stage for a given way of starting the consumer app. */
export function createConsumerStage(consumer: ConsumerCommand = DEFAULT_CONSUMER) {
  return defineStage({
    id: 'consumer',
    title: 'Consumer: full POST /webhooks path versus raw svix verification',
    timeLimitMs: { full: 120_000, quick: 60_000 },
    async run(ctx) {
      const secret = generateSecret();
      // The full path commits every event to PGlite, a few hundred a second: keep runs short.
      const perRun = ctx.quick ? 500 : 2_000;
      const warmup = ctx.quick ? 200 : 500;
      const runs = 3;
      const batches = Array.from({ length: runs + 1 }, (_, index) =>
        signedRequests(secretKey(secret), runTag('cons', index), index === 0 ? warmup : perRun),
      );
      ctx.note(`request bodies: ${describeSizes(batches)}`);
      await measureRawVerification(ctx, secret, batches);

      if (!existsSync(consumer.requiredFile)) {
        const file = relative(consumer.cwd, consumer.requiredFile);
        ctx.skip(`full path not measured: ${file} does not exist yet`);
      }
      await measureFullPath(ctx, consumer, secret, batches);
    },
  });
}

/** Batch 0 warms up; batch i + 1 is measured run i, in both measurements. */
async function measureRawVerification(
  ctx: StageContext,
  secret: string,
  batches: SignedRequest[][],
) {
  const webhook = new Webhook(secret);
  const { warmup, perRun } = batchSizes(batches);
  await ctx.measure({
    runs: batches.length - 1,
    warmup: { runs: 1, description: `1 × ${warmup} requests` },
    method: {
      concurrency: 1,
      payloadBytes: medianBytes(batches),
      perRun: `${perRun} signed requests`,
      notes: CONSUMER_NOTES,
    },
    figures: {
      svix: { label: 'Raw svix verify, in a loop', unit: 'requests/s', better: 'higher' },
      'svix-parse': { label: 'Raw svix verify + parseEvent', unit: 'requests/s', better: 'higher' },
    },
    async sample(run) {
      const batch = batches[run.warmup ? 0 : run.index + 1] ?? [];
      const verifyOnly = timeLoop(batch, (item) => webhook.verify(item.body, { ...item.headers }));
      const events: VerihookEvent[] = [];
      const withParse = timeLoop(batch, (item) => {
        webhook.verify(item.body, { ...item.headers });
        events.push(parseEvent(item.body));
      });
      if (events.length !== batch.length * RAW_PASSES) throw new Error('not every request parsed');
      return { values: { svix: verifyOnly, 'svix-parse': withParse } };
    },
  });
}

async function measureFullPath(
  ctx: StageContext,
  consumer: ConsumerCommand,
  secret: string,
  batches: SignedRequest[][],
) {
  const port = await freePort();
  const app = spawnCommand(consumer.command, consumer.args, {
    cwd: consumer.cwd,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      WEBHOOK_SECRET: secret,
      DATABASE_URL: 'memory://',
    },
  });
  ctx.defer(app.stop);
  const origin = `http://127.0.0.1:${port}`;
  const startMs = await waitUntilServing(app, `${origin}/healthz`, READY_TIMEOUT_MS, 'consumer');
  ctx.note(`consumer answered ${Math.round(startMs)} ms after its start command`);
  const pool = new Pool(origin, { connections: CONCURRENCY, keepAliveTimeout: 30_000 });
  ctx.defer(() => pool.close());

  const { warmup, perRun } = batchSizes(batches);
  await ctx.measure({
    runs: batches.length - 1,
    warmup: { runs: 1, description: `1 × ${warmup} requests` },
    method: {
      concurrency: CONCURRENCY,
      payloadBytes: medianBytes(batches),
      perRun: `${perRun} signed requests`,
      notes: CONSUMER_NOTES,
    },
    figures: {
      full: {
        label: 'Consumer POST /webhooks, verified + parsed + applied',
        unit: 'requests/s',
        better: 'higher',
      },
    },
    async sample(run) {
      const batch = batches[run.warmup ? 0 : run.index + 1] ?? [];
      const statuses = new Map<number, number>();
      const { elapsedMs } = await runBounded({
        count: batch.length,
        concurrency: CONCURRENCY,
        deadlineMs: 60_000,
        async task(index) {
          const item = batch[index] as SignedRequest;
          const response = await pool.request({
            method: 'POST',
            path: '/webhooks',
            headers: { ...item.headers },
            body: item.body,
          });
          await response.body.dump();
          statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        },
      });
      const accepted = [...statuses].filter(([status]) => status >= 200 && status < 300);
      const acceptedCount = accepted.reduce((sum, [, count]) => sum + count, 0);
      if (acceptedCount !== batch.length) {
        throw new Error(`consumer answered ${JSON.stringify(Object.fromEntries(statuses))}`);
      }
      return {
        values: { full: (batch.length / elapsedMs) * 1000 },
        details: { statuses: Object.fromEntries(statuses) },
      };
    },
  });
}

/** Distinct `domain_created` events (so the consumer applies each), signed now. */
function signedRequests(key: Buffer, tag: string, count: number): SignedRequest[] {
  const base = EXAMPLES.domainCreatedDnsPending;
  const now = new Date().toISOString();
  return Array.from({ length: count }, (_, n) => {
    const suffix = `${tag}${n.toString(36)}`;
    const event: VerihookEvent = {
      ...base,
      id: `evt_${suffix}`,
      occurred_at: now,
      data: {
        ...base.data,
        id: `dom_${suffix}`,
        domain: `d${suffix}.example.com`,
        updated_at: now,
      },
    };
    const body = JSON.stringify(event);
    return { body, headers: signHeaders(key, `msg_${suffix}`, body) };
  });
}

/** Runs `work` over every item, RAW_PASSES times, and answers items per second. */
function timeLoop(batch: SignedRequest[], work: (item: SignedRequest) => void): number {
  const started = performance.now();
  for (let pass = 0; pass < RAW_PASSES; pass += 1) for (const item of batch) work(item);
  return ((batch.length * RAW_PASSES) / (performance.now() - started)) * 1000;
}

function batchSizes(batches: SignedRequest[][]) {
  const count = (batch: SignedRequest[] | undefined) =>
    (batch?.length ?? 0).toLocaleString('en-US');
  return { warmup: count(batches[0]), perRun: count(batches[1]) };
}

function medianBytes(batches: SignedRequest[][]): number {
  return Math.round(summarise(batches.flat().map((item) => Buffer.byteLength(item.body))).median);
}

function describeSizes(batches: SignedRequest[][]): string {
  const sizes = summarise(batches.flat().map((item) => Buffer.byteLength(item.body)));
  return `domain_created events of ${sizes.min}–${sizes.max} B, unique ids per request`;
}
