// The ceiling: the same signed 1 KiB POSTs the relay sends, from a tight undici loop, no database.
import { cpuSince, markCpu } from '../cpu.ts';
import { startCpuProbe } from '../delivery.ts';
import { defineStage, type MeasuredFigureSpec, type StageContext } from '../harness.ts';
import { runBounded } from '../load.ts';
import { messageId, PAYLOAD_BYTES, payloadFor, runTag } from '../payload.ts';
import { type Receiver, startReceiver } from '../receiver-client.ts';
import { createSender, type Sender } from '../sender.ts';
import { assertSignsLikeSvix, generateSecret, secretKey } from '../signing.ts';

const CONCURRENCIES = [16, 32] as const;
type Variant = `c${(typeof CONCURRENCIES)[number]}`;

export const ceilingStage = defineStage({
  id: 'ceiling',
  title: 'Ceiling: signed POSTs straight from an undici Pool, no database',
  timeLimitMs: { full: 90_000, quick: 30_000 },
  async run(ctx) {
    const secret = generateSecret();
    assertSignsLikeSvix(secret, messageId('sanity', 0), payloadFor(messageId('sanity', 0)));
    ctx.note('node:crypto signature equals svix.sign on a sample, and svix.verify accepts it.');

    const receiver = await startReceiver({ secrets: [secret] });
    ctx.defer(receiver.stop);
    const senders = CONCURRENCIES.map((concurrency) => {
      const sender = createSender(receiver.origin, concurrency);
      ctx.defer(sender.close);
      return { variant: `c${concurrency}` as Variant, concurrency, sender };
    });
    await measureCeiling(ctx, receiver, secretKey(secret), senders);
  },
});

interface SenderVariant {
  variant: Variant;
  concurrency: number;
  sender: Sender;
}

/** Each run sends the requests at every concurrency in turn, so that drifting load on a shared
 * machine falls on both alike. */
async function measureCeiling(
  ctx: StageContext,
  receiver: Receiver,
  key: Buffer,
  senders: SenderVariant[],
) {
  const requests = ctx.quick ? 3_000 : 20_000;
  const warmupRequests = ctx.quick ? 1_000 : 2_000;
  const figures = Object.fromEntries(
    senders.map(({ variant, concurrency }): [Variant, MeasuredFigureSpec] => [
      variant,
      {
        label: `Ceiling at concurrency ${concurrency}`,
        unit: 'deliveries/s',
        better: 'higher',
        method: {
          ...CEILING_METHOD,
          concurrency,
          perRun: `${requests.toLocaleString('en-US')} requests`,
        },
      },
    ]),
  ) as Record<Variant, MeasuredFigureSpec>;

  await ctx.measure({
    runs: ctx.quick ? 3 : 5,
    warmup: {
      runs: 1,
      description: `1 × ${warmupRequests.toLocaleString('en-US')} requests at each concurrency`,
    },
    method: CEILING_METHOD,
    figures,
    async sample(run) {
      const count = run.warmup ? warmupRequests : requests;
      const values = {} as Record<Variant, number>;
      const figureDetails: Partial<Record<Variant, Record<string, unknown>>> = {};
      for (const { variant, concurrency, sender } of senders) {
        const tag = runTag(variant, run.index);
        const result = await sendAll({ receiver, sender, key, count, concurrency, tag });
        values[variant] = result.perSecond;
        figureDetails[variant] = result.details;
      }
      return { values, figureDetails };
    },
  });
}

const CEILING_METHOD = {
  payloadBytes: PAYLOAD_BYTES,
  notes:
    'requests / wall time from the first send to the last response; each request signed with ' +
    'node:crypto HMAC, sent through an undici Pool (one connection per request in flight) to ' +
    'the receiver process, which verifies it with svix and answers 204. Each run sends at ' +
    'concurrency 16, then 32.',
};

interface SendAll {
  receiver: Receiver;
  sender: Sender;
  key: Buffer;
  count: number;
  concurrency: number;
  tag: string;
}

async function sendAll(options: SendAll) {
  const { receiver, sender, key, count, concurrency, tag } = options;
  const path = receiver.endpointPath(0);
  await receiver.reset();
  const probe = await startCpuProbe({ receiver });
  const mark = markCpu();
  let rejected = 0;
  const { elapsedMs } = await runBounded({
    count,
    concurrency,
    deadlineMs: 60_000,
    async task(index) {
      const id = messageId(tag, index);
      const status = await sender.deliver(path, key, id, payloadFor(id));
      if (status !== 204) rejected += 1;
    },
  });
  const cpu = cpuSince(mark);
  const receiverCpu = await probe();
  const { verified } = await receiver.stats();
  if (verified !== count || rejected > 0) {
    throw new Error(`receiver verified ${verified} of ${count} (${rejected} rejected)`);
  }
  return {
    perSecond: (count / elapsedMs) * 1000,
    details: { verified, wallMs: Math.round(elapsedMs), ...cpu, ...receiverCpu },
  };
}
