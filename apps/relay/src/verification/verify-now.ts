// "Verify now": one DNS check of a pending domain, run at once, its outcome kept with the domain.
import { and, eq, sql } from 'drizzle-orm';
import type { AppDeps } from '../context.ts';
import { uniqueViolation } from '../db/errors.ts';
import { type DomainRow, domains } from '../db/schema/index.ts';
import { type DomainObject, toDomainObject } from '../domains/objects.ts';
import { failCompetingClaims, getDomain, lockOrganization } from '../domains/service.ts';
import { ApiError } from '../errors.ts';
import { recordEvent } from '../events/outbox.ts';
import { type CheckResult, createTxtChecker } from './checker.ts';

export interface VerifyNowResult {
  verified: boolean;
  /** The check that ran, or null when the domain was not pending. */
  check: CheckResult | null;
  domain: DomainObject;
}

function answer(row: DomainRow, check: CheckResult | null): VerifyNowResult {
  return { verified: row.verificationStatus === 'VERIFIED', check, domain: toDomainObject(row) };
}

async function recordCheck(
  deps: AppDeps,
  pending: DomainRow,
  check: CheckResult,
): Promise<DomainRow> {
  return deps.database.db.transaction(async (tx) => {
    const organization = await lockOrganization(tx, pending.organizationId);
    const now = new Date();
    const found = check.outcome === 'found';
    const [row] = await tx
      .update(domains)
      .set({
        lastCheckResult: { ...check },
        lastCheckedAt: new Date(check.checked_at),
        checkCount: sql`${domains.checkCount} + 1`,
        ...(found
          ? { verificationStatus: 'VERIFIED', nextCheckAt: null, checkLeaseUntil: null }
          : {}),
        updatedAt: now,
      })
      .where(and(eq(domains.id, pending.id), eq(domains.verificationStatus, 'PENDING')))
      .returning();
    if (!row) return getDomain(tx, pending.organizationId, pending.id);
    if (found) {
      await failCompetingClaims(tx, row, now);
      await recordEvent(tx, {
        type: 'organization.domain_dns_verification_success',
        organization,
        domain: row,
        occurredAt: now,
      });
    }
    return row;
  });
}

/**
 * Checks a pending DNS domain of the organization now; a found record makes it VERIFIED, with
 * its success event, in one transaction. Another organization's domain is a 404.
 */
export async function verifyDomainNow(
  deps: AppDeps,
  organizationId: string,
  domainId: string,
): Promise<VerifyNowResult> {
  const row = await getDomain(deps.database.db, organizationId, domainId);
  if (row.verificationStatus !== 'PENDING' || !row.txtRecordKey || !row.txtRecordSecret) {
    return answer(row, null);
  }

  const checker = createTxtChecker({
    servers: deps.config.dnsServers,
    timeoutMs: deps.config.dnsTimeoutMs,
  });
  const check = await checker.check({
    domain: row.domain,
    txtRecordKey: row.txtRecordKey,
    expectedValue: row.txtRecordSecret,
  });
  try {
    return answer(await recordCheck(deps, row, check), check);
  } catch (error) {
    if (uniqueViolation(error) === 'domains_verified_organization_domain_key') {
      throw new ApiError(
        409,
        'domain_already_verified',
        'Another organization has verified this domain',
        { cause: error },
      );
    }
    throw error;
  }
}
