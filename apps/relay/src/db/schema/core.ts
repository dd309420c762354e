// Core tables: the environment, API clients and tokens, organizations, domains and the event outbox.
import type {
  DomainType,
  EventType,
  VerificationMethod,
  VerificationStatus,
} from '@verihook/events';
import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { CheckResult } from '../../verification/checker.ts';

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const createdAt = () => timestamptz('created_at').notNull().defaultNow();

/** The single row naming this relay deployment. */
export const environment = pgTable(
  'environment',
  {
    id: text('id').primaryKey(),
    singleton: boolean('singleton').notNull().default(true).unique(),
    createdAt: createdAt(),
  },
  (table) => [check('environment_singleton_check', sql`${table.singleton}`)],
);

/** OAuth clients allowed to call the API; the secret is kept only as a scrypt hash. */
export const apiClients = pgTable('api_clients', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  secretHash: text('secret_hash').notNull(),
  createdAt: createdAt(),
});

/** Bearer tokens issued to clients, kept only as the SHA-256 of the token. */
export const accessTokens = pgTable(
  'access_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    clientId: text('client_id')
      .notNull()
      .references(() => apiClients.id, { onDelete: 'cascade' }),
    expiresAt: timestamptz('expires_at').notNull(),
    createdAt: createdAt(),
  },
  (table) => [index('access_tokens_expires_at_idx').on(table.expiresAt)],
);

export const organizations = pgTable('organizations', {
  id: text('id').primaryKey(),
  displayName: text('display_name').notNull(),
  externalId: text('external_id').unique('organizations_external_id_key'),
  domainVerificationEnabled: boolean('domain_verification_enabled').notNull().default(false),
  createdAt: createdAt(),
  updatedAt: timestamptz('updated_at').notNull().defaultNow(),
});

/** The outcome of the latest DNS check of a domain, as the checker reports it. */
export type { CheckResult } from '../../verification/checker.ts';

export const domains = pgTable(
  'domains',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    domain: text('domain').notNull(),
    domainUnicode: text('domain_unicode').notNull(),
    domainType: text('domain_type').$type<DomainType>().notNull(),
    verificationStatus: text('verification_status').$type<VerificationStatus>().notNull(),
    verificationMethod: text('verification_method').$type<VerificationMethod>().notNull(),
    txtRecordKey: text('txt_record_key'),
    txtRecordSecret: text('txt_record_secret'),
    verificationExpiresAt: timestamptz('verification_expires_at'),
    nextCheckAt: timestamptz('next_check_at'),
    lastCheckedAt: timestamptz('last_checked_at'),
    lastCheckResult: jsonb('last_check_result').$type<CheckResult>(),
    checkCount: integer('check_count').notNull().default(0),
    failureReason: text('failure_reason'),
    checkLeaseUntil: timestamptz('check_lease_until'),
    createdAt: createdAt(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('domains_organization_id_domain_key').on(table.organizationId, table.domain),
    uniqueIndex('domains_verified_organization_domain_key')
      .on(table.domain)
      .where(
        sql`${table.domainType} = 'ORGANIZATION_DOMAIN' and ${table.verificationStatus} = 'VERIFIED'`,
      ),
    index('domains_due_check_idx')
      .on(table.nextCheckAt)
      .where(sql`${table.verificationStatus} = 'PENDING'`),
    index('domains_domain_idx').on(table.domain),
    index('domains_organization_id_id_idx').on(table.organizationId, table.id),
    check(
      'domains_domain_type_check',
      sql`${table.domainType} in ('ORGANIZATION_DOMAIN', 'ALLOWED_EMAIL_DOMAIN')`,
    ),
    check(
      'domains_verification_status_check',
      sql`${table.verificationStatus} in ('PENDING', 'VERIFIED', 'FAILED', 'AUTO_VERIFIED')`,
    ),
    check(
      'domains_verification_method_check',
      sql`${table.verificationMethod} in ('DNS', 'ADMIN', 'NOT_APPLICABLE')`,
    ),
    check(
      'domains_dns_record_check',
      sql`${table.verificationMethod} <> 'DNS' or (${table.txtRecordKey} is not null and ${table.txtRecordSecret} is not null)`,
    ),
  ],
);

/** The transactional outbox: every event, in the order it was recorded (`sequence`). */
export const events = pgTable(
  'events',
  {
    id: text('id').primaryKey(),
    sequence: bigserial('sequence', { mode: 'number' }).notNull().unique('events_sequence_key'),
    type: text('type').$type<EventType>().notNull(),
    organizationId: text('organization_id').notNull(),
    payload: jsonb('payload').notNull(),
    occurredAt: timestamptz('occurred_at').notNull(),
  },
  (table) => [
    index('events_occurred_at_idx').on(table.occurredAt),
    index('events_type_sequence_idx').on(table.type, table.sequence),
    index('events_organization_id_sequence_idx').on(table.organizationId, table.sequence),
  ],
);

export type ApiClientRow = typeof apiClients.$inferSelect;
export type OrganizationRow = typeof organizations.$inferSelect;
export type DomainRow = typeof domains.$inferSelect;
export type EventRow = typeof events.$inferSelect;
