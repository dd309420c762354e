// Builders for the verification tests: organizations, DNS domains, their records, their events.
import type { EventType } from '@verihook/events';
import type { TestDnsServer } from '@verihook/testing';
import { and, asc, eq } from 'drizzle-orm';
import type { Config } from '../../src/config.ts';
import type { Db } from '../../src/db/index.ts';
import { type DomainRow, domains, events } from '../../src/db/schema/index.ts';
import { createDomain } from '../../src/domains/service.ts';
import { createOrganization } from '../../src/organizations/service.ts';

export async function newOrganization(db: Db, displayName = 'Acme Corp') {
  return createOrganization(db, { display_name: displayName });
}

/** Adds a PENDING domain with the DNS method to the organization. */
export async function addDnsDomain(
  db: Db,
  organizationId: string,
  domain: string,
  policy: Pick<Config, 'checkScheduleMs' | 'verificationWindowMs'>,
): Promise<DomainRow> {
  return createDomain(db, organizationId, { domain, verification_method: 'DNS' }, policy);
}

/** Publishes the domain's TXT record in the test DNS server. */
export function publish(server: TestDnsServer, row: DomainRow): string {
  const name = `${row.txtRecordKey}.${row.domain}`;
  server.setTxt(name, [[row.txtRecordSecret ?? '']]);
  return name;
}

export function challengeName(row: Pick<DomainRow, 'txtRecordKey' | 'domain'>): string {
  return `${row.txtRecordKey}.${row.domain}`;
}

export async function domainRow(db: Db, id: string): Promise<DomainRow> {
  const [row] = await db.select().from(domains).where(eq(domains.id, id));
  if (!row) throw new Error(`no domain ${id}`);
  return row;
}

/** The events recorded for one domain, oldest first, optionally of one type. */
export async function eventsOfDomain(db: Db, domainId: string, type?: EventType) {
  const rows = await db
    .select()
    .from(events)
    .where(type ? eq(events.type, type) : undefined)
    .orderBy(asc(events.sequence));
  return rows.filter((row) => (row.payload as { data: { id: string } }).data.id === domainId);
}

export async function eventCount(db: Db, type: EventType): Promise<number> {
  return (
    await db
      .select({ id: events.id })
      .from(events)
      .where(and(eq(events.type, type)))
  ).length;
}

/** Polls `probe` until it returns something other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
