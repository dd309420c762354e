import { EventParseError, parseEvent } from '@verihook/events';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { domains, events, organizations } from '../src/db/schema/index.ts';
import { onEventRecorded, recordEvent } from '../src/events/outbox.ts';
import { newId } from '../src/ids.ts';
import {
  allEvents,
  BACKENDS,
  backendAvailable,
  openTestBackend,
  type TestBackend,
} from './helpers.ts';

describe.each(BACKENDS)('recordEvent on %s', (backend) => {
  let testBackend: TestBackend;

  beforeAll(async () => {
    if (!backendAvailable(backend)) return;
    testBackend = await openTestBackend(backend, 'outbox');
  });
  afterAll(async () => testBackend?.dispose());

  async function seed() {
    const db = testBackend.database.db;
    const [organization] = await db
      .insert(organizations)
      .values({ id: newId('org'), displayName: 'Outbox Org' })
      .returning();
    const [domain] = await db
      .insert(domains)
      .values({
        id: newId('dom'),
        organizationId: organization?.id ?? '',
        domain: `${newId('x').slice(2).toLowerCase()}.example`,
        domainUnicode: 'x.example',
        domainType: 'ORGANIZATION_DOMAIN',
        verificationStatus: 'VERIFIED',
        verificationMethod: 'ADMIN',
      })
      .returning();
    if (!organization || !domain) throw new Error('seed failed');
    return { organization, domain };
  }

  describe.skipIf(!backendAvailable(backend))('writing events', () => {
    it('builds a valid envelope and inserts it in the caller transaction', async () => {
      const { organization, domain } = await seed();
      const occurredAt = new Date('2026-01-15T10:00:00.000Z');

      const event = await testBackend.database.db.transaction((tx) =>
        recordEvent(tx, { type: 'organization.domain_created', organization, domain, occurredAt }),
      );
      const [row] = await testBackend.database.db
        .select()
        .from(events)
        .where(eq(events.id, event.id));

      expect(parseEvent(event)).toEqual(event);
      expect(event).toMatchObject({
        occurred_at: '2026-01-15T10:00:00.000Z',
        organization_id: organization.id,
        environment_id: testBackend.database.environmentId,
      });
      expect(row).toMatchObject({
        type: 'organization.domain_created',
        organizationId: organization.id,
        payload: event,
        occurredAt,
      });
      expect(row?.sequence).toBeGreaterThan(0);
    });

    it('keeps nothing when the surrounding transaction rolls back', async () => {
      const { organization, domain } = await seed();
      const before = (await allEvents(testBackend.database)).length;

      await expect(
        testBackend.database.db.transaction(async (tx) => {
          await recordEvent(tx, { type: 'organization.domain_created', organization, domain });
          throw new Error('the change failed after its event');
        }),
      ).rejects.toThrow('the change failed after its event');

      expect((await allEvents(testBackend.database)).length).toBe(before);
    });

    it('refuses an event that @verihook/events would reject, before inserting anything', async () => {
      const { organization, domain } = await seed();
      const before = (await allEvents(testBackend.database)).length;

      const attempt = testBackend.database.db.transaction(async (tx) => {
        const [changed] = await tx
          .update(domains)
          .set({ domainUnicode: 'changed' })
          .where(eq(domains.id, domain.id))
          .returning();
        // A success event must carry a DNS-verified domain; this one is ADMIN-verified.
        await recordEvent(tx, {
          type: 'organization.domain_dns_verification_success',
          organization,
          domain: changed ?? domain,
        });
      });

      await expect(attempt).rejects.toBeInstanceOf(EventParseError);
      const [unchanged] = await testBackend.database.db
        .select()
        .from(domains)
        .where(eq(domains.id, domain.id));
      expect(unchanged?.domainUnicode).toBe('x.example');
      expect((await allEvents(testBackend.database)).length).toBe(before);
    });

    it('refuses a domain of another organization', async () => {
      const { domain } = await seed();
      const { organization: other } = await seed();

      await expect(
        testBackend.database.db.transaction((tx) =>
          recordEvent(tx, { type: 'organization.domain_created', organization: other, domain }),
        ),
      ).rejects.toThrow(`domain ${domain.id} does not belong to ${other.id}`);
    });

    it('runs recorded hooks inside the transaction, with the sequence', async () => {
      const { organization, domain } = await seed();
      const seen: { id: string; sequence: number; inTransaction: number }[] = [];
      const remove = onEventRecorded(async (tx, event, recorded) => {
        const rows = await tx.select().from(events).where(eq(events.id, event.id));
        seen.push({ id: event.id, sequence: recorded.sequence, inTransaction: rows.length });
      });

      const event = await testBackend.database.db
        .transaction((tx) =>
          recordEvent(tx, { type: 'organization.domain_deleted', organization, domain }),
        )
        .finally(remove);
      const [row] = await testBackend.database.db
        .select()
        .from(events)
        .where(eq(events.id, event.id));
      await testBackend.database.db.transaction((tx) =>
        recordEvent(tx, { type: 'organization.domain_created', organization, domain }),
      );

      expect(seen).toEqual([{ id: event.id, sequence: row?.sequence, inTransaction: 1 }]);
    });

    it('rolls everything back when a hook throws', async () => {
      const { organization, domain } = await seed();
      const before = (await allEvents(testBackend.database)).length;
      const remove = onEventRecorded(async () => {
        throw new Error('fan-out failed');
      });

      await expect(
        testBackend.database.db
          .transaction((tx) =>
            recordEvent(tx, { type: 'organization.domain_created', organization, domain }),
          )
          .finally(remove),
      ).rejects.toThrow('fan-out failed');
      expect((await allEvents(testBackend.database)).length).toBe(before);
    });
  });
});
