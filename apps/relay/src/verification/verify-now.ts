// "Verify now": one check of a domain at once, recorded as the scheduler would record it.
import type { Config } from '../config.ts';
import type { AppDeps } from '../context.ts';
import { type DomainObject, toDomainObject } from '../domains/objects.ts';
import { getDomain } from '../domains/service.ts';
import { ApiError, notFound } from '../errors.ts';
import type { CheckResult, TxtChecker } from './checker.ts';
import { checkerFromConfig, recordCheck } from './service.ts';

export interface VerifyNowAnswer {
  verified: boolean;
  /** The check just run; null when none ran; a FAILED domain's last check. */
  check: CheckResult | null;
  domain: DomainObject;
}

const checkers = new WeakMap<Config, TxtChecker>();

function checkerFor(config: Config): TxtChecker {
  let checker = checkers.get(config);
  if (!checker) {
    checker = checkerFromConfig(config);
    checkers.set(config, checker);
  }
  return checker;
}

/**
 * Checks a PENDING domain of the organization now and records the result (VERIFIED, FAILED or
 * the next check). A VERIFIED or AUTO_VERIFIED domain answers at once with `check` null; a FAILED
 * one is a 409 `domain_verification_failed`, since it never verifies again. 404 `not_found` for a
 * domain that is not the organization's.
 */
export async function verifyDomainNow(
  deps: AppDeps,
  organizationId: string,
  domainId: string,
): Promise<{ verified: boolean; check: CheckResult | null; domain: DomainObject }> {
  const { db } = deps.database;
  const row = await getDomain(db, organizationId, domainId);
  if (row.verificationStatus === 'VERIFIED' || row.verificationStatus === 'AUTO_VERIFIED') {
    return { verified: true, check: null, domain: toDomainObject(row) };
  }
  if (row.verificationStatus === 'FAILED') {
    throw new ApiError(
      409,
      'domain_verification_failed',
      `${row.domain} failed verification (${row.failureReason}) and stays failed: delete it and ` +
        'add it again for a fresh TXT record',
    );
  }

  const check = await checkerFor(deps.config).check({
    domain: row.domain,
    txtRecordKey: row.txtRecordKey ?? '',
    expectedValue: row.txtRecordSecret ?? '',
  });
  const applied = await recordCheck(db, row.id, check, deps.config);
  if (!applied.domain) throw notFound('Domain');
  deps.logger.info(
    {
      domain_id: row.id,
      domain: row.domain,
      outcome: check.outcome,
      transition: applied.transition,
      verification_status: applied.domain.verificationStatus,
      checked_at: check.checked_at,
      duration_ms: check.duration_ms,
      doubled_name: check.doubled_name,
      trigger: 'verify_now',
    },
    'domain check',
  );
  return {
    verified: applied.domain.verificationStatus === 'VERIFIED',
    check,
    domain: toDomainObject(applied.domain),
  };
}
