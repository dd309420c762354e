// The ceiling: the same signed 1 KiB POSTs the relay sends, from a tight undici loop, no database.
import { startCpuProbe } from '../delivery.ts';
import { defineStage, type StageContext } from '../harness.ts';
import { runBounded } from '../load.ts';
import { messageId, PAYLOAD_BYTES, payloadFor, runTag } from '../payload.ts';
import { type Receiver, startReceiver } from '../receiver-client.ts';
import { createSender } from '../sender.ts';
import { assertSignsLikeSvix, generateSecret, secretKey } from '../signing.ts';

const CONCURRENCIES = [16, 32];

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
    for (const concurrency of CONCURRENCIES) {
      await measureCeiling(ctx, receiver, secretKey(secret), concurrency);
    }
  },
});

async function measureCeiling(
  ctx: StageContext,
  receiver: Receiver,
  key: Buffer,
  concurrency: number,
) {
  const requests = ctx.quick ? 3_000 : 20_000;
  const warmupRequests = ctx.quick ? 1_000 : 2_000;
  const sender = createSender(receiver.origin, concurrency);
  ctx.defer(sender.close);
  const path = receiver.endpointPath(0);

  await ctx.measure({
    runs: ctx.quick ? 3 : 5,
    warmup: { runs: 1, description: `1 × ${warmupRequests.toLocaleString('en-US')} requests` },
    method: {
      concurrency,
      payloadBytes: PAYLOAD_BYTES,
      perRun: `${requests.toLocaleString('en-US')} requests`,
      notes:
        'requests / wall time from the first send to the last response; each request signed ' +
        'with node:crypto HMAC, sent through an undici Pool (one connection per request in ' +
        'flight) to the receiver process, which verifies it with svix and answers 204.',
    },
    figures: {
      [`c${concurrency}`]: {
        label: `Ceiling at concurrency ${concurrency}`,
        unit: 'deliveries/s',
        better: 'higher' as const,
      },
    },
    async sample(run) {
      const count = run.warmup ? warmupRequests : requests;
      const tag = runTag(`c${concurrency}`, run.index);
      await receiver.reset();
      const probe = await startCpuProbe({ receiver });
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
      const cpu = await probe();
      const { verified } = await receiver.stats();
      if (verified !== count || rejected > 0) {
        throw new Error(`receiver verified ${verified} of ${count} (${rejected} rejected)`);
      }
      return {
        values: { [`c${concurrency}`]: (count / elapsedMs) * 1000 },
        details: { verified, ...cpu },
      };
    },
  });
}
