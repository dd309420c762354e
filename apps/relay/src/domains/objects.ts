// A domain row as the API shows it, and as an event's `data` carries it.
import type { DomainData } from '@verihook/events';
import type { CheckResult, DomainRow } from '../db/schema/index.ts';

export interface DnsRecord {
  type: 'TXT';
  name: string;
  value: string;
}

export interface DomainObject {
  id: string;
  object: 'organization_domain';
  organization_id: string;
  domain: string;
  domain_unicode: string;
  domain_type: DomainRow['domainType'];
  verification_status: DomainRow['verificationStatus'];
  verification_method: DomainRow['verificationMethod'];
  txt_record_key?: string;
  txt_record_secret?: string;
  dns_record?: DnsRecord;
  verification_expires_at: string | null;
  next_check_at: string | null;
  last_checked_at: string | null;
  last_check_result: CheckResult | null;
  failure_reason: string | null;
  created_at: string;
  updated_at: string;
}

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

/** The TXT record to publish for a DNS domain: `<txt_record_key>.<domain>` = the secret. */
export function dnsRecordOf(row: DomainRow): DnsRecord | undefined {
  if (row.verificationMethod !== 'DNS' || !row.txtRecordKey || !row.txtRecordSecret)
    return undefined;
  return { type: 'TXT', name: `${row.txtRecordKey}.${row.domain}`, value: row.txtRecordSecret };
}

/** The API's `organization_domain` object. */
export function toDomainObject(row: DomainRow): DomainObject {
  const dnsRecord = dnsRecordOf(row);
  return {
    id: row.id,
    object: 'organization_domain',
    organization_id: row.organizationId,
    domain: row.domain,
    domain_unicode: row.domainUnicode,
    domain_type: row.domainType,
    verification_status: row.verificationStatus,
    verification_method: row.verificationMethod,
    ...(dnsRecord
      ? {
          txt_record_key: row.txtRecordKey ?? '',
          txt_record_secret: dnsRecord.value,
          dns_record: dnsRecord,
        }
      : {}),
    verification_expires_at: iso(row.verificationExpiresAt),
    next_check_at: iso(row.nextCheckAt),
    last_checked_at: iso(row.lastCheckedAt),
    last_check_result: row.lastCheckResult ?? null,
    failure_reason: row.failureReason,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** The domain as an event's `data`, per `@verihook/events`. */
export function toDomainData(row: DomainRow, environmentId: string): DomainData {
  const dns = row.verificationMethod === 'DNS';
  return {
    id: row.id,
    domain: row.domain,
    domain_type: row.domainType,
    organization_id: row.organizationId,
    environment_id: environmentId,
    verification_status: row.verificationStatus,
    verification_method: row.verificationMethod,
    ...(dns && row.txtRecordKey ? { txt_record_key: row.txtRecordKey } : {}),
    ...(dns && row.txtRecordSecret ? { txt_record_secret: row.txtRecordSecret } : {}),
    updated_at: row.updatedAt.toISOString(),
    ...(row.failureReason ? { failure_reason: row.failureReason } : {}),
  };
}
