// Fan-out: inside the event's transaction, one message per enabled endpoint that wants the event.
import type { VerihookEvent } from '@verihook/events';
import { sql } from 'drizzle-orm';
import type { Config } from '../config.ts';
import { type Db, notifyInTransaction, queryRows } from '../db/index.ts';
import { onEventRecorded } from '../events/outbox.ts';
import { firstAttemptDelayMs } from './retry-policy.ts';

/** Workers LISTEN here; a NOTIFY arrives when a transaction that created messages commits. */
export const MESSAGES_CHANNEL = 'verihook_messages';

/**
 * Creates the event's messages and stores its body, the exact bytes every attempt sends. Each
 * message id is `msg_` and the first 28 hex digits of sha256("<event id>:<endpoint id>"), so
 * the same event reaching the same endpoint twice can never mint a second id (DLV-31).
 */
export async function fanOutEvent(
  tx: Db,
  event: VerihookEvent,
  options: { firstAttemptDelayMs: number },
): Promise<number> {
  const [row] = await queryRows<{ created: number }>(
    tx,
    sql`
      with targets as (
        select id from endpoints
        where status = 'enabled'
          and (cardinality(event_types) = 0 or ${event.type}::text = any(event_types))
      ), body as (
        insert into event_bodies (event_id, body)
        select ${event.id}::text, ${JSON.stringify(event)}::text
        where exists (select 1 from targets)
        on conflict (event_id) do nothing
      ), created as (
        insert into messages (id, event_id, endpoint_id, status, next_attempt_at)
        select
          'msg_' || left(encode(sha256(convert_to(e.id || ':' || targets.id, 'UTF8')), 'hex'), 28),
          e.id,
          targets.id,
          'pending',
          now() + ${options.firstAttemptDelayMs}::float8 * interval '1 millisecond'
        from targets, (select ${event.id}::text as id) as e
        on conflict do nothing
        returning 1
      )
      select count(*)::int as created from created
    `,
  );
  const created = row?.created ?? 0;
  if (created > 0) await notifyInTransaction(tx, MESSAGES_CHANNEL);
  return created;
}

let removeInstalled: (() => void) | undefined;

/** Makes every recorded event fan out (once per process; a second call replaces the first). */
export function installFanOut(config: Pick<Config, 'retryScheduleMs'>): () => void {
  removeInstalled?.();
  const options = { firstAttemptDelayMs: firstAttemptDelayMs(config.retryScheduleMs) };
  const remove = onEventRecorded(async (tx, event) => {
    await fanOutEvent(tx, event, options);
  });
  const uninstall = () => {
    remove();
    if (removeInstalled === uninstall) removeInstalled = undefined;
  };
  removeInstalled = uninstall;
  return uninstall;
}
