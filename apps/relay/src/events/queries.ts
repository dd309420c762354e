// Reading the outbox for the API: newest first, filtered by type and organization.
import { type EventType, parseEvent, type VerihookEvent } from '@verihook/events';
import { and, asc, desc, eq, gt, lt, type SQL } from 'drizzle-orm';
import type { Db } from '../db/index.ts';
import { events } from '../db/schema/index.ts';
import { ApiError } from '../errors.ts';
import { type PageRequest, readsBackwards, toPage } from '../pagination.ts';

export interface ListEventsFilter {
  type?: EventType | undefined;
  organizationId?: string | undefined;
}

async function sequenceOf(db: Db, id: string, parameter: 'after' | 'before'): Promise<number> {
  const [row] = await db
    .select({ sequence: events.sequence })
    .from(events)
    .where(eq(events.id, id));
  if (!row) {
    throw new ApiError(400, 'invalid_cursor', `No event has the id given as ${parameter}`, {
      fields: [{ path: parameter, message: 'is not the id of an event' }],
    });
  }
  return row.sequence;
}

/** One page of events in the order they were recorded, newest first. */
export async function listEvents(db: Db, filter: ListEventsFilter, page: PageRequest) {
  const conditions: SQL[] = [];
  if (filter.type) conditions.push(eq(events.type, filter.type));
  if (filter.organizationId) conditions.push(eq(events.organizationId, filter.organizationId));
  if (page.after !== undefined)
    conditions.push(lt(events.sequence, await sequenceOf(db, page.after, 'after')));
  if (page.before !== undefined)
    conditions.push(gt(events.sequence, await sequenceOf(db, page.before, 'before')));

  const rows = await db
    .select({ id: events.id, payload: events.payload })
    .from(events)
    .where(and(...conditions))
    .orderBy(readsBackwards(page) ? asc(events.sequence) : desc(events.sequence))
    .limit(page.pageSize + 1);
  const result = toPage(rows, page);
  // Parsing puts the fields back in the schema's order (jsonb stores them sorted).
  const items: VerihookEvent[] = result.items.map((row) => parseEvent(row.payload));
  return { items, list_metadata: result.list_metadata };
}
