// Delivery tables: webhook endpoints, the exact body of each delivered event, messages, attempts.
import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { events } from './core.ts';

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const createdAt = () => timestamptz('created_at').notNull().defaultNow();

export const ENDPOINT_STATUSES = ['enabled', 'disabled'] as const;
export type EndpointStatus = (typeof ENDPOINT_STATUSES)[number];

/** Why an endpoint is disabled: by hand, by a 410 Gone, or after failing for too long. */
export const DISABLED_REASONS = ['manual', 'gone', 'failing'] as const;
export type DisabledReason = (typeof DISABLED_REASONS)[number];

export const MESSAGE_STATUSES = [
  'pending',
  'inflight',
  'succeeded',
  'failed',
  'cancelled',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** Where events are delivered; the secret is kept readable because every attempt signs with it. */
export const endpoints = pgTable(
  'endpoints',
  {
    id: text('id').primaryKey(),
    url: text('url').notNull(),
    description: text('description').notNull().default(''),
    /** Empty: every event type. */
    eventTypes: text('event_types').array().notNull().default(sql`'{}'::text[]`),
    status: text('status').$type<EndpointStatus>().notNull().default('enabled'),
    disabledReason: text('disabled_reason').$type<DisabledReason>(),
    secret: text('secret').notNull(),
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: timestamptz('previous_secret_expires_at'),
    /** When the current run of failed attempts began; null after any success. */
    failingSince: timestamptz('failing_since'),
    createdAt: createdAt(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (table) => [
    check('endpoints_status_check', sql`${table.status} in ('enabled', 'disabled')`),
    check(
      'endpoints_disabled_reason_check',
      sql`(${table.status} = 'enabled' and ${table.disabledReason} is null) or (${table.status} = 'disabled' and ${table.disabledReason} in ('manual', 'gone', 'failing'))`,
    ),
  ],
);

/** The bytes every attempt of every message of an event sends, serialized once at fan-out. */
export const eventBodies = pgTable('event_bodies', {
  eventId: text('event_id')
    .primaryKey()
    .references(() => events.id),
  body: text('body').notNull(),
  createdAt: createdAt(),
});

/** One event on its way to one endpoint. */
export const messages = pgTable(
  'messages',
  {
    id: text('id').primaryKey(),
    eventId: text('event_id')
      .notNull()
      .references(() => eventBodies.eventId),
    endpointId: text('endpoint_id')
      .notNull()
      .references(() => endpoints.id, { onDelete: 'cascade' }),
    status: text('status').$type<MessageStatus>().notNull().default('pending'),
    attemptCount: integer('attempt_count').notNull().default(0),
    /** When a pending message is due; null once it is final. */
    nextAttemptAt: timestamptz('next_attempt_at'),
    /** Until when a worker holds an inflight message; after that it is due again. */
    leaseExpiresAt: timestamptz('lease_expires_at'),
    lastAttemptAt: timestamptz('last_attempt_at'),
    lastResponseStatusCode: integer('last_response_status_code'),
    lastErrorCode: text('last_error_code'),
    createdAt: createdAt(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('messages_event_id_endpoint_id_key').on(table.eventId, table.endpointId),
    index('messages_due_idx').on(table.nextAttemptAt).where(sql`${table.status} = 'pending'`),
    index('messages_lease_idx').on(table.leaseExpiresAt).where(sql`${table.status} = 'inflight'`),
    index('messages_endpoint_id_created_at_idx').on(table.endpointId, table.createdAt),
    check(
      'messages_status_check',
      sql`${table.status} in ('pending', 'inflight', 'succeeded', 'failed', 'cancelled')`,
    ),
    check(
      'messages_pending_due_check',
      sql`${table.status} <> 'pending' or ${table.nextAttemptAt} is not null`,
    ),
    check(
      'messages_inflight_lease_check',
      sql`${table.status} <> 'inflight' or ${table.leaseExpiresAt} is not null`,
    ),
  ],
);

/** Every request a message made, with what came back. */
export const attempts = pgTable(
  'attempts',
  {
    id: text('id').primaryKey(),
    messageId: text('message_id')
      .notNull()
      .references(() => messages.id, { onDelete: 'cascade' }),
    endpointId: text('endpoint_id').notNull(),
    attemptNumber: integer('attempt_number').notNull(),
    responseStatusCode: integer('response_status_code'),
    /** The first KiB of the response body. */
    responseBody: text('response_body').notNull().default(''),
    responseDurationMs: integer('response_duration_ms').notNull(),
    errorCode: text('error_code'),
    error: text('error'),
    createdAt: createdAt(),
  },
  (table) => [
    index('attempts_message_id_attempt_number_idx').on(table.messageId, table.attemptNumber),
    index('attempts_endpoint_id_id_idx').on(table.endpointId, table.id),
  ],
);

export type EndpointRow = typeof endpoints.$inferSelect;
export type MessageRow = typeof messages.$inferSelect;
export type AttemptRow = typeof attempts.$inferSelect;
