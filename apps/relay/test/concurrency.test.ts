import { createTestDatabase, hasPostgres, type TestDatabase } from '@verihook/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueViolation } from '../src/db/errors.ts';
import { type Database, openDatabase } from '../src/db/index.ts';
import { domains, events } from '../src/db/schema/index.ts';
import { type ApiClient, apiClient, buildApp, tokenFor } from './helpers.ts';

// Several relay processes on one PostgreSQL: each with its own connection pool and app.
describe.skipIf(!hasPostgres())('concurrent domain creation on PostgreSQL', () => {
  let testDatabase: TestDatabase;
  let databases: Database[];
  let clients: ApiClient[];

  beforeAll(async () => {
    testDatabase = await createTestDatabase('concurrency');
    const config = { databaseUrl: testDatabase.url, dataDir: '', environmentId: undefined };
    databases = [];
    for (let i = 0; i < 4; i++) databases.push(await openDatabase(config));
    clients = [];
    for (const database of databases) {
      const app = buildApp(database);
      clients.push(apiClient(app, await tokenFor(app, database)));
    }
  });
  afterAll(async () => {
    for (const database of databases ?? []) await database.close();
    await testDatabase?.drop();
  });

  const organizationsFor = async (count: number) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      ids.push(
        (await clients[0]?.post('/api/v1/organizations', { display_name: `Racer ${i}` }))?.body
          .organization.id,
      );
    }
    return ids;
  };

  it('lets exactly one of two organizations verify the same name at once', async () => {
    for (let round = 0; round < 5; round++) {
      const [first, second] = await organizationsFor(2);
      const name = `race-${round}.example`;

      const responses = await Promise.all([
        clients[0]?.post(`/api/v1/organizations/${first}/domains`, { domain: name }),
        clients[1]?.post(`/api/v1/organizations/${second}/domains`, { domain: name }),
      ]);
      const rows = await databases[0]?.db.select().from(domains).where(eq(domains.domain, name));
      const created = await databases[0]?.db
        .select()
        .from(events)
        .where(eq(events.type, 'organization.domain_created'));

      expect(responses.map((response) => response?.status).sort()).toEqual([201, 409]);
      expect(responses.find((response) => response?.status === 409)?.body.error.code).toBe(
        'domain_already_verified',
      );
      expect(rows).toHaveLength(1);
      expect(
        created?.filter(
          (event) => (event.payload as { data: { domain: string } }).data.domain === name,
        ),
      ).toHaveLength(1);
    }
  });

  it('lets exactly one of many concurrent requests win, across four connection pools', async () => {
    const organizationIds = await organizationsFor(8);

    const responses = await Promise.all(
      organizationIds.map((id, i) =>
        clients[i % clients.length]?.post(`/api/v1/organizations/${id}/domains`, {
          domain: 'stampede.example',
        }),
      ),
    );
    const rows = await databases[0]?.db
      .select()
      .from(domains)
      .where(eq(domains.domain, 'stampede.example'));

    expect(responses.filter((response) => response?.status === 201)).toHaveLength(1);
    expect(responses.filter((response) => response?.status === 409)).toHaveLength(7);
    expect(rows).toHaveLength(1);
  });

  it('is the database that refuses a second verified holder, whatever the code checks first', async () => {
    const [first, second] = await organizationsFor(2);
    const row = (id: string, organizationId: string) => ({
      id,
      organizationId,
      domain: 'direct.example',
      domainUnicode: 'direct.example',
      domainType: 'ORGANIZATION_DOMAIN' as const,
      verificationStatus: 'VERIFIED' as const,
      verificationMethod: 'ADMIN' as const,
    });
    await databases[0]?.db.insert(domains).values(row('dom_DIRECT1', first ?? ''));

    const error = await databases[1]?.db
      .insert(domains)
      .values(row('dom_DIRECT2', second ?? ''))
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );

    expect(uniqueViolation(error)).toBe('domains_verified_organization_domain_key');
  });

  it('lets one organization add a name only once, even at the same instant', async () => {
    const [organization] = await organizationsFor(1);

    const responses = await Promise.all(
      clients.map((client) =>
        client.post(`/api/v1/organizations/${organization}/domains`, {
          domain: 'once.example',
          verification_method: 'DNS',
        }),
      ),
    );

    expect(responses.map((response) => response.status).sort()).toEqual([201, 409, 409, 409]);
    expect(
      responses
        .filter((response) => response.status === 409)
        .map((response) => response.body.error.code),
    ).toEqual(['domain_already_exists', 'domain_already_exists', 'domain_already_exists']);
  });
});
