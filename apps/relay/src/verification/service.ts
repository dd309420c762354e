// Applying a DNS check to a pending domain: the next check, or VERIFIED / FAILED with its event.
import { and, eq, ne, sql } from 'drizzle-orm';
import type { Config } from '../config.ts';
import { uniqueViolation } from '../db/errors.ts';
import type { Db } from '../db/index.ts';
import { type DomainRow, domains, organizations } from '../db/schema/index.ts';
import { failCompetingClaims, nextUpdatedAt } from '../domains/service.ts';
import { recordEvent } from '../events/outbox.ts';
import { type CheckResult, createTxtChecker, isTemporary, type TxtChecker } from './checker.ts';

export type CheckPolicy = Pick<Config, 'checkScheduleMs'>;

/** Tries per DNS server before a lookup gives up; with c-ares' growing timeouts, about 4×. */
const CHECK_TRIES = 2;
const MIN_CHECK_LEASE_MS = 30_000;
const APPLY_ATTEMPTS = 3;
const RETRYABLE_SQLSTATES = new Set(['40P01', '40001']);
// Namespaces the per-name advisory lock (pg_advisory_xact_lock(int, int)) away from other users.
const NAME_LOCK_NAMESPACE = 4_604_013;

/** A checker on the configured DNS servers (the system's when none are configured). */
export function checkerFromConfig(config: Pick<Config, 'dnsServers' | 'dnsTimeoutMs'>): TxtChecker {
  return createTxtChecker({
    servers: config.dnsServers,
    timeoutMs: config.dnsTimeoutMs,
    tries: CHECK_TRIES,
  });
}

/**
 * How long a claimed domain stays out of the due set: three times the longest a check can take
 * (every try on every server, each of its lookups), and at least 30 s.
 */
export function checkLeaseMs(config: Pick<Config, 'dnsServers' | 'dnsTimeoutMs'>): number {
  const worstCheckMs = config.dnsTimeoutMs * 4 * Math.max(1, config.dnsServers.length);
  return Math.max(MIN_CHECK_LEASE_MS, 3 * worstCheckMs);
}

/** What a check did to the domain: `none` when it was no longer pending (or gone). */
export type CheckTransition = 'none' | 'rescheduled' | 'verified' | 'failed';

export interface AppliedCheck {
  transition: CheckTransition;
  /** The domain after the check; undefined when it no longer exists. */
  domain: DomainRow | undefined;
  /** The other organizations' claims on the name that failed because this one verified. */
  failedClaims: DomainRow[];
}

/**
 * The delay before the next check after `checkCount` conclusive checks: the schedule's step of
 * that index, the last step repeating.
 */
export function nextCheckDelayMs(schedule: readonly number[], checkCount: number): number {
  if (schedule.length === 0) throw new Error('the check schedule has no steps');
  return schedule[Math.min(Math.max(checkCount, 0), schedule.length - 1)] as number;
}

/**
 * How long after the window a check that could not tell (servfail, timeout) is retried before
 * the domain fails anyway: one last-step delay, so a DNS outage at the deadline gets one more try.
 */
export function expiryGraceMs(schedule: readonly number[]): number {
  return nextCheckDelayMs(schedule, schedule.length - 1);
}

/**
 * Applies one check of a domain, within `tx` (which should hold nothing else): locks the domain
 * row and, only while it is still PENDING, records the check and moves it on.
 *
 * - `found`: VERIFIED with its success event, and every other organization's pending claim on
 *   the name FAILED (`verified_by_other_organization`) with its failed event; or this claim fails
 *   that way when another organization already holds the name verified.
 * - not found, window open: `check_count` + 1 and the next check after the schedule's step of
 *   that count (the last step repeats), never later than the window's end.
 * - `servfail` or `timeout` (DNS-38): the record may well be there, so the check does not count:
 *   `check_count` stays, the next check comes after the schedule's first step. Past the window
 *   this goes on for `expiryGraceMs`, then the domain fails.
 * - not found, window over: FAILED (`verification_window_expired`) with its failed event.
 *
 * The status guard on the locked row makes a success or failed event happen once per domain,
 * however many processes check it.
 */
export async function applyCheckResult(
  tx: Db,
  domainId: string,
  result: CheckResult,
  now: Date,
  policy: CheckPolicy,
): Promise<AppliedCheck> {
  if (result.outcome === 'found') await lockDomainName(tx, domainId);
  const [row] = await tx.select().from(domains).where(eq(domains.id, domainId)).for('update');
  if (row?.verificationStatus !== 'PENDING') {
    return { transition: 'none', domain: row, failedClaims: [] };
  }

  const checked = {
    lastCheckedAt: now,
    lastCheckResult: result,
    checkLeaseUntil: null,
    updatedAt: nextUpdatedAt(row.updatedAt, now),
  };
  if (result.outcome === 'found') return verify(tx, row, checked, now);

  const temporary = isTemporary(result.outcome);
  const checkCount = temporary ? row.checkCount : row.checkCount + 1;
  const nextCheckAt = planNextCheck(row, temporary, checkCount, now, policy.checkScheduleMs);
  if (nextCheckAt === undefined) {
    return fail(tx, row, { ...checked, checkCount }, 'verification_window_expired', now);
  }
  const [updated] = await tx
    .update(domains)
    .set({ ...checked, checkCount, nextCheckAt })
    .where(eq(domains.id, row.id))
    .returning();
  return { transition: 'rescheduled', domain: updated, failedClaims: [] };
}

/** When to check next, or undefined when the domain has run out of time. */
function planNextCheck(
  row: DomainRow,
  temporary: boolean,
  checkCount: number,
  now: Date,
  schedule: readonly number[],
): Date | undefined {
  const nowMs = now.getTime();
  const expiresMs = row.verificationExpiresAt?.getTime() ?? Number.POSITIVE_INFINITY;
  const delayMs = nextCheckDelayMs(schedule, temporary ? 0 : checkCount);
  if (nowMs < expiresMs) return new Date(Math.min(nowMs + delayMs, expiresMs));
  if (temporary && nowMs < expiresMs + expiryGraceMs(schedule)) return new Date(nowMs + delayMs);
  return undefined;
}

function isRetryable(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && RETRYABLE_SQLSTATES.has(code)) return true;
  }
  return false;
}

/**
 * `applyCheckResult` in its own short transaction, run again when PostgreSQL picked it as a
 * deadlock victim (a rare cross of an admin adding the name elsewhere at the same moment).
 */
export async function recordCheck(
  db: Db,
  domainId: string,
  result: CheckResult,
  policy: CheckPolicy,
): Promise<AppliedCheck> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await db.transaction((tx) =>
        applyCheckResult(tx, domainId, result, new Date(), policy),
      );
    } catch (error) {
      if (attempt >= APPLY_ATTEMPTS || !isRetryable(error)) throw error;
    }
  }
}

type CheckedFields = Partial<typeof domains.$inferInsert>;

/** Serializes verifications of one name, so two organizations' claims never race to VERIFIED. */
async function lockDomainName(tx: Db, domainId: string): Promise<void> {
  const [target] = await tx
    .select({ domain: domains.domain })
    .from(domains)
    .where(eq(domains.id, domainId));
  if (!target) return;
  await tx.execute(
    sql`select pg_advisory_xact_lock(${NAME_LOCK_NAMESPACE}::int, hashtext(${target.domain}))`,
  );
}

async function verifiedElsewhere(tx: Db, row: DomainRow): Promise<boolean> {
  const [holder] = await tx
    .select({ id: domains.id })
    .from(domains)
    .where(
      and(
        eq(domains.domain, row.domain),
        eq(domains.domainType, 'ORGANIZATION_DOMAIN'),
        eq(domains.verificationStatus, 'VERIFIED'),
        ne(domains.id, row.id),
      ),
    );
  return holder !== undefined;
}

async function verify(
  tx: Db,
  row: DomainRow,
  checked: CheckedFields,
  now: Date,
): Promise<AppliedCheck> {
  const counted = { ...checked, checkCount: row.checkCount + 1 };
  const lost = () => fail(tx, row, counted, 'verified_by_other_organization', now);
  if (await verifiedElsewhere(tx, row)) return lost();

  let updated: DomainRow | undefined;
  try {
    // A savepoint: an admin adding the name elsewhere at this moment trips the unique index.
    updated = await tx.transaction(async (savepoint) => {
      const [changed] = await savepoint
        .update(domains)
        .set({ ...counted, verificationStatus: 'VERIFIED', nextCheckAt: null })
        .where(eq(domains.id, row.id))
        .returning();
      return changed;
    });
  } catch (error) {
    if (uniqueViolation(error) !== 'domains_verified_organization_domain_key') throw error;
    return lost();
  }
  if (!updated) throw new Error(`domain ${row.id} vanished while locked`);

  await recordEvent(tx, {
    type: 'organization.domain_dns_verification_success',
    organization: await organizationOf(tx, updated),
    domain: updated,
    occurredAt: now,
  });
  const failedClaims = await failCompetingClaims(tx, updated, now);
  return { transition: 'verified', domain: updated, failedClaims };
}

async function fail(
  tx: Db,
  row: DomainRow,
  checked: CheckedFields,
  failureReason: 'verification_window_expired' | 'verified_by_other_organization',
  now: Date,
): Promise<AppliedCheck> {
  const [updated] = await tx
    .update(domains)
    .set({ ...checked, verificationStatus: 'FAILED', failureReason, nextCheckAt: null })
    .where(eq(domains.id, row.id))
    .returning();
  if (!updated) throw new Error(`domain ${row.id} vanished while locked`);
  await recordEvent(tx, {
    type: 'organization.domain_dns_verification_failed',
    organization: await organizationOf(tx, updated),
    domain: updated,
    occurredAt: now,
  });
  return { transition: 'failed', domain: updated, failedClaims: [] };
}

async function organizationOf(tx: Db, row: DomainRow) {
  const [organization] = await tx
    .select({ id: organizations.id, displayName: organizations.displayName })
    .from(organizations)
    .where(eq(organizations.id, row.organizationId));
  if (!organization) throw new Error(`organization ${row.organizationId} of ${row.id} is missing`);
  return organization;
}
