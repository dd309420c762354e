// The consumer's tables: what it knows about each domain, and which messages it has processed.
import { sql } from 'drizzle-orm';
import { boolean, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** One row per Verihook domain id, holding the newest state any event has told us about. */
export const organizationDomains = pgTable(
  'organization_domains',
  {
    id: text('id').primaryKey(),
    domain: text('domain').notNull(),
    organizationId: text('organization_id').notNull(),
    domainType: text('domain_type').notNull(),
    verificationStatus: text('verification_status').notNull(),
    verificationMethod: text('verification_method').notNull(),
    routable: boolean('routable').notNull(),
    deleted: boolean('deleted').notNull(),
    // `data.updated_at` of the event that wrote this row; kept as text into SQL so microseconds survive.
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull(),
    lastEventId: text('last_event_id').notNull(),
  },
  (table) => [
    index('organization_domains_routable_domain_idx')
      .on(table.domain)
      .where(sql`${table.routable}`),
    index('organization_domains_organization_idx').on(table.organizationId, table.domain),
  ],
);

/** Every webhook message id whose effect has been committed, written in the same transaction. */
export const processedMessages = pgTable('processed_messages', {
  messageId: text('message_id').primaryKey(),
  eventId: text('event_id').notNull(),
  eventType: text('event_type').notNull(),
  processedAt: timestamp('processed_at', { withTimezone: true }).notNull().defaultNow(),
});
