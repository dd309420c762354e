// Crash safety with real relay processes: SIGKILL in the middle of a batch, and SIGTERM.
import { hasPostgres, type Receiver, startReceiver } from '@verihook/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONCURRENCY } from '../../src/delivery/worker.ts';
import {
  deliveryCounts,
  killAll,
  messageStatusCounts,
  type PreparedDatabase,
  prepareDatabase,
  type RelayProcess,
  spawnRelay,
  workerStarted,
} from './processes.ts';
import { eventually, seedEvents } from './relay.ts';

const processes: RelayProcess[] = [];
let receiver: Receiver | undefined;
let prepared: PreparedDatabase | undefined;

afterEach(async () => {
  await killAll(processes);
  await receiver?.close();
  await prepared?.close();
  receiver = undefined;
  prepared = undefined;
});

function start(databaseUrl: string): RelayProcess {
  const relay = spawnRelay(databaseUrl);
  processes.push(relay);
  return relay;
}

describe.runIf(hasPostgres())('a relay process', () => {
  it('killed with SIGKILL in the middle of 1,000 due messages loses none after a restart', async () => {
    receiver = await startReceiver({ secrets: [], respond: () => ({ status: 204, delayMs: 20 }) });
    prepared = await prepareDatabase('delivery_crash', receiver);
    await seedEvents(prepared.database, 1_000);

    const first = start(prepared.testDatabase.url);
    await receiver.waitFor(300, 30_000);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const atKill = await messageStatusCounts(prepared.database);
    const receivedAtKill = receiver.requests.length;

    const second = start(prepared.testDatabase.url);
    await second.waitForLine(workerStarted);
    const counts = await eventually(
      () => messageStatusCounts(prepared?.database ?? ({} as PreparedDatabase['database'])),
      (statuses) => statuses.succeeded === 1_000,
      30_000,
    );

    expect(atKill.succeeded ?? 0).toBeLessThan(1_000);
    expect(atKill.inflight ?? 0).toBeGreaterThan(0);
    expect(receivedAtKill).toBeLessThan(1_000);
    expect(counts).toEqual({ succeeded: 1_000 });
    const delivered = deliveryCounts(receiver);
    expect(delivered.distinct).toBe(1_000);
    expect(delivered.duplicates).toBeLessThanOrEqual(atKill.inflight ?? 0);
    expect(receiver.requests.every((request) => request.verifiedSvix)).toBe(true);
    process.stdout.write(
      `[crash] killed after ${receivedAtKill} requests with ${atKill.inflight} in flight; ` +
        `${delivered.distinct} distinct messages delivered, ${delivered.duplicates} duplicates\n`,
    );
  }, 60_000);

  it('on SIGTERM finishes and records the attempts in flight, claims nothing more, exits 0', async () => {
    receiver = await startReceiver({ secrets: [], respond: () => ({ status: 200, delayMs: 800 }) });
    prepared = await prepareDatabase('delivery_sigterm', receiver);
    await seedEvents(prepared.database, DEFAULT_CONCURRENCY + 18);

    const relay = start(prepared.testDatabase.url);
    await receiver.waitFor(DEFAULT_CONCURRENCY, 30_000);
    const signalledAt = Date.now();
    relay.child.kill('SIGTERM');
    const code = await relay.exited;
    const stoppedAfterMs = Date.now() - signalledAt;

    expect(code).toBe(0);
    expect(stoppedAfterMs).toBeLessThan(5_000);
    expect(await messageStatusCounts(prepared.database)).toEqual({
      pending: 18,
      succeeded: DEFAULT_CONCURRENCY,
    });
    expect(receiver.requests).toHaveLength(DEFAULT_CONCURRENCY);
    expect(relay.lines.map((line) => line.msg)).toEqual(
      expect.arrayContaining(['shutting down', 'delivery worker stopped', 'stopped']),
    );
  }, 60_000);
});
