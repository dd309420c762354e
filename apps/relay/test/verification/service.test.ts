import { hasPostgres, startDnsServer, type TestDnsServer } from '@verihook/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/index.ts';
import { domains } from '../../src/db/schema/index.ts';
import { createDomain } from '../../src/domains/service.ts';
import {
  type CheckResult,
  createTxtChecker,
  type TxtChecker,
} from '../../src/verification/checker.ts';
import {
  applyCheckResult,
  type CheckPolicy,
  checkLeaseMs,
  expiryGraceMs,
  nextCheckDelayMs,
  recordCheck,
} from '../../src/verification/service.ts';
import { BACKENDS, backendAvailable, openTestBackend, type TestBackend } from '../helpers.ts';
import {
  addDnsDomain,
  domainRow,
  eventsOfDomain,
  newOrganization,
  publish,
  sleep,
} from './support.ts';

const POLICY = {
  checkScheduleMs: [1_000, 5_000, 60_000],
  verificationWindowMs: 3_600_000,
};
const SUCCESS = 'organization.domain_dns_verification_success';
const FAILED = 'organization.domain_dns_verification_failed';

let server: TestDnsServer;
let checker: TxtChecker;

beforeAll(async () => {
  server = await startDnsServer();
  checker = createTxtChecker({ servers: [server.address], timeoutMs: 200, tries: 1 });
});

afterAll(() => server.close());

beforeEach(() => server.clear());

describe('nextCheckDelayMs', () => {
  it('takes the step of the check count and repeats the last step', () => {
    const schedule = [10, 20, 30];

    expect([0, 1, 2, 3, 50].map((count) => nextCheckDelayMs(schedule, count))).toEqual([
      10, 20, 30, 30, 30,
    ]);
    expect(expiryGraceMs(schedule)).toBe(30);
  });
});

describe('checkLeaseMs', () => {
  it('is three times the longest check, and at least 30 s', () => {
    expect(checkLeaseMs({ dnsServers: [], dnsTimeoutMs: 300 })).toBe(30_000);
    expect(
      checkLeaseMs({ dnsServers: ['127.0.0.1:53', '127.0.0.2:53'], dnsTimeoutMs: 5_000 }),
    ).toBe(120_000);
  });
});

describe.each(BACKENDS)('applyCheckResult on %s', (backend) => {
  let test: TestBackend;
  let db: Db;

  beforeAll(async () => {
    if (!backendAvailable(backend)) return;
    test = await openTestBackend(backend, 'verification_service');
    db = test.database.db;
  });

  afterAll(() => test?.dispose());

  async function pendingDomain(name: string, policy = POLICY) {
    const organization = await newOrganization(db, `Org of ${name}`);
    return { organization, row: await addDnsDomain(db, organization.id, name, policy) };
  }

  async function checkOf(row: {
    domain: string;
    txtRecordKey: string | null;
    txtRecordSecret: string | null;
  }) {
    return checker.check({
      domain: row.domain,
      txtRecordKey: row.txtRecordKey ?? '',
      expectedValue: row.txtRecordSecret ?? '',
    });
  }

  function apply(id: string, result: CheckResult, now: Date, policy: CheckPolicy = POLICY) {
    return db.transaction((tx) => applyCheckResult(tx, id, result, now, policy));
  }

  it.skipIf(!backendAvailable(backend))(
    'verifies a domain whose record is found, with one success event',
    async () => {
      const { organization, row } = await pendingDomain('found.test');
      publish(server, row);
      const result = await checkOf(row);
      const now = new Date();

      const applied = await apply(row.id, result, now);
      const again = await apply(row.id, result, new Date(now.getTime() + 1));

      expect(applied.transition).toBe('verified');
      expect(again.transition).toBe('none');
      const stored = await domainRow(db, row.id);
      expect(stored).toMatchObject({
        verificationStatus: 'VERIFIED',
        verificationMethod: 'DNS',
        checkCount: 1,
        nextCheckAt: null,
        checkLeaseUntil: null,
        failureReason: null,
        lastCheckedAt: now,
        lastCheckResult: { ...result },
      });
      const events = await eventsOfDomain(db, row.id);
      expect(events.map((event) => event.type)).toEqual(['organization.domain_created', SUCCESS]);
      expect(events[1]?.payload).toMatchObject({
        organization_id: organization.id,
        display_name: organization.displayName,
        occurred_at: now.toISOString(),
        data: {
          id: row.id,
          domain: 'found.test',
          verification_status: 'VERIFIED',
          verification_method: 'DNS',
          txt_record_key: row.txtRecordKey,
          txt_record_secret: row.txtRecordSecret,
          updated_at: stored.updatedAt.toISOString(),
        },
      });
      const payload = events[1]?.payload as { data: object } | undefined;
      expect(payload?.data).not.toHaveProperty('failure_reason');
    },
  );

  it.skipIf(!backendAvailable(backend))(
    'backs off along the schedule while the record is missing, the last step repeating',
    async () => {
      const { row } = await pendingDomain('backoff.test');
      server.setTxt(`${row.txtRecordKey}.backoff.test`, [['something else']]);
      const start = Date.now();
      const nextChecks: number[] = [];
      const counts: number[] = [];

      for (let check = 0; check < 4; check += 1) {
        const now = new Date(start + check * 100);
        const result = await checkOf(row);
        const applied = await apply(row.id, result, now);
        expect(applied.transition).toBe('rescheduled');
        nextChecks.push((applied.domain?.nextCheckAt?.getTime() ?? 0) - now.getTime());
        counts.push(applied.domain?.checkCount ?? -1);
      }

      expect(nextChecks).toEqual([5_000, 60_000, 60_000, 60_000]);
      expect(counts).toEqual([1, 2, 3, 4]);
      const stored = await domainRow(db, row.id);
      expect(stored.verificationStatus).toBe('PENDING');
      expect(stored.lastCheckResult).toMatchObject({ outcome: 'mismatch', records_seen: 1 });
      expect(await eventsOfDomain(db, row.id)).toHaveLength(1);
    },
  );

  it.skipIf(!backendAvailable(backend))(
    'never plans a check after the end of the window',
    async () => {
      const { row } = await pendingDomain('window-end.test', {
        checkScheduleMs: [1_000, 600_000],
        verificationWindowMs: 120_000,
      });
      const now = new Date(row.createdAt.getTime() + 1_000);

      const applied = await apply(row.id, await checkOf(row), now, {
        checkScheduleMs: [1_000, 600_000],
      });

      expect(applied.domain?.lastCheckResult).toMatchObject({ outcome: 'nxdomain' });
      expect(applied.domain?.nextCheckAt).toEqual(row.verificationExpiresAt);
    },
  );

  it.skipIf(!backendAvailable(backend))(
    'retries servfail and timeout soon, without counting them (DNS-38)',
    async () => {
      const { row } = await pendingDomain('flaky.test');
      const name = `${row.txtRecordKey}.flaky.test`;
      const outcomes: string[] = [];

      for (const failure of ['servfail', 'timeout', 'servfail'] as const) {
        if (failure === 'servfail') server.setServfail(name);
        else server.setNoAnswer(name);
        const now = new Date();
        const applied = await apply(row.id, await checkOf(row), now);
        outcomes.push(String(applied.domain?.lastCheckResult?.outcome));
        expect(applied.transition).toBe('rescheduled');
        expect(applied.domain?.checkCount).toBe(0);
        expect(applied.domain?.nextCheckAt?.getTime()).toBe(now.getTime() + 1_000);
      }

      expect(outcomes).toEqual(['servfail', 'timeout', 'servfail']);
      expect((await domainRow(db, row.id)).verificationStatus).toBe('PENDING');
      expect(await eventsOfDomain(db, row.id)).toHaveLength(1);
    },
  );

  it.skipIf(!backendAvailable(backend))(
    'fails a domain whose window is over with one failed event',
    async () => {
      const { organization, row } = await pendingDomain('expired.test');
      const result = await checkOf(row);
      const now = new Date((row.verificationExpiresAt?.getTime() ?? 0) + 1);

      const applied = await apply(row.id, result, now);
      const again = await apply(row.id, result, new Date(now.getTime() + 10));

      expect(result.outcome).toBe('nxdomain');
      expect(applied.transition).toBe('failed');
      expect(again.transition).toBe('none');
      expect(await domainRow(db, row.id)).toMatchObject({
        verificationStatus: 'FAILED',
        failureReason: 'verification_window_expired',
        checkCount: 1,
        nextCheckAt: null,
        lastCheckedAt: now,
      });
      const failed = await eventsOfDomain(db, row.id, FAILED);
      expect(failed).toHaveLength(1);
      expect(failed[0]?.payload).toMatchObject({
        organization_id: organization.id,
        data: {
          id: row.id,
          verification_status: 'FAILED',
          failure_reason: 'verification_window_expired',
        },
      });
    },
  );

  it.skipIf(!backendAvailable(backend))(
    'verifies on the final check after the window when the record is found',
    async () => {
      const { row } = await pendingDomain('last-minute.test');
      publish(server, row);
      const now = new Date((row.verificationExpiresAt?.getTime() ?? 0) + 500);

      const applied = await apply(row.id, await checkOf(row), now);

      expect(applied.transition).toBe('verified');
      expect(await eventsOfDomain(db, row.id, SUCCESS)).toHaveLength(1);
    },
  );

  it.skipIf(!backendAvailable(backend))(
    'gives a DNS outage at the deadline one grace period before failing',
    async () => {
      const { row } = await pendingDomain('outage.test');
      server.setServfail(`${row.txtRecordKey}.outage.test`);
      const expiresMs = row.verificationExpiresAt?.getTime() ?? 0;
      const result = await checkOf(row);

      const within = await apply(row.id, result, new Date(expiresMs + 59_999));
      const after = await apply(row.id, result, new Date(expiresMs + 60_000));

      expect(result.outcome).toBe('servfail');
      expect(within.transition).toBe('rescheduled');
      expect(within.domain?.nextCheckAt?.getTime()).toBe(expiresMs + 60_999);
      expect(after.transition).toBe('failed');
      expect(after.domain?.failureReason).toBe('verification_window_expired');
      expect(await eventsOfDomain(db, row.id, FAILED)).toHaveLength(1);
    },
  );

  it.skipIf(!backendAvailable(backend))(
    'fails every other organization’s pending claim on the name, each with its event',
    async () => {
      const winner = await pendingDomain('contested.test');
      const second = await pendingDomain('contested.test');
      const third = await pendingDomain('contested.test');
      const elsewhere = await pendingDomain('other-name.test');
      publish(server, winner.row);
      const now = new Date();

      const applied = await apply(winner.row.id, await checkOf(winner.row), now);

      expect(applied.transition).toBe('verified');
      expect(applied.failedClaims.map((claim) => claim.id).sort()).toEqual(
        [second.row.id, third.row.id].sort(),
      );
      for (const loser of [second, third]) {
        expect(await domainRow(db, loser.row.id)).toMatchObject({
          verificationStatus: 'FAILED',
          failureReason: 'verified_by_other_organization',
          nextCheckAt: null,
        });
        const failed = await eventsOfDomain(db, loser.row.id, FAILED);
        expect(failed).toHaveLength(1);
        expect(failed[0]?.payload).toMatchObject({
          organization_id: loser.organization.id,
          display_name: loser.organization.displayName,
          occurred_at: now.toISOString(),
          data: { failure_reason: 'verified_by_other_organization' },
        });
      }
      expect((await domainRow(db, elsewhere.row.id)).verificationStatus).toBe('PENDING');
    },
  );

  it.skipIf(!backendAvailable(backend))(
    'changes nothing, events included, when its transaction rolls back',
    async () => {
      const winner = await pendingDomain('rolled-back.test');
      const loser = await pendingDomain('rolled-back.test');
      publish(server, winner.row);
      const result = await checkOf(winner.row);

      const attempt = db.transaction(async (tx) => {
        const applied = await applyCheckResult(tx, winner.row.id, result, new Date(), POLICY);
        expect(applied.failedClaims).toHaveLength(1);
        throw new Error('roll back');
      });

      await expect(attempt).rejects.toThrow('roll back');
      for (const claim of [winner, loser]) {
        expect((await domainRow(db, claim.row.id)).verificationStatus).toBe('PENDING');
        expect(await eventsOfDomain(db, claim.row.id)).toHaveLength(1);
      }
    },
  );

  it.skipIf(!backendAvailable(backend))(
    'fails the claim when another organization already holds the name verified',
    async () => {
      const late = await pendingDomain('taken.test');
      const holder = await pendingDomain('taken.test');
      await db
        .update(domains)
        .set({ verificationStatus: 'VERIFIED' })
        .where(eq(domains.id, holder.row.id));
      publish(server, late.row);

      const applied = await apply(late.row.id, await checkOf(late.row), new Date());

      expect(applied.transition).toBe('failed');
      expect(applied.domain?.failureReason).toBe('verified_by_other_organization');
      expect(await eventsOfDomain(db, late.row.id, FAILED)).toHaveLength(1);
      expect(await eventsOfDomain(db, late.row.id, SUCCESS)).toHaveLength(0);
    },
  );

  it.skipIf(!backendAvailable(backend))(
    'leaves a domain that is gone or not pending alone',
    async () => {
      const organization = await newOrganization(db);
      const admin = await createDomain(db, organization.id, { domain: 'admin.test' }, POLICY);
      const result = await checkOf({ ...admin, txtRecordKey: '_x', txtRecordSecret: 'y' });

      const gone = await apply('dom_missing', result, new Date());
      const verified = await apply(admin.id, result, new Date());

      expect(gone).toEqual({ transition: 'none', domain: undefined, failedClaims: [] });
      expect(verified.transition).toBe('none');
      expect(await domainRow(db, admin.id)).toEqual(admin);
    },
  );
});

describe.skipIf(!hasPostgres())('applyCheckResult on concurrent PostgreSQL sessions', () => {
  let test: TestBackend;
  let db: Db;

  beforeAll(async () => {
    test = await openTestBackend('postgres', 'verification_race');
    db = test.database.db;
  });

  afterAll(() => test?.dispose());

  it('fails the claim when another organization’s verification commits under it', async () => {
    const late = await addDnsDomain(db, (await newOrganization(db)).id, 'race.test', POLICY);
    const other = await addDnsDomain(db, (await newOrganization(db)).id, 'race.test', POLICY);
    publish(server, late);
    const result = await checker.check({
      domain: late.domain,
      txtRecordKey: late.txtRecordKey ?? '',
      expectedValue: late.txtRecordSecret ?? '',
    });
    let release = () => {};
    let updated = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const hasUpdated = new Promise<void>((resolve) => {
      updated = resolve;
    });

    const competitor = db.transaction(async (tx) => {
      await tx
        .update(domains)
        .set({ verificationStatus: 'VERIFIED' })
        .where(eq(domains.id, other.id));
      updated();
      await held;
    });
    await hasUpdated;
    const applying = recordCheck(db, late.id, result, POLICY);
    await sleep(300);
    release();
    await competitor;
    const applied = await applying;

    expect(applied.transition).toBe('failed');
    expect(applied.domain).toMatchObject({
      verificationStatus: 'FAILED',
      failureReason: 'verified_by_other_organization',
      checkCount: 1,
    });
    expect(await eventsOfDomain(db, late.id, FAILED)).toHaveLength(1);
    expect(await eventsOfDomain(db, late.id, SUCCESS)).toHaveLength(0);
  });
});
