// The delivery queue in PostgreSQL: claim due messages, record what their attempts did, release.
import { and, eq, inArray, isNotNull, isNull, lte, type SQL, sql } from 'drizzle-orm';
import { type Db, queryRows } from '../db/index.ts';
import {
  type DisabledReason,
  endpoints,
  type MessageStatus,
  messages,
} from '../db/schema/index.ts';

/** A claimed message with everything its next attempt needs. */
export interface Delivery {
  messageId: string;
  eventId: string;
  endpointId: string;
  /** The attempt about to be made, counted from 1. */
  attemptNumber: number;
  url: string;
  endpointEnabled: boolean;
  /** The active signing secrets, newest first. */
  secrets: string[];
  /** The event exactly as every attempt sends it. */
  body: string;
}

/** What one attempt did to its message, and what it says about its endpoint. */
export interface AttemptOutcome {
  kind: 'attempted';
  messageId: string;
  endpointId: string;
  attemptId: string;
  attemptNumber: number;
  attemptedAt: Date;
  status: Extract<MessageStatus, 'succeeded' | 'pending' | 'failed'>;
  /** For `pending`: how long until the next attempt. */
  retryDelayMs: number | null;
  responseStatusCode: number | null;
  responseBody: string;
  responseDurationMs: number;
  errorCode: string | null;
  error: string | null;
  endpointResult: 'success' | 'failure' | 'gone';
}

/** A claimed message whose endpoint was disabled meanwhile: it is cancelled, never sent. */
export interface CancelOutcome {
  kind: 'cancelled';
  messageId: string;
  endpointId: string;
}

export type DeliveryOutcome = AttemptOutcome | CancelOutcome;

export interface DisabledEndpoint {
  endpointId: string;
  reason: DisabledReason;
}

const ms = (value: number) => sql`(${value}::float8 * interval '1 millisecond')`;

interface ClaimedRow extends Record<string, unknown> {
  id: string;
  event_id: string;
  endpoint_id: string;
  attempt_count: number;
  url: string;
  endpoint_status: string;
  secret: string;
  previous_secret: string | null;
  body: string;
}

/**
 * Claims up to `limit` due messages for `leaseMs` in one short statement: a CTE locks them,
 * skipping rows another worker holds, and the update moves them out of the due index. Bodies
 * and endpoints are joined to the claimed rows outside the locking and updating CTEs (PERF-NOTES
 * trap 1), in the same statement, so a claim is one round trip. The update finds the locked
 * rows by primary key (`= any(array(…))`): joining the CTE instead plans as a scan of the whole
 * table once statistics are stale (trap 2).
 */
export async function claimDueMessages(
  db: Db,
  options: { limit: number; leaseMs: number },
): Promise<Delivery[]> {
  const rows = await queryRows<ClaimedRow>(
    db,
    sql`
      with claimed as (${claimStatement(options)})
      select claimed.id, claimed.event_id, claimed.endpoint_id, claimed.attempt_count,
        endpoints.url, endpoints.status as endpoint_status, endpoints.secret,
        case when endpoints.previous_secret_expires_at > now()
          then endpoints.previous_secret end as previous_secret,
        event_bodies.body
      from claimed
      join endpoints on endpoints.id = claimed.endpoint_id
      join event_bodies on event_bodies.event_id = claimed.event_id
    `,
  );
  return rows.map((row) => ({
    messageId: row.id,
    eventId: row.event_id,
    endpointId: row.endpoint_id,
    attemptNumber: row.attempt_count + 1,
    url: row.url,
    endpointEnabled: row.endpoint_status === 'enabled',
    secrets: row.previous_secret ? [row.secret, row.previous_secret] : [row.secret],
    body: row.body,
  }));
}

/** The claim itself, exported so that tests can EXPLAIN it against a large backlog. */
export function claimStatement(options: { limit: number; leaseMs: number }): SQL {
  return sql`
    with due as (
      select id from messages
      where status = 'pending' and next_attempt_at <= now()
      order by next_attempt_at
      limit ${options.limit}
      for update skip locked
    )
    update messages
    set status = 'inflight', lease_expires_at = now() + ${ms(options.leaseMs)}, updated_at = now()
    where id = any(array(select id from due))
    returning id, event_id, endpoint_id, attempt_count
  `;
}

/** Puts claimed messages that were never sent back in the queue, due as they were. */
export async function releaseMessages(db: Db, messageIds: string[]): Promise<void> {
  if (messageIds.length === 0) return;
  await db
    .update(messages)
    .set({ status: 'pending', leaseExpiresAt: null, updatedAt: sql`now()` })
    .where(and(inArray(messages.id, messageIds), eq(messages.status, 'inflight')));
}

/** Makes messages whose lease ran out (their worker died) due now; returns how many. */
export async function releaseExpiredLeases(db: Db, limit = 1000): Promise<number> {
  const released = await queryRows<{ id: string }>(
    db,
    sql`
      with expired as (
        select id from messages
        where status = 'inflight' and lease_expires_at < now()
        order by lease_expires_at
        limit ${limit}
        for update skip locked
      )
      update messages
      set status = 'pending', lease_expires_at = null, next_attempt_at = now(), updated_at = now()
      where id = any(array(select id from expired))
      returning id
    `,
  );
  return released.length;
}

/** Milliseconds until the earliest pending message is due (0 or less: due now), or null. */
export async function millisUntilNextDue(db: Db): Promise<number | null> {
  const [row] = await queryRows<{ ms: number | null }>(
    db,
    sql`
      select (extract(epoch from (min(next_attempt_at) - now())) * 1000)::float8 as ms
      from messages where status = 'pending'
    `,
  );
  return row?.ms ?? null;
}

/**
 * Disables enabled endpoints for `reason` and cancels every pending message of the given
 * endpoints, within `tx`; returns the endpoints this call disabled.
 */
export async function disableEndpoints(
  tx: Db,
  endpointIds: string[],
  reason: DisabledReason,
): Promise<string[]> {
  if (endpointIds.length === 0) return [];
  const disabled = await tx
    .update(endpoints)
    .set({ status: 'disabled', disabledReason: reason, updatedAt: sql`now()` })
    .where(and(inArray(endpoints.id, endpointIds), eq(endpoints.status, 'enabled')))
    .returning({ id: endpoints.id });
  await cancelPendingMessages(tx, endpointIds);
  return disabled.map((row) => row.id);
}

async function cancelPendingMessages(tx: Db, endpointIds: string[]): Promise<void> {
  await tx
    .update(messages)
    .set({ status: 'cancelled', nextAttemptAt: null, updatedAt: sql`now()` })
    .where(and(inArray(messages.endpointId, endpointIds), eq(messages.status, 'pending')));
}

/**
 * Records a batch of outcomes in one transaction: each message's new status with its attempt
 * row, then what they mean for their endpoints (a success ends a failing run; a 410 Gone, or
 * failing for `disableAfterMs`, disables the endpoint and cancels its pending messages).
 */
export async function recordOutcomes(
  db: Db,
  outcomes: DeliveryOutcome[],
  policy: { disableAfterMs: number },
): Promise<DisabledEndpoint[]> {
  const attempted = outcomes.filter((outcome) => outcome.kind === 'attempted');
  const cancelled = outcomes.filter((outcome) => outcome.kind === 'cancelled');
  return db.transaction(async (tx) => {
    if (attempted.length > 0) await recordAttempts(tx, attempted);
    if (cancelled.length > 0) await cancelClaimedMessages(tx, cancelled);
    return applyEndpointResults(tx, attempted, policy);
  });
}

/**
 * The statement `recordOutcomes` writes attempts with, exported so that tests can EXPLAIN it.
 * Attempts are written only for messages that still exist (deleting an endpoint cascades); that
 * check is a lateral primary-key lookup per outcome, since as a join it planned as a scan of the
 * whole messages table, which keeps every delivered message, on every batch.
 */
export function recordAttemptsStatement(outcomes: AttemptOutcome[]): SQL {
  const input = outcomes.map((outcome) => ({
    message_id: outcome.messageId,
    endpoint_id: outcome.endpointId,
    attempt_id: outcome.attemptId,
    attempt_number: outcome.attemptNumber,
    attempted_at: outcome.attemptedAt.toISOString(),
    status: outcome.status,
    retry_delay_ms: outcome.retryDelayMs,
    response_status_code: outcome.responseStatusCode,
    response_body: outcome.responseBody,
    response_duration_ms: outcome.responseDurationMs,
    error_code: outcome.errorCode,
    error: outcome.error,
  }));
  return sql`
    with input as (
      select * from jsonb_to_recordset(${JSON.stringify(input)}::jsonb) as i(
        message_id text, endpoint_id text, attempt_id text, attempt_number int,
        attempted_at timestamptz, status text, retry_delay_ms float8, response_status_code int,
        response_body text, response_duration_ms int, error_code text, error text
      )
    ), updated as (
      update messages m
      set status = i.status,
        attempt_count = greatest(m.attempt_count, i.attempt_number),
        next_attempt_at = case when i.status = 'pending'
          then now() + i.retry_delay_ms * interval '1 millisecond' end,
        lease_expires_at = null,
        last_attempt_at = i.attempted_at,
        last_response_status_code = i.response_status_code,
        last_error_code = i.error_code,
        updated_at = now()
      from input i
      where m.id = i.message_id and m.status = 'inflight'
    )
    insert into attempts (
      id, message_id, endpoint_id, attempt_number, response_status_code, response_body,
      response_duration_ms, error_code, error, created_at
    )
    select i.attempt_id, i.message_id, i.endpoint_id, i.attempt_number, i.response_status_code,
      i.response_body, i.response_duration_ms, i.error_code, i.error, i.attempted_at
    from input i
    cross join lateral (select 1 from messages m where m.id = i.message_id limit 1) as existing
  `;
}

async function recordAttempts(tx: Db, outcomes: AttemptOutcome[]): Promise<void> {
  await tx.execute(recordAttemptsStatement(outcomes));
}

async function cancelClaimedMessages(tx: Db, outcomes: CancelOutcome[]): Promise<void> {
  await tx
    .update(messages)
    .set({ status: 'cancelled', nextAttemptAt: null, leaseExpiresAt: null, updatedAt: sql`now()` })
    .where(
      and(
        inArray(
          messages.id,
          outcomes.map((outcome) => outcome.messageId),
        ),
        eq(messages.status, 'inflight'),
      ),
    );
}

// The latest outcome per endpoint decides: outcomes arrive in the order their attempts ended.
function latestResults(outcomes: AttemptOutcome[]): Map<string, AttemptOutcome['endpointResult']> {
  const latest = new Map<string, AttemptOutcome['endpointResult']>();
  for (const outcome of outcomes) {
    if (latest.get(outcome.endpointId) !== 'gone') {
      latest.set(outcome.endpointId, outcome.endpointResult);
    }
  }
  return latest;
}

async function applyEndpointResults(
  tx: Db,
  outcomes: AttemptOutcome[],
  policy: { disableAfterMs: number },
): Promise<DisabledEndpoint[]> {
  const latest = [...latestResults(outcomes)];
  const withResult = (result: AttemptOutcome['endpointResult']) =>
    latest.filter(([, value]) => value === result).map(([endpointId]) => endpointId);
  const [succeeded, failing, gone] = [
    withResult('success'),
    withResult('failure'),
    withResult('gone'),
  ];

  if (succeeded.length > 0) {
    await tx
      .update(endpoints)
      .set({ failingSince: null })
      .where(and(inArray(endpoints.id, succeeded), isNotNull(endpoints.failingSince)));
  }
  let failedTooLong: string[] = [];
  if (failing.length > 0) {
    await tx
      .update(endpoints)
      .set({ failingSince: sql`now()` })
      .where(and(inArray(endpoints.id, failing), isNull(endpoints.failingSince)));
    const rows = await tx
      .select({ id: endpoints.id })
      .from(endpoints)
      .where(
        and(
          inArray(endpoints.id, failing),
          eq(endpoints.status, 'enabled'),
          lte(endpoints.failingSince, sql`now() - ${ms(policy.disableAfterMs)}`),
        ),
      );
    failedTooLong = rows.map((row) => row.id);
  }

  const disabled: DisabledEndpoint[] = [];
  for (const [ids, reason] of [
    [gone, 'gone'],
    [failedTooLong, 'failing'],
  ] as const) {
    const newlyDisabled = await disableEndpoints(tx, ids, reason);
    disabled.push(...newlyDisabled.map((endpointId) => ({ endpointId, reason })));
  }
  return disabled;
}
