// The transactional outbox: the one place events are written, inside the change's transaction.
import { type EventType, parseEvent, type VerihookEvent } from '@verihook/events';
import type { Db } from '../db/index.ts';
import { type DomainRow, environment, events, type OrganizationRow } from '../db/schema/index.ts';
import { toDomainData } from '../domains/objects.ts';
import { newId } from '../ids.ts';

/** Runs inside the event's transaction, right after its insert; a throw rolls everything back. */
export type EventRecordedHook = (
  tx: Db,
  event: VerihookEvent,
  recorded: { sequence: number },
) => Promise<void>;

const recordedHooks = new Set<EventRecordedHook>();

/** Registers a hook for every recorded event (delivery fan-out); returns its removal. */
export function onEventRecorded(hook: EventRecordedHook): () => void {
  recordedHooks.add(hook);
  return () => {
    recordedHooks.delete(hook);
  };
}

export interface RecordEventInput {
  type: EventType;
  organization: Pick<OrganizationRow, 'id' | 'displayName'>;
  /** The domain as it stands after the change (for a deletion: as it was, with `updatedAt` now). */
  domain: DomainRow;
  occurredAt?: Date;
}

async function environmentId(tx: Db): Promise<string> {
  const [row] = await tx.select({ id: environment.id }).from(environment);
  if (!row)
    throw new Error('the environment row is missing: was the database opened with openDatabase?');
  return row.id;
}

/**
 * Builds the event exactly as `@verihook/events` defines it, checks it with `parseEvent`, and
 * inserts it within the caller's transaction `tx`. Throws, so rolling back the change, when the
 * event would not be valid.
 */
export async function recordEvent(tx: Db, input: RecordEventInput): Promise<VerihookEvent> {
  if (input.domain.organizationId !== input.organization.id) {
    throw new Error(`domain ${input.domain.id} does not belong to ${input.organization.id}`);
  }
  const envId = await environmentId(tx);
  const occurredAt = input.occurredAt ?? new Date();
  const event = parseEvent({
    spec_version: '1',
    id: newId('evt'),
    type: input.type,
    occurred_at: occurredAt.toISOString(),
    environment_id: envId,
    organization_id: input.organization.id,
    object: 'Organization',
    display_name: input.organization.displayName,
    data: toDomainData(input.domain, envId),
  });

  const [row] = await tx
    .insert(events)
    .values({
      id: event.id,
      type: event.type,
      organizationId: event.organization_id,
      payload: event,
      occurredAt,
    })
    .returning({ sequence: events.sequence });
  for (const hook of recordedHooks) await hook(tx, event, { sequence: row?.sequence ?? 0 });
  return event;
}
