// Messages and attempts for the API: an event's deliveries, an endpoint's attempts, retry, recover.
import { and, asc, desc, eq, gt, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import { type Db, notifyInTransaction } from '../db/index.ts';
import {
  type AttemptRow,
  attempts,
  endpoints,
  events,
  type MessageRow,
  messages,
} from '../db/schema/index.ts';
import { ApiError, notFound } from '../errors.ts';
import { type PageRequest, readsBackwards, toPage } from '../pagination.ts';
import { MESSAGES_CHANNEL } from './fanout.ts';

export interface AttemptObject {
  id: string;
  object: 'webhook_attempt';
  message_id: string;
  endpoint_id: string;
  attempt_number: number;
  response_status_code: number | null;
  response_body: string;
  response_duration_ms: number;
  error: { code: string; message: string } | null;
  created_at: string;
}

export interface MessageObject {
  id: string;
  object: 'webhook_message';
  event_id: string;
  endpoint_id: string;
  status: MessageRow['status'];
  attempt_count: number;
  next_attempt_at: string | null;
  last_attempt_at: string | null;
  last_response_status_code: number | null;
  created_at: string;
  updated_at: string;
  attempts: AttemptObject[];
}

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

export function toAttemptObject(row: AttemptRow): AttemptObject {
  return {
    id: row.id,
    object: 'webhook_attempt',
    message_id: row.messageId,
    endpoint_id: row.endpointId,
    attempt_number: row.attemptNumber,
    response_status_code: row.responseStatusCode,
    response_body: row.responseBody,
    response_duration_ms: row.responseDurationMs,
    error: row.errorCode === null ? null : { code: row.errorCode, message: row.error ?? '' },
    created_at: row.createdAt.toISOString(),
  };
}

export function toMessageObject(row: MessageRow, attemptRows: AttemptRow[]): MessageObject {
  return {
    id: row.id,
    object: 'webhook_message',
    event_id: row.eventId,
    endpoint_id: row.endpointId,
    status: row.status,
    attempt_count: row.attemptCount,
    next_attempt_at: iso(row.nextAttemptAt),
    last_attempt_at: iso(row.lastAttemptAt),
    last_response_status_code: row.lastResponseStatusCode,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    attempts: attemptRows.map(toAttemptObject),
  };
}

async function withAttempts(db: Db, rows: MessageRow[]): Promise<MessageObject[]> {
  if (rows.length === 0) return [];
  const attemptRows = await db
    .select()
    .from(attempts)
    .where(
      inArray(
        attempts.messageId,
        rows.map((row) => row.id),
      ),
    )
    .orderBy(asc(attempts.messageId), asc(attempts.attemptNumber), asc(attempts.id));
  const byMessage = new Map<string, AttemptRow[]>();
  for (const attempt of attemptRows) {
    byMessage.set(attempt.messageId, [...(byMessage.get(attempt.messageId) ?? []), attempt]);
  }
  return rows.map((row) => toMessageObject(row, byMessage.get(row.id) ?? []));
}

/** One page of an event's messages (by id), each with its attempts; 404 for an unknown event. */
export async function listEventMessages(db: Db, eventId: string, page: PageRequest) {
  const [event] = await db.select({ id: events.id }).from(events).where(eq(events.id, eventId));
  if (!event) throw notFound('Event');

  const conditions: SQL[] = [eq(messages.eventId, eventId)];
  if (page.after !== undefined) conditions.push(lt(messages.id, page.after));
  if (page.before !== undefined) conditions.push(gt(messages.id, page.before));
  const rows = await db
    .select()
    .from(messages)
    .where(and(...conditions))
    .orderBy(readsBackwards(page) ? asc(messages.id) : desc(messages.id))
    .limit(page.pageSize + 1);
  const result = toPage(rows, page);
  return { items: await withAttempts(db, result.items), list_metadata: result.list_metadata };
}

/** A message with its attempts; 404 when there is none. */
export async function getMessage(db: Db, id: string): Promise<MessageObject> {
  const [row] = await db.select().from(messages).where(eq(messages.id, id));
  if (!row) throw notFound('Message');
  const [message] = await withAttempts(db, [row]);
  return message as MessageObject;
}

async function requireEndpoint(db: Db, endpointId: string) {
  const [endpoint] = await db
    .select({ id: endpoints.id, status: endpoints.status })
    .from(endpoints)
    .where(eq(endpoints.id, endpointId));
  if (!endpoint) throw notFound('Endpoint');
  return endpoint;
}

/** One page of an endpoint's attempts, newest first. */
export async function listEndpointAttempts(db: Db, endpointId: string, page: PageRequest) {
  await requireEndpoint(db, endpointId);
  const conditions: SQL[] = [eq(attempts.endpointId, endpointId)];
  if (page.after !== undefined) conditions.push(lt(attempts.id, page.after));
  if (page.before !== undefined) conditions.push(gt(attempts.id, page.before));
  const rows = await db
    .select()
    .from(attempts)
    .where(and(...conditions))
    .orderBy(readsBackwards(page) ? asc(attempts.id) : desc(attempts.id))
    .limit(page.pageSize + 1);
  const result = toPage(rows, page);
  return { items: result.items.map(toAttemptObject), list_metadata: result.list_metadata };
}

function endpointDisabled(): ApiError {
  return new ApiError(409, 'endpoint_disabled', 'The endpoint is disabled: enable it first');
}

/**
 * Makes a message due now, whatever its status except in flight. Its attempts keep counting:
 * within the retry schedule it goes on retrying; past its end this is a single attempt.
 */
export async function retryMessage(db: Db, id: string): Promise<MessageObject> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(messages).where(eq(messages.id, id)).for('update');
    if (!row) throw notFound('Message');
    if (row.status === 'inflight') {
      throw new ApiError(409, 'message_in_flight', 'The message is being attempted right now');
    }
    if ((await requireEndpoint(tx, row.endpointId)).status !== 'enabled') throw endpointDisabled();
    const [due] = await tx
      .update(messages)
      .set({ status: 'pending', nextAttemptAt: sql`now()`, updatedAt: sql`now()` })
      .where(eq(messages.id, id))
      .returning();
    await notifyInTransaction(tx, MESSAGES_CHANNEL);
    const [message] = await withAttempts(tx, [due ?? row]);
    return message as MessageObject;
  });
}

/**
 * Makes every failed or cancelled message of an enabled endpoint created at or after `since`
 * due now; returns how many.
 */
export async function recoverMessages(db: Db, endpointId: string, since: Date): Promise<number> {
  return db.transaction(async (tx) => {
    if ((await requireEndpoint(tx, endpointId)).status !== 'enabled') throw endpointDisabled();
    const recovered = await tx
      .update(messages)
      .set({ status: 'pending', nextAttemptAt: sql`now()`, updatedAt: sql`now()` })
      .where(
        and(
          eq(messages.endpointId, endpointId),
          inArray(messages.status, ['failed', 'cancelled']),
          gte(messages.createdAt, since),
        ),
      )
      .returning({ id: messages.id });
    if (recovered.length > 0) await notifyInTransaction(tx, MESSAGES_CHANNEL);
    return recovered.length;
  });
}
