// Reading and writing the organization domains table.
import type { DomainData } from '@verihook/events';
import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db, Tx } from './index.ts';
import { organizationDomains } from './schema.ts';

/** Whether a domain in this state routes email for Home Realm Discovery and gates SCIM. */
export function isRoutable(data: DomainData, deleted: boolean): boolean {
  return (
    !deleted &&
    data.domain_type === 'ORGANIZATION_DOMAIN' &&
    data.verification_status === 'VERIFIED'
  );
}

/**
 * Stores the domain as an event describes it, unless what is stored is newer: events arrive in
 * any order, so the row keeps the state with the latest `data.updated_at`. A deleted domain id is
 * final (Verihook never reuses one), so no later event brings it back. Returns whether it wrote.
 */
export async function applyDomainSnapshot(
  tx: Tx,
  data: DomainData,
  change: { eventId: string; deleted: boolean },
): Promise<boolean> {
  const row = {
    id: data.id,
    domain: data.domain,
    organizationId: data.organization_id,
    domainType: data.domain_type,
    verificationStatus: data.verification_status,
    verificationMethod: data.verification_method,
    routable: isRoutable(data, change.deleted),
    deleted: change.deleted,
    updatedAt: data.updated_at,
    lastEventId: change.eventId,
  };
  const stored = organizationDomains;
  const newer = sql`${stored.updatedAt} < excluded.updated_at`;
  const deletionAtSameTime = sql`(excluded.deleted and ${stored.updatedAt} = excluded.updated_at)`;

  const written = await tx
    .insert(organizationDomains)
    .values(row)
    .onConflictDoUpdate({
      target: stored.id,
      set: {
        domain: sql`excluded.domain`,
        organizationId: sql`excluded.organization_id`,
        domainType: sql`excluded.domain_type`,
        verificationStatus: sql`excluded.verification_status`,
        verificationMethod: sql`excluded.verification_method`,
        routable: sql`excluded.routable`,
        deleted: sql`excluded.deleted`,
        updatedAt: sql`excluded.updated_at`,
        lastEventId: sql`excluded.last_event_id`,
      },
      setWhere: sql`not ${stored.deleted} and (${newer} or ${deletionAtSameTime})`,
    })
    .returning({ id: stored.id });
  return written.length > 0;
}

/** The routable domain with this name, if any; the newest wins while a late deletion is in flight. */
export async function findRoutableDomain(db: Db, domain: string) {
  const [found] = await db
    .select({
      organizationId: organizationDomains.organizationId,
      domain: organizationDomains.domain,
    })
    .from(organizationDomains)
    .where(and(eq(organizationDomains.domain, domain), eq(organizationDomains.routable, true)))
    .orderBy(desc(organizationDomains.updatedAt))
    .limit(1);
  return found;
}

/** Whether `domain` is a routable (verified organization) domain of that organization. */
export async function isOrganizationDomain(db: Db, organizationId: string, domain: string) {
  const [found] = await db
    .select({ id: organizationDomains.id })
    .from(organizationDomains)
    .where(
      and(
        eq(organizationDomains.organizationId, organizationId),
        eq(organizationDomains.domain, domain),
        eq(organizationDomains.routable, true),
      ),
    )
    .limit(1);
  return found !== undefined;
}

/** The stored row for one domain id, for tests and debugging. */
export async function getDomain(db: Db, id: string) {
  const [found] = await db.select().from(organizationDomains).where(eq(organizationDomains.id, id));
  return found;
}
