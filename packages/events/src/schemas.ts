// The wire shapes of Verihook's organization-domain events, spec_version "1".
import { z } from 'zod';

const ID_BODY = '[0-9A-Za-z_-]+';

/** A prefixed, URL-safe identifier of at most 32 characters, such as `dom_01J…`. */
export function prefixedId<P extends string>(prefix: P) {
  return z
    .string()
    .max(32)
    .regex(new RegExp(`^${prefix}_${ID_BODY}$`), {
      error: `must be an id starting with ${prefix}_`,
    })
    .meta({ description: `Identifier with the ${prefix}_ prefix, at most 32 characters.` });
}

/** An RFC 3339 timestamp in UTC, such as `2026-01-15T10:00:00.000Z`. */
export const Timestamp = z.iso
  .datetime({ error: 'must be an RFC 3339 timestamp in UTC (ending in Z)' })
  .meta({ description: 'RFC 3339 timestamp in UTC.' });

/** Every event type Verihook sends, in the order of a domain's life. */
export const EVENT_TYPES = [
  'organization.domain_created',
  'organization.domain_deleted',
  'organization.domain_dns_verification_success',
  'organization.domain_dns_verification_failed',
] as const;

/** The name of one event type. */
export type EventType = (typeof EVENT_TYPES)[number];

/** Whether a domain proves ownership or only lets users of that email domain join. */
export const DomainType = z.enum(['ORGANIZATION_DOMAIN', 'ALLOWED_EMAIL_DOMAIN']);
export type DomainType = z.infer<typeof DomainType>;

/** Where a domain stands in its verification. */
export const VerificationStatus = z.enum(['PENDING', 'VERIFIED', 'FAILED', 'AUTO_VERIFIED']);
export type VerificationStatus = z.infer<typeof VerificationStatus>;

/** How a domain is (or was) verified. */
export const VerificationMethod = z.enum(['DNS', 'ADMIN', 'NOT_APPLICABLE']);
export type VerificationMethod = z.infer<typeof VerificationMethod>;

/** Why a DNS verification ended in failure. */
export const FailureReason = z.enum([
  'verification_window_expired',
  'verified_by_other_organization',
]);
export type FailureReason = z.infer<typeof FailureReason>;

const domainName = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/,
    {
      error: 'must be a lower-case ASCII domain name (IDNA A-label)',
    },
  )
  .meta({ description: 'The domain name as its IDNA A-label, lower case, no trailing dot.' });

/** A domain as it stands when the event is recorded. */
export const DomainData = z
  .looseObject({
    id: prefixedId('dom'),
    domain: domainName,
    domain_type: DomainType,
    organization_id: prefixedId('org'),
    environment_id: prefixedId('env'),
    verification_status: VerificationStatus,
    verification_method: VerificationMethod,
    txt_record_key: z.string().min(1).max(63).optional(),
    txt_record_secret: z.string().min(1).max(255).optional(),
    updated_at: Timestamp,
  })
  .meta({ id: 'DomainData', description: 'The domain the event is about.' });
export type DomainData = z.infer<typeof DomainData>;

const envelopeShape = {
  spec_version: z.literal('1'),
  id: prefixedId('evt'),
  occurred_at: Timestamp,
  environment_id: prefixedId('env'),
  organization_id: prefixedId('org'),
  object: z.literal('Organization'),
  display_name: z.string().min(1),
};

/** The fields every event carries around its `data`. */
export const EventEnvelope = z.looseObject({
  ...envelopeShape,
  type: z.enum(EVENT_TYPES),
  data: DomainData,
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;

/** Sent when a domain is added, by any method and of either type. */
export const DomainCreatedEvent = z
  .looseObject({
    ...envelopeShape,
    type: z.literal('organization.domain_created'),
    data: DomainData,
  })
  .meta({ id: 'organization.domain_created' });
export type DomainCreatedEvent = z.infer<typeof DomainCreatedEvent>;

/** Sent when a domain is removed, also when its organization is deleted. */
export const DomainDeletedEvent = z
  .looseObject({
    ...envelopeShape,
    type: z.literal('organization.domain_deleted'),
    data: DomainData,
  })
  .meta({ id: 'organization.domain_deleted' });
export type DomainDeletedEvent = z.infer<typeof DomainDeletedEvent>;

/** The data of a success event: a domain that a DNS check has just proven. */
export const VerifiedDomainData = DomainData.extend({
  verification_status: z.literal('VERIFIED'),
  verification_method: z.literal('DNS'),
}).meta({ id: 'VerifiedDomainData' });

/** Sent when a DNS check proves ownership of a domain. */
export const DomainDnsVerificationSuccessEvent = z
  .looseObject({
    ...envelopeShape,
    type: z.literal('organization.domain_dns_verification_success'),
    data: VerifiedDomainData,
  })
  .meta({ id: 'organization.domain_dns_verification_success' });
export type DomainDnsVerificationSuccessEvent = z.infer<typeof DomainDnsVerificationSuccessEvent>;

/** The data of a failed event: a domain whose DNS verification has ended, with the reason. */
export const FailedDomainData = DomainData.extend({
  verification_status: z.literal('FAILED'),
  verification_method: z.literal('DNS'),
  failure_reason: FailureReason,
}).meta({ id: 'FailedDomainData' });

/** Sent when the verification window expires or another organization verified the name first. */
export const DomainDnsVerificationFailedEvent = z
  .looseObject({
    ...envelopeShape,
    type: z.literal('organization.domain_dns_verification_failed'),
    data: FailedDomainData,
  })
  .meta({ id: 'organization.domain_dns_verification_failed' });
export type DomainDnsVerificationFailedEvent = z.infer<typeof DomainDnsVerificationFailedEvent>;

/** Any Verihook event, discriminated on `type`. */
export const VerihookEvent = z
  .discriminatedUnion('type', [
    DomainCreatedEvent,
    DomainDeletedEvent,
    DomainDnsVerificationSuccessEvent,
    DomainDnsVerificationFailedEvent,
  ])
  .meta({ id: 'VerihookEvent' });
export type VerihookEvent = z.infer<typeof VerihookEvent>;

/** The schema of each event type, by its name. */
export const EVENT_SCHEMAS = {
  'organization.domain_created': DomainCreatedEvent,
  'organization.domain_deleted': DomainDeletedEvent,
  'organization.domain_dns_verification_success': DomainDnsVerificationSuccessEvent,
  'organization.domain_dns_verification_failed': DomainDnsVerificationFailedEvent,
} as const satisfies Record<EventType, z.ZodType>;

/** The event of one type, looked up by its name. */
export type EventOfType<T extends EventType> = Extract<VerihookEvent, { type: T }>;
