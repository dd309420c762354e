// Webhook endpoints: create, read, list, update, delete, enable, disable, and their secrets.
import type { EventType } from '@verihook/events';
import { and, asc, desc, eq, gt, lt, type SQL, sql } from 'drizzle-orm';
import type { Config } from '../config.ts';
import type { Db } from '../db/index.ts';
import { type DisabledReason, type EndpointRow, endpoints } from '../db/schema/index.ts';
import { generateSecret } from '../delivery/signing.ts';
import { type HostLookup, validateEndpointUrl } from '../delivery/ssrf.ts';
import { disableEndpoints } from '../delivery/store.ts';
import { ApiError, notFound } from '../errors.ts';
import { newId } from '../ids.ts';
import { type PageRequest, readsBackwards, toPage } from '../pagination.ts';

export interface EndpointObject {
  id: string;
  object: 'webhook_endpoint';
  url: string;
  description: string;
  /** Empty: every event type. */
  event_types: EventType[];
  status: EndpointRow['status'];
  disabled_reason: DisabledReason | null;
  failing_since: string | null;
  /** While a rotated-out secret still signs: when it stops. */
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface EndpointInput {
  url: string;
  description?: string | undefined;
  event_types?: EventType[] | undefined;
}

export type EndpointUpdate = Partial<EndpointInput>;

/** What saving an endpoint URL needs: the private-endpoint switch, and a resolver for tests. */
export interface EndpointUrlPolicy {
  allowPrivateEndpoints: Config['allowPrivateEndpoints'];
  lookup?: HostLookup | undefined;
}

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

/** The API's `webhook_endpoint` object; it never carries a secret. */
export function toEndpointObject(row: EndpointRow, now = new Date()): EndpointObject {
  const previousActive =
    row.previousSecret !== null &&
    row.previousSecretExpiresAt !== null &&
    row.previousSecretExpiresAt > now;
  return {
    id: row.id,
    object: 'webhook_endpoint',
    url: row.url,
    description: row.description,
    event_types: row.eventTypes as EventType[],
    status: row.status,
    disabled_reason: row.disabledReason,
    failing_since: iso(row.failingSince),
    previous_secret_expires_at: previousActive ? iso(row.previousSecretExpiresAt) : null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

async function checkedUrl(input: string, policy: EndpointUrlPolicy): Promise<string> {
  const check = await validateEndpointUrl(input, {
    allowPrivate: policy.allowPrivateEndpoints,
    allowHttp: false,
    lookup: policy.lookup,
  });
  if (check.ok) return check.url.toString();
  const code = check.code === 'blocked_address' ? 'endpoint_url_blocked' : 'invalid_endpoint_url';
  throw new ApiError(400, code, `Invalid endpoint URL: ${check.message}`, {
    fields: [{ path: 'url', message: `${check.message} (${check.code})` }],
  });
}

function uniqueTypes(types: EventType[] | undefined): EventType[] {
  return [...new Set(types ?? [])];
}

export async function createEndpoint(
  db: Db,
  input: EndpointInput,
  policy: EndpointUrlPolicy,
): Promise<EndpointRow> {
  const url = await checkedUrl(input.url, policy);
  const [row] = await db
    .insert(endpoints)
    .values({
      id: newId('ep'),
      url,
      description: input.description ?? '',
      eventTypes: uniqueTypes(input.event_types),
      secret: generateSecret(),
    })
    .returning();
  if (!row) throw new Error('insert into endpoints returned no row');
  return row;
}

export async function getEndpoint(db: Db, id: string): Promise<EndpointRow> {
  const [row] = await db.select().from(endpoints).where(eq(endpoints.id, id));
  if (!row) throw notFound('Endpoint');
  return row;
}

/** One page of endpoints, newest first. */
export async function listEndpoints(db: Db, page: PageRequest) {
  const conditions: SQL[] = [];
  if (page.after !== undefined) conditions.push(lt(endpoints.id, page.after));
  if (page.before !== undefined) conditions.push(gt(endpoints.id, page.before));
  const rows = await db
    .select()
    .from(endpoints)
    .where(and(...conditions))
    .orderBy(readsBackwards(page) ? asc(endpoints.id) : desc(endpoints.id))
    .limit(page.pageSize + 1);
  return toPage(rows, page);
}

export async function updateEndpoint(
  db: Db,
  id: string,
  input: EndpointUpdate,
  policy: EndpointUrlPolicy,
): Promise<EndpointRow> {
  const url = input.url === undefined ? undefined : await checkedUrl(input.url, policy);
  const [row] = await db
    .update(endpoints)
    .set({
      ...(url !== undefined ? { url } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.event_types !== undefined ? { eventTypes: uniqueTypes(input.event_types) } : {}),
      updatedAt: sql`now()`,
    })
    .where(eq(endpoints.id, id))
    .returning();
  if (!row) throw notFound('Endpoint');
  return row;
}

/** Deletes the endpoint with its messages and attempts. */
export async function deleteEndpoint(db: Db, id: string): Promise<void> {
  const deleted = await db
    .delete(endpoints)
    .where(eq(endpoints.id, id))
    .returning({ id: endpoints.id });
  if (deleted.length === 0) throw notFound('Endpoint');
}

/** Stops deliveries to the endpoint: no new messages, its pending ones cancelled. */
export async function disableEndpoint(db: Db, id: string): Promise<EndpointRow> {
  return db.transaction(async (tx) => {
    await getEndpoint(tx, id);
    await disableEndpoints(tx, [id], 'manual');
    return getEndpoint(tx, id);
  });
}

/** Resumes deliveries for new events; a failing run starts over. */
export async function enableEndpoint(db: Db, id: string): Promise<EndpointRow> {
  const [row] = await db
    .update(endpoints)
    .set({ status: 'enabled', disabledReason: null, failingSince: null, updatedAt: sql`now()` })
    .where(eq(endpoints.id, id))
    .returning();
  if (!row) throw notFound('Endpoint');
  return row;
}

export async function getEndpointSecret(db: Db, id: string): Promise<string> {
  return (await getEndpoint(db, id)).secret;
}

/**
 * Replaces the signing secret. For `graceMs` the old one keeps signing beside the new one, so
 * receivers can switch without rejecting a request; a grace of 0 retires it at once. While an
 * earlier rotation's grace runs, a second one with a grace is refused: it would retire the secret
 * that receivers were promised still works.
 */
export async function rotateEndpointSecret(db: Db, id: string, graceMs: number): Promise<string> {
  const secret = generateSecret();
  const graceRunning = sql`${endpoints.previousSecretExpiresAt} > now()`;
  const [row] = await db
    .update(endpoints)
    .set({
      secret,
      previousSecret: graceMs > 0 ? endpoints.secret : null,
      previousSecretExpiresAt:
        graceMs > 0 ? sql`now() + ${graceMs}::float8 * interval '1 millisecond'` : null,
      updatedAt: sql`now()`,
    })
    .where(
      graceMs > 0
        ? and(eq(endpoints.id, id), sql`not coalesce(${graceRunning}, false)`)
        : eq(endpoints.id, id),
    )
    .returning({ id: endpoints.id });
  if (row) return secret;

  const current = await getEndpoint(db, id);
  throw new ApiError(
    409,
    'rotation_in_progress',
    `The previous secret still signs until ${current.previousSecretExpiresAt?.toISOString()}; ` +
      'rotate again after that, or with a grace of 0 to retire the older secrets now',
  );
}
