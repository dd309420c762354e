// One realistic payload per event, for tests and documentation.
import type {
  DomainCreatedEvent,
  DomainDeletedEvent,
  DomainDnsVerificationFailedEvent,
  DomainDnsVerificationSuccessEvent,
  VerihookEvent,
} from './schemas.js';

const ENV = 'env_01JD8Z3Q4W5E6R7T8Y9U0I1O2P';
const ACME = 'org_01JD8Z6N2XK4Q8C1V7B3M5H9TR';
const GLOBEX = 'org_01JD8Z7A1S2D3F4G5H6J7K8L9M';
const TXT_KEY = '_verihook-challenge-4kq2m8';
const TXT_SECRET = 'verihook-verification=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA';

function envelope(id: string, occurredAt: string, organizationId: string, displayName: string) {
  return {
    spec_version: '1' as const,
    id,
    occurred_at: occurredAt,
    environment_id: ENV,
    organization_id: organizationId,
    object: 'Organization' as const,
    display_name: displayName,
  };
}

/** `organization.domain_created` for a domain added by the DNS method: `PENDING`, with its TXT record. */
export const domainCreatedDnsPending: DomainCreatedEvent = {
  ...envelope('evt_01JD9000AAAAAAAAAAAAAAAAAA', '2026-01-15T10:00:00.000Z', ACME, 'Acme Corp'),
  type: 'organization.domain_created',
  data: {
    id: 'dom_01JD9000BBBBBBBBBBBBBBBBBB',
    domain: 'acmecorp.com',
    domain_type: 'ORGANIZATION_DOMAIN',
    organization_id: ACME,
    environment_id: ENV,
    verification_status: 'PENDING',
    verification_method: 'DNS',
    txt_record_key: TXT_KEY,
    txt_record_secret: TXT_SECRET,
    updated_at: '2026-01-15T10:00:00.000Z',
  },
};

/** `organization.domain_created` for a domain added through the API: `VERIFIED` by `ADMIN` at once. */
export const domainCreatedAdminVerified: DomainCreatedEvent = {
  ...envelope('evt_01JD9001AAAAAAAAAAAAAAAAAA', '2026-01-15T10:05:00.000Z', ACME, 'Acme Corp'),
  type: 'organization.domain_created',
  data: {
    id: 'dom_01JD9001BBBBBBBBBBBBBBBBBB',
    domain: 'acme.io',
    domain_type: 'ORGANIZATION_DOMAIN',
    organization_id: ACME,
    environment_id: ENV,
    verification_status: 'VERIFIED',
    verification_method: 'ADMIN',
    updated_at: '2026-01-15T10:05:00.000Z',
  },
};

/** `organization.domain_created` for an allowed email domain: `AUTO_VERIFIED`, no proof asked. */
export const domainCreatedAllowedEmail: DomainCreatedEvent = {
  ...envelope('evt_01JD9002AAAAAAAAAAAAAAAAAA', '2026-01-15T10:06:00.000Z', ACME, 'Acme Corp'),
  type: 'organization.domain_created',
  data: {
    id: 'dom_01JD9002BBBBBBBBBBBBBBBBBB',
    domain: 'acme-contractors.com',
    domain_type: 'ALLOWED_EMAIL_DOMAIN',
    organization_id: ACME,
    environment_id: ENV,
    verification_status: 'AUTO_VERIFIED',
    verification_method: 'NOT_APPLICABLE',
    updated_at: '2026-01-15T10:06:00.000Z',
  },
};

/** `organization.domain_dns_verification_success` for the DNS-pending domain above. */
export const domainDnsVerificationSuccess: DomainDnsVerificationSuccessEvent = {
  ...envelope('evt_01JD9003AAAAAAAAAAAAAAAAAA', '2026-01-15T10:12:30.000Z', ACME, 'Acme Corp'),
  type: 'organization.domain_dns_verification_success',
  data: {
    ...domainCreatedDnsPending.data,
    verification_status: 'VERIFIED',
    verification_method: 'DNS',
    updated_at: '2026-01-15T10:12:30.000Z',
  },
};

/** `organization.domain_dns_verification_failed` after the verification window ran out. */
export const domainDnsVerificationFailedWindowExpired: DomainDnsVerificationFailedEvent = {
  ...envelope('evt_01JD9004AAAAAAAAAAAAAAAAAA', '2026-01-18T10:00:00.000Z', GLOBEX, 'Globex'),
  type: 'organization.domain_dns_verification_failed',
  data: {
    id: 'dom_01JD9004BBBBBBBBBBBBBBBBBB',
    domain: 'globex.com',
    domain_type: 'ORGANIZATION_DOMAIN',
    organization_id: GLOBEX,
    environment_id: ENV,
    verification_status: 'FAILED',
    verification_method: 'DNS',
    txt_record_key: '_verihook-challenge-9zt3xw',
    txt_record_secret: 'verihook-verification=cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5',
    failure_reason: 'verification_window_expired',
    updated_at: '2026-01-18T10:00:00.000Z',
  },
};

/** `organization.domain_dns_verification_failed` because another organization verified the name first. */
export const domainDnsVerificationFailedOtherOrganization: DomainDnsVerificationFailedEvent = {
  ...envelope('evt_01JD9005AAAAAAAAAAAAAAAAAA', '2026-01-15T10:12:30.000Z', GLOBEX, 'Globex'),
  type: 'organization.domain_dns_verification_failed',
  data: {
    id: 'dom_01JD9005BBBBBBBBBBBBBBBBBB',
    domain: 'acmecorp.com',
    domain_type: 'ORGANIZATION_DOMAIN',
    organization_id: GLOBEX,
    environment_id: ENV,
    verification_status: 'FAILED',
    verification_method: 'DNS',
    txt_record_key: '_verihook-challenge-p7d2rk',
    txt_record_secret: 'verihook-verification=Z2xvYmV4Y2xhaW1zYWNtZWNvcnAxMjM',
    failure_reason: 'verified_by_other_organization',
    updated_at: '2026-01-15T10:12:30.000Z',
  },
};

/** `organization.domain_deleted` for the verified domain above. */
export const domainDeleted: DomainDeletedEvent = {
  ...envelope('evt_01JD9006AAAAAAAAAAAAAAAAAA', '2026-02-01T09:00:00.000Z', ACME, 'Acme Corp'),
  type: 'organization.domain_deleted',
  data: { ...domainDnsVerificationSuccess.data, updated_at: '2026-02-01T09:00:00.000Z' },
};

/** Every example above, by a short name. */
export const EXAMPLES = {
  domainCreatedDnsPending,
  domainCreatedAdminVerified,
  domainCreatedAllowedEmail,
  domainDnsVerificationSuccess,
  domainDnsVerificationFailedWindowExpired,
  domainDnsVerificationFailedOtherOrganization,
  domainDeleted,
} as const satisfies Record<string, VerihookEvent>;
