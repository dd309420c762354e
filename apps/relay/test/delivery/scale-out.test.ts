// Two relay processes on one database share the deliveries without double-claiming.
import { hasPostgres, type Receiver, startReceiver } from '@verihook/testing';
import { afterEach, describe, expect, it } from 'vitest';
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

const DUPLICATE_BOUND = 5;

const processes: RelayProcess[] = [];
let receiver: Receiver | undefined;
let prepared: PreparedDatabase | undefined;

afterEach(async () => {
  await killAll(processes);
  await receiver?.close();
  await prepared?.close();
});

function attemptsLogged(relay: RelayProcess): number {
  return relay.lines.filter((line) => String(line.msg).startsWith('delivery attempt')).length;
}

describe.runIf(hasPostgres())('two relay processes on one database', () => {
  it('deliver 2,000 messages between them, each at least once, duplicates counted', async () => {
    receiver = await startReceiver({ secrets: [], respond: () => ({ status: 204, delayMs: 10 }) });
    prepared = await prepareDatabase('delivery_scale_out', receiver);
    const relays = [spawnRelay(prepared.testDatabase.url), spawnRelay(prepared.testDatabase.url)];
    processes.push(...relays);
    await Promise.all(relays.map((relay) => relay.waitForLine(workerStarted)));

    await seedEvents(prepared.database, 2_000);
    const counts = await eventually(
      () => messageStatusCounts(prepared?.database ?? ({} as PreparedDatabase['database'])),
      (statuses) => statuses.succeeded === 2_000,
      40_000,
    );

    const delivered = deliveryCounts(receiver);
    const perProcess = relays.map(attemptsLogged);
    process.stdout.write(
      `[scale-out] ${delivered.requests} requests, ${delivered.distinct} distinct messages, ` +
        `${delivered.duplicates} duplicates; attempts per process: ${perProcess.join(' + ')}\n`,
    );
    expect(counts).toEqual({ succeeded: 2_000 });
    expect(delivered.distinct).toBe(2_000);
    expect(delivered.duplicates).toBeLessThanOrEqual(DUPLICATE_BOUND);
    expect(perProcess.every((attempts) => attempts > 0)).toBe(true);
    expect(perProcess.reduce((sum, attempts) => sum + attempts, 0)).toBe(delivered.requests);
  }, 60_000);
});
