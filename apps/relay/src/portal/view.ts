// What the portal shows of a domain, in words: the page renders it, the status route sends it.
import type { VerificationStatus } from '@verihook/events';
import { desc, eq } from 'drizzle-orm';
import type { Db } from '../db/index.ts';
import { type DomainRow, domains, type OrganizationRow } from '../db/schema/index.ts';
import { toDomainObject } from '../domains/objects.ts';
import type { CheckOutcome } from '../verification/checker.ts';

/** The most domains one page lists; an organization rarely holds more than a handful. */
export const MAX_LISTED_DOMAINS = 500;

export type StatusTone = 'verified' | 'pending' | 'failed' | 'auto';

export interface RecordView {
  /** The full name, `<txt_record_key>.<domain>`. */
  name: string;
  /** Only the host part, for DNS providers that append the domain themselves. */
  host: string;
  value: string;
}

export interface DomainView {
  id: string;
  domain: string;
  domain_unicode: string;
  domain_type: DomainRow['domainType'];
  type_label: string;
  method_label: string;
  status: VerificationStatus;
  status_label: string;
  status_tone: StatusTone;
  status_detail: string;
  record: RecordView | null;
  check_summary: string;
  last_checked_at: string | null;
  /** The checker's advice after a miss; for a doubled name, how to fix the host. */
  hint: string | null;
  doubled_name: boolean;
  next_check_at: string | null;
  verification_expires_at: string | null;
  can_verify: boolean;
}

export interface PortalStatus {
  organization: { id: string; display_name: string; domain_verification_enabled: boolean };
  domains: DomainView[];
}

const STATUS: Record<VerificationStatus, { label: string; tone: StatusTone }> = {
  VERIFIED: { label: 'Verified', tone: 'verified' },
  PENDING: { label: 'Pending', tone: 'pending' },
  FAILED: { label: 'Failed', tone: 'failed' },
  AUTO_VERIFIED: { label: 'Auto-verified', tone: 'auto' },
};

const OUTCOME_SUMMARY: Record<CheckOutcome, string> = {
  found: 'Record found',
  mismatch: 'A TXT record is there, but its value differs',
  nxdomain: 'Record not found: the name does not exist yet',
  nodata: 'Record not found: the name has no TXT record',
  servfail: 'DNS did not answer (temporary)',
  timeout: 'DNS timed out (temporary)',
};

const FAILURE_DETAIL: Record<string, string> = {
  verification_window_expired:
    'The record was not found before the verification window ended. ' +
    'Delete the domain and add it again for a new record.',
  verified_by_other_organization:
    'Another organization verified this domain first. Delete it, or contact support.',
};

function statusDetail(row: DomainRow): string {
  switch (row.verificationStatus) {
    case 'VERIFIED':
      return row.verificationMethod === 'DNS'
        ? 'Ownership is proven by the DNS record.'
        : 'Verified by an administrator of the platform.';
    case 'AUTO_VERIFIED':
      return 'An allowed email domain: users with this email domain may join; no proof needed.';
    case 'PENDING':
      return 'Waiting for the TXT record below to appear in DNS.';
    case 'FAILED':
      return FAILURE_DETAIL[row.failureReason ?? ''] ?? 'Verification failed.';
  }
}

/** A check's outcome in words: `Record not found: the name does not exist yet`. */
export function outcomeSummary(outcome: string): string {
  return OUTCOME_SUMMARY[outcome as CheckOutcome] ?? `Check outcome: ${outcome}`;
}

function checkSummary(row: DomainRow): string {
  const outcome = row.lastCheckResult?.outcome;
  if (typeof outcome === 'string') return outcomeSummary(outcome);
  return row.verificationMethod === 'DNS' ? 'Not checked yet' : 'No DNS check needed';
}

function recordOf(row: DomainRow): RecordView | null {
  const record = toDomainObject(row).dns_record;
  if (!record || !row.txtRecordKey) return null;
  return { name: record.name, host: row.txtRecordKey, value: record.value };
}

/** A domain as the portal presents it. */
export function toDomainView(row: DomainRow): DomainView {
  const status = STATUS[row.verificationStatus];
  const result = row.lastCheckResult;
  const hint = typeof result?.hint === 'string' && result.outcome !== 'found' ? result.hint : null;
  return {
    id: row.id,
    domain: row.domain,
    domain_unicode: row.domainUnicode,
    domain_type: row.domainType,
    type_label: row.domainType === 'ORGANIZATION_DOMAIN' ? 'Organization domain' : 'Email domain',
    method_label:
      row.verificationMethod === 'DNS'
        ? 'DNS TXT record'
        : row.verificationMethod === 'ADMIN'
          ? 'Administrator'
          : 'Not applicable',
    status: row.verificationStatus,
    status_label: status.label,
    status_tone: status.tone,
    status_detail: statusDetail(row),
    record: recordOf(row),
    check_summary: checkSummary(row),
    last_checked_at: row.lastCheckedAt?.toISOString() ?? null,
    hint,
    doubled_name: result?.doubled_name === true,
    next_check_at:
      row.verificationStatus === 'PENDING' ? (row.nextCheckAt?.toISOString() ?? null) : null,
    verification_expires_at:
      row.verificationStatus === 'PENDING'
        ? (row.verificationExpiresAt?.toISOString() ?? null)
        : null,
    can_verify: row.verificationStatus === 'PENDING' && row.verificationMethod === 'DNS',
  };
}

/** The organization's domains, newest first, as the portal lists them. */
export async function listPortalDomains(db: Db, organizationId: string): Promise<DomainView[]> {
  const rows = await db
    .select()
    .from(domains)
    .where(eq(domains.organizationId, organizationId))
    .orderBy(desc(domains.createdAt), desc(domains.id))
    .limit(MAX_LISTED_DOMAINS);
  return rows.map(toDomainView);
}

/** Everything the page's live refresh needs. */
export async function portalStatus(db: Db, organization: OrganizationRow): Promise<PortalStatus> {
  return {
    organization: {
      id: organization.id,
      display_name: organization.displayName,
      domain_verification_enabled: organization.domainVerificationEnabled,
    },
    domains: await listPortalDomains(db, organization.id),
  };
}

/** `2026-01-15 10:00:05 UTC`: unambiguous without JavaScript, which shows local time instead. */
export function formatTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}
