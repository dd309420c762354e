import { startDnsServer, type TestDnsServer } from '@verihook/testing';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.ts';
import type { Db } from '../../src/db/index.ts';
import { domains } from '../../src/db/schema/index.ts';
import { createTxtChecker } from '../../src/verification/checker.ts';
import { startVerificationScheduler } from '../../src/verification/scheduler.ts';
import {
  BACKENDS,
  backendAvailable,
  captureLogs,
  openTestBackend,
  type TestBackend,
  testConfig,
} from '../helpers.ts';
import {
  addDnsDomain,
  challengeName,
  domainRow,
  eventsOfDomain,
  newOrganization,
  publish,
  sleep,
  waitFor,
} from './support.ts';

const SUCCESS = 'organization.domain_dns_verification_success';
const FAILED = 'organization.domain_dns_verification_failed';

let server: TestDnsServer;

beforeAll(async () => {
  server = await startDnsServer();
});

afterAll(() => server.close());

beforeEach(() => server.clear());

describe.each(BACKENDS)('startVerificationScheduler on %s', (backend) => {
  let test: TestBackend;
  let db: Db;
  let stops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    if (!backendAvailable(backend)) return;
    test = await openTestBackend(backend, 'verification_scheduler');
    db = test.database.db;
  });

  afterEach(async () => {
    for (const stop of stops) await stop();
    stops = [];
    if (db) await db.delete(domains);
  });

  afterAll(() => test?.dispose());

  function config(env: Record<string, string> = {}): Config {
    return testConfig({
      VERIHOOK_DNS_SERVERS: server.address,
      VERIHOOK_DNS_TIMEOUT: '150ms',
      VERIHOOK_CHECK_SCHEDULE: '200ms',
      VERIHOOK_VERIFICATION_WINDOW: '1h',
      ...env,
    });
  }

  function start(cfg: Config, leaseMs?: number) {
    const logs = captureLogs();
    const checker = createTxtChecker({ servers: cfg.dnsServers, timeoutMs: 150, tries: 1 });
    const stop = startVerificationScheduler(
      { database: test.database, config: cfg, logger: logs.logger },
      { checker, intervalMs: 100, ...(leaseMs === undefined ? {} : { leaseMs }) },
    );
    stops.push(stop);
    return { logs, stop };
  }

  const checkLines = (lines: Record<string, unknown>[], domainId: string) =>
    lines.filter((line) => line.msg === 'domain check' && line.domain_id === domainId);

  const runIf = it.skipIf(!backendAvailable(backend));

  runIf('verifies a domain within seconds of its record appearing, once', async () => {
    const cfg = config();
    const organization = await newOrganization(db);
    const row = await addDnsDomain(db, organization.id, 'scheduled.test', cfg);
    const { logs } = start(cfg);

    await waitFor(
      async () => ((await domainRow(db, row.id)).checkCount >= 2 ? true : undefined),
      10_000,
      'two checks of the unpublished record',
    );
    publish(server, row);
    const publishedAt = Date.now();
    const verified = await waitFor(
      async () => {
        const current = await domainRow(db, row.id);
        return current.verificationStatus === 'VERIFIED' ? current : undefined;
      },
      10_000,
      'the domain to verify',
    );
    const verifiedAfterMs = Date.now() - publishedAt;
    await sleep(500);

    expect(verifiedAfterMs).toBeLessThan(3_000);
    expect(verified).toMatchObject({
      verificationStatus: 'VERIFIED',
      nextCheckAt: null,
      checkLeaseUntil: null,
      lastCheckResult: { outcome: 'found' },
    });
    expect(await eventsOfDomain(db, row.id, SUCCESS)).toHaveLength(1);
    const lines = checkLines(logs.lines(), row.id);
    expect(lines.map((line) => line.outcome).at(-1)).toBe('found');
    expect(lines.slice(0, -1).every((line) => line.outcome === 'nxdomain')).toBe(true);
    expect(lines.at(-1)).toMatchObject({
      level: 'info',
      worker: 'verification',
      domain: 'scheduled.test',
      transition: 'verified',
      verification_status: 'VERIFIED',
      duration_ms: expect.any(Number),
    });
    const queriesOfName = server.queries().filter((query) => query.name === challengeName(row));
    expect(queriesOfName).toHaveLength(lines.length);
    expect(JSON.stringify(logs.lines())).not.toContain(row.txtRecordSecret);
  });

  runIf('fails a domain when the window ends, with one failed event', async () => {
    const cfg = config({ VERIHOOK_VERIFICATION_WINDOW: '1s' });
    const organization = await newOrganization(db);
    const row = await addDnsDomain(db, organization.id, 'window.test', cfg);
    const { logs } = start(cfg);

    const failed = await waitFor(
      async () => {
        const current = await domainRow(db, row.id);
        return current.verificationStatus === 'FAILED' ? current : undefined;
      },
      10_000,
      'the window to end',
    );
    const queriesAtFailure = server.queries().length;
    await sleep(600);

    expect(failed).toMatchObject({
      failureReason: 'verification_window_expired',
      nextCheckAt: null,
      lastCheckResult: { outcome: 'nxdomain' },
    });
    expect(failed.lastCheckedAt?.getTime()).toBeGreaterThanOrEqual(
      row.verificationExpiresAt?.getTime() ?? Number.NaN,
    );
    const failedEvents = await eventsOfDomain(db, row.id, FAILED);
    expect(failedEvents).toHaveLength(1);
    expect(failedEvents[0]?.payload).toMatchObject({
      data: { verification_status: 'FAILED', failure_reason: 'verification_window_expired' },
    });
    expect(server.queries()).toHaveLength(queriesAtFailure);
    expect(checkLines(logs.lines(), row.id).at(-1)).toMatchObject({ transition: 'failed' });
  });

  runIf('fails the other organization’s claim when one verifies', async () => {
    const cfg = config();
    const first = await newOrganization(db, 'First Corp');
    const second = await newOrganization(db, 'Second Corp');
    const winner = await addDnsDomain(db, first.id, 'both.test', cfg);
    const loser = await addDnsDomain(db, second.id, 'both.test', cfg);
    publish(server, winner);
    start(cfg);

    await waitFor(
      async () =>
        (await domainRow(db, loser.id)).verificationStatus === 'FAILED' ? true : undefined,
      10_000,
      'the losing claim to fail',
    );
    await sleep(400);

    expect((await domainRow(db, winner.id)).verificationStatus).toBe('VERIFIED');
    expect(await domainRow(db, loser.id)).toMatchObject({
      failureReason: 'verified_by_other_organization',
    });
    expect(await eventsOfDomain(db, winner.id, SUCCESS)).toHaveLength(1);
    const failedEvents = await eventsOfDomain(db, loser.id, FAILED);
    expect(failedEvents).toHaveLength(1);
    expect(failedEvents[0]?.organizationId).toBe(second.id);
  });

  runIf('keeps a domain pending through DNS failures and verifies it after', async () => {
    const cfg = config();
    const organization = await newOrganization(db);
    const row = await addDnsDomain(db, organization.id, 'outage.test', cfg);
    server.setServfail(challengeName(row));
    const { logs } = start(cfg);

    await waitFor(
      async () => (checkLines(logs.lines(), row.id).length >= 4 ? true : undefined),
      10_000,
      'four checks during the outage',
    );
    const during = await domainRow(db, row.id);
    publish(server, row);
    await waitFor(
      async () =>
        (await domainRow(db, row.id)).verificationStatus === 'VERIFIED' ? true : undefined,
      10_000,
      'the domain to verify after the outage',
    );

    expect(during).toMatchObject({
      verificationStatus: 'PENDING',
      checkCount: 0,
      lastCheckResult: { outcome: 'servfail' },
    });
    const outcomes = checkLines(logs.lines(), row.id).map((line) => line.outcome);
    expect(outcomes.length).toBeGreaterThanOrEqual(5);
    expect(outcomes.at(-1)).toBe('found');
    expect(new Set(outcomes.slice(0, -1))).toEqual(new Set(['servfail']));
    expect(await eventsOfDomain(db, row.id, FAILED)).toHaveLength(0);
    expect(await eventsOfDomain(db, row.id, SUCCESS)).toHaveLength(1);
  });

  runIf('keeps going when a check throws, and retries that domain after its lease', async () => {
    const cfg = config();
    const organization = await newOrganization(db);
    const broken = await addDnsDomain(db, organization.id, 'broken.test', cfg);
    await db.update(domains).set({ txtRecordKey: 'Not A Label' }).where(eq(domains.id, broken.id));
    const healthy = await addDnsDomain(db, organization.id, 'healthy.test', cfg);
    publish(server, healthy);
    const { logs } = start(cfg, 300);

    await waitFor(
      async () =>
        (await domainRow(db, healthy.id)).verificationStatus === 'VERIFIED' ? true : undefined,
      10_000,
      'the healthy domain to verify',
    );
    const brokenErrors = () =>
      logs.lines().filter((line) => line.domain_id === broken.id && line.level === 'error');
    const failures = await waitFor(
      async () => (brokenErrors().length >= 2 ? brokenErrors() : undefined),
      10_000,
      'the broken domain to be tried twice',
    );

    expect(failures[0]).toMatchObject({
      msg: 'domain check failed; the domain is due again when its lease ends',
      domain: 'broken.test',
      err: { type: 'TxtCheckerError', code: 'invalid_check_input' },
    });
    const stored = await domainRow(db, broken.id);
    expect(stored).toMatchObject({ verificationStatus: 'PENDING', checkCount: 0 });
    expect(stored.checkLeaseUntil?.getTime()).toBe(stored.nextCheckAt?.getTime());
  });

  runIf('stops claiming when stopped', async () => {
    const cfg = config();
    const { stop } = start(cfg);
    await stop();
    const organization = await newOrganization(db);
    const row = await addDnsDomain(db, organization.id, 'after-stop.test', cfg);

    await sleep(500);

    expect(await domainRow(db, row.id)).toMatchObject({ checkCount: 0, lastCheckedAt: null });
    expect(server.queries()).toEqual([]);
  });
});
