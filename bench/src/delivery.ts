// Helpers for the delivery stages: paced production, waiting for the receiver, and latency
// from commit to receipt (both clocks are epoch milliseconds of this machine).
import type { Sql } from 'postgres';
import { backendCpuMs } from './cpu.ts';
import { sleep } from './load.ts';
import type { Receiver } from './receiver-client.ts';
import { quantile } from './stats.ts';

/** Epoch milliseconds with sub-millisecond precision, comparable across local processes. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface PacedProduction {
  count: number;
  durationMs: number;
  /** Produces event `index` in its own transaction and answers its message id once committed. */
  send(index: number): Promise<string>;
}

/** Produces `count` events evenly over `durationMs`; answers each message id's commit time. */
export async function producePaced(production: PacedProduction): Promise<Map<string, number>> {
  const { count, durationMs } = production;
  const committedAt = new Map<string, number>();
  const failures: unknown[] = [];
  const pending: Promise<unknown>[] = [];
  const started = performance.now();
  let sent = 0;
  while (sent < count && failures.length === 0) {
    const due = Math.min(count, Math.floor(((performance.now() - started) / durationMs) * count));
    for (; sent < due; sent += 1) {
      const committed = production.send(sent).then(
        (id) => committedAt.set(id, epochMs()),
        (error: unknown) => failures.push(error),
      );
      pending.push(committed);
    }
    if (performance.now() - started > durationMs * 3)
      failures.push(new Error('producer fell behind'));
    await sleep(2);
  }
  await Promise.all(pending);
  if (failures.length > 0) throw failures[0];
  return committedAt;
}

/** Waits until the receiver answered `count` requests; throws if any failed verification. */
export async function waitForDeliveries(receiver: Receiver, count: number, timeoutMs: number) {
  const result = await receiver.waitFor(count, timeoutMs);
  if (!result.reached || result.reachedAt === null) {
    const got = result.verified + result.failed;
    throw new Error(`receiver got ${got} of ${count} deliveries in ${timeoutMs} ms`);
  }
  if (result.failed > 0) throw new Error(`receiver rejected ${result.failed} deliveries`);
  return {
    /** When the receiver answered the count-th delivery (epoch ms). */
    reachedAt: result.reachedAt,
    details: { verified: result.verified, duplicates: result.duplicates },
  };
}

export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
}

/** Commit-to-receipt latency of every committed message, from the receiver's receipts. */
export async function commitToReceipt(
  receiver: Receiver,
  committedAt: Map<string, number>,
): Promise<LatencySummary> {
  const receipts = await receiver.receipts();
  const latencies: number[] = [];
  for (const [id, commit] of committedAt) {
    const receipt = receipts.get(id);
    if (receipt === undefined) throw new Error(`no receipt for ${id}`);
    latencies.push(receipt - commit);
  }
  latencies.sort((a, b) => a - b);
  return {
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: latencies.at(-1) ?? 0,
  };
}

export interface CpuProbeTargets {
  receiver?: Receiver;
  /** A connection to the database whose backends are measured, and that database's name. */
  postgres?: { sql: Sql; database: string };
}

/** Starts measuring the receiver's and the PostgreSQL backends' CPU; the function it answers
 * ends the measurement with `receiverCorePct` and `postgresCorePct` (per cent of one core). */
export async function startCpuProbe(targets: CpuProbeTargets) {
  const { receiver, postgres } = targets;
  const started = performance.now();
  const receiverBefore = receiver ? (await receiver.stats()).cpuMs : 0;
  const backendsBefore = postgres ? await backendCpuMs(postgres.sql, postgres.database) : undefined;

  return async (): Promise<Record<string, number>> => {
    const elapsedMs = performance.now() - started;
    const percent = (ms: number) => Math.round((ms / elapsedMs) * 100);
    const result: Record<string, number> = {};
    if (receiver) result.receiverCorePct = percent((await receiver.stats()).cpuMs - receiverBefore);
    if (postgres && backendsBefore) {
      const after = await backendCpuMs(postgres.sql, postgres.database);
      let usedMs = 0;
      for (const [pid, ms] of after) usedMs += ms - (backendsBefore.get(pid) ?? 0);
      result.postgresCorePct = percent(usedMs);
    }
    return result;
  };
}
