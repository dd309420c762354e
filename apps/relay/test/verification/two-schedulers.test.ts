import {
  createTestDatabase,
  hasPostgres,
  startDnsServer,
  type TestDatabase,
  type TestDnsServer,
} from '@verihook/testing';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase, queryRows } from '../../src/db/index.ts';
import { type DomainRow, domains } from '../../src/db/schema/index.ts';
import { testConfig } from '../helpers.ts';
import { type ChildRun, spawnTsx, stopChild, waitForLine } from './processes.ts';
import {
  addDnsDomain,
  challengeName,
  newOrganization,
  publish,
  sleep,
  waitFor,
} from './support.ts';

const DOMAIN_COUNT = 200;
const SCHEDULE = '200ms';

interface CheckLine {
  process: string;
  domain_id: string;
  outcome: string;
  transition: string;
  checked_at: string;
  duration_ms: number;
}

describe.skipIf(!hasPostgres())('two scheduler processes on one PostgreSQL database', () => {
  let server: TestDnsServer;
  let testDatabase: TestDatabase;
  let database: Database;
  const children: ChildRun[] = [];

  beforeAll(async () => {
    server = await startDnsServer();
    testDatabase = await createTestDatabase('two_schedulers');
    database = await openDatabase({
      databaseUrl: testDatabase.url,
      dataDir: '',
      environmentId: undefined,
    });
  });

  afterAll(async () => {
    for (const child of children) await stopChild(child);
    await database?.close();
    await testDatabase?.drop();
    await server?.close();
  });

  async function addPendingDomains(): Promise<DomainRow[]> {
    const policy = testConfig({ VERIHOOK_CHECK_SCHEDULE: SCHEDULE });
    const organizations = await Promise.all(
      ['North', 'South', 'East', 'West'].map((name) => newOrganization(database.db, name)),
    );
    const rows: DomainRow[] = [];
    for (let start = 0; start < DOMAIN_COUNT; start += 10) {
      const batch = Array.from({ length: 10 }, (_, offset) => {
        const index = start + offset;
        const organization = organizations[index % organizations.length];
        const name = `d${String(index).padStart(3, '0')}.fleet.test`;
        return addDnsDomain(database.db, organization?.id ?? '', name, policy);
      });
      rows.push(...(await Promise.all(batch)));
    }
    // Nothing is due until both processes are ready.
    await database.db.update(domains).set({ nextCheckAt: new Date(Date.now() + 3_600_000) });
    return rows;
  }

  function startScheduler(name: string): ChildRun {
    const child = spawnTsx('test/verification/fixtures/scheduler-process.ts', {
      PROCESS_NAME: name,
      DATABASE_URL: testDatabase.url,
      VERIHOOK_DNS_SERVERS: server.address,
      VERIHOOK_CHECK_SCHEDULE: SCHEDULE,
      VERIHOOK_VERIFICATION_WINDOW: '1h',
    });
    children.push(child);
    return child;
  }

  function checkLines(): CheckLine[] {
    return children.flatMap((child) =>
      child
        .logs()
        .filter((line) => line.msg === 'domain check')
        .map((line) => ({ ...(line as unknown as CheckLine), process: String(line.name) })),
    );
  }

  it('checks each domain by one process at a time and verifies each exactly once', async () => {
    const rows = await addPendingDomains();
    const first = startScheduler('scheduler-a');
    const second = startScheduler('scheduler-b');
    await Promise.all([
      waitForLine(first, /"msg":"ready"/, 45_000),
      waitForLine(second, /"msg":"ready"/, 45_000),
    ]);

    await database.db.update(domains).set({ nextCheckAt: new Date() });
    await waitFor(
      async () => {
        const [row] = await queryRows<{ fewest: number }>(
          database.db,
          sql`select min(check_count)::int as fewest from domains`,
        );
        return (row?.fewest ?? 0) >= 2 ? true : undefined;
      },
      30_000,
      'two checks of every unpublished record',
    );
    for (const row of rows) publish(server, row);
    await waitFor(
      async () => {
        const [row] = await queryRows<{ pending: number }>(
          database.db,
          sql`select count(*)::int as pending from domains where verification_status <> 'VERIFIED'`,
        );
        return row?.pending === 0 ? true : undefined;
      },
      30_000,
      'every domain to verify',
    );
    await sleep(300);
    for (const child of children) expect(await stopChild(child)).toBe(0);

    const events = await queryRows<{ domain_id: string; count: number }>(
      database.db,
      sql`select payload->'data'->>'id' as domain_id, count(*)::int as count from events
          where type = 'organization.domain_dns_verification_success' group by 1`,
    );
    expect(events).toHaveLength(DOMAIN_COUNT);
    expect(events.every((event) => event.count === 1)).toBe(true);

    const lines = checkLines();
    const byProcess = new Map<string, number>();
    for (const line of lines) byProcess.set(line.process, (byProcess.get(line.process) ?? 0) + 1);
    expect([...byProcess.keys()].sort()).toEqual(['scheduler-a', 'scheduler-b']);
    expect(lines.filter((line) => line.outcome === 'nxdomain').length).toBeGreaterThanOrEqual(
      2 * DOMAIN_COUNT,
    );

    const queries = server.queries();
    for (const row of rows) {
      const checks = lines
        .filter((line) => line.domain_id === row.id)
        .sort((a, b) => Date.parse(a.checked_at) - Date.parse(b.checked_at));
      const found = checks.filter((line) => line.outcome === 'found');
      expect(found).toHaveLength(1);
      expect(found[0]?.transition).toBe('verified');
      expect(checks.at(-1)?.outcome).toBe('found');
      for (let index = 1; index < checks.length; index += 1) {
        const previous = checks[index - 1] as CheckLine;
        const previousEndMs = Date.parse(previous.checked_at) + previous.duration_ms;
        expect(Date.parse((checks[index] as CheckLine).checked_at)).toBeGreaterThanOrEqual(
          previousEndMs - 1,
        );
      }
      const name = challengeName(row);
      expect(queries.filter((query) => query.name === name)).toHaveLength(checks.length);
      const [stored] = await database.db.select().from(domains).where(eq(domains.id, row.id));
      expect(stored?.checkCount).toBe(checks.length);
    }
  }, 90_000);
});
