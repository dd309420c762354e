import { hasPostgres } from '@verihook/testing';
import { type SQL, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, queryRows } from '../../src/db/index.ts';
import {
  claimDueDomains,
  claimDueDomainsQuery,
  nextDueAtMs,
} from '../../src/verification/scheduler.ts';
import { openTestBackend, type TestBackend } from '../helpers.ts';
import { newOrganization } from './support.ts';

const DUE_COUNT = 20;
const FUTURE_PENDING_COUNT = 40_000;
const SETTLED_COUNT = 60_000;

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}

function nodesOf(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodesOf)];
}

async function planOf(db: Db, explain: SQL): Promise<PlanNode[]> {
  const [row] = await queryRows<{ 'QUERY PLAN': unknown }>(db, explain);
  const raw = row?.['QUERY PLAN'];
  const parsed = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: PlanNode }[];
  return nodesOf(parsed[0]?.Plan as PlanNode);
}

function expectIndexWalk(nodes: PlanNode[]) {
  const types = nodes.map((node) => node['Node Type']);
  const domainScans = nodes.filter((node) => node['Relation Name'] === 'domains');
  expect(domainScans.map((node) => [node['Node Type'], node['Index Name']])).toContainEqual([
    'Index Scan',
    'domains_due_check_idx',
  ]);
  expect(types).not.toContain('Seq Scan');
  expect(types).not.toContain('Sort');
  expect(types).not.toContain('Bitmap Heap Scan');
}

describe.skipIf(!hasPostgres())('claimDueDomains on PostgreSQL', () => {
  let test: TestBackend;
  let db: Db;
  let now: Date;
  const claimInput = (limit: number) => ({
    now,
    leaseUntil: new Date(now.getTime() + 60_000),
    limit,
  });

  async function insertDomains(
    organizationId: string,
    count: number,
    prefix: string,
    columns: SQL,
  ) {
    await db.execute(sql`
      insert into domains (id, organization_id, domain, domain_unicode, domain_type,
        verification_status, verification_method, txt_record_key, txt_record_secret,
        verification_expires_at, next_check_at)
      select 'dom_' || ${prefix} || i, ${organizationId}, ${prefix} || i || '.bulk.test',
        ${prefix} || i || '.bulk.test', 'ORGANIZATION_DOMAIN', ${columns}
      from generate_series(1, ${count}::int) as i`);
  }

  beforeAll(async () => {
    test = await openTestBackend('postgres', 'verification_claim');
    db = test.database.db;
    now = new Date();
    const organization = await newOrganization(db);
    const nowText = now.toISOString();
    await insertDomains(
      organization.id,
      DUE_COUNT,
      'due',
      sql`'PENDING', 'DNS', '_verihook-challenge-bulk', 'secret-' || i,
        ${nowText}::timestamptz + interval '1 hour',
        ${nowText}::timestamptz - (i * interval '1 second')`,
    );
    await db.execute(sql`analyze domains`);
    await insertDomains(
      organization.id,
      FUTURE_PENDING_COUNT,
      'later',
      sql`'PENDING', 'DNS', '_verihook-challenge-bulk', 'secret-' || i,
        ${nowText}::timestamptz + interval '3 days',
        ${nowText}::timestamptz + (i * interval '1 second')`,
    );
    await insertDomains(
      organization.id,
      SETTLED_COUNT,
      'settled',
      sql`'VERIFIED', 'ADMIN', null, null, null, null`,
    );
  }, 60_000);

  afterAll(() => test?.dispose());

  it('walks the partial index even with statistics from when the table was small', async () => {
    const nodes = await planOf(
      db,
      sql`explain (format json) ${claimDueDomainsQuery(claimInput(50))}`,
    );

    expectIndexWalk(nodes);
  });

  it('walks the partial index with fresh statistics, touching only the due rows', async () => {
    await db.execute(sql`analyze domains`);

    let nodes: PlanNode[] = [];
    const analyzing = db.transaction(async (tx) => {
      const explain = sql`explain (analyze, format json) ${claimDueDomainsQuery(claimInput(50))}`;
      nodes = await planOf(tx, explain);
      throw new Error('undo the claim');
    });

    await expect(analyzing).rejects.toThrow('undo the claim');
    expectIndexWalk(nodes);
    const indexScan = nodes.find((node) => node['Index Name'] === 'domains_due_check_idx');
    expect(indexScan?.['Actual Rows']).toBe(DUE_COUNT);
  });

  it('claims only due rows, oldest first, and moves them out of the due set', async () => {
    const held = await db.transaction(async (tx) => {
      const first = await claimDueDomains(tx, claimInput(5));
      const second = await claimDueDomains(db, claimInput(50));
      return { first, second };
    });
    const third = await claimDueDomains(db, claimInput(50));

    const expectedOrder = Array.from({ length: DUE_COUNT }, (_, i) => `dom_due${DUE_COUNT - i}`);
    expect(held.first.map((row) => row.id)).toEqual(expectedOrder.slice(0, 5));
    expect(held.second.map((row) => row.id).sort()).toEqual(expectedOrder.slice(5).sort());
    expect(held.first[0]).toEqual({
      id: `dom_due${DUE_COUNT}`,
      domain: `due${DUE_COUNT}.bulk.test`,
      txtRecordKey: '_verihook-challenge-bulk',
      txtRecordSecret: `secret-${DUE_COUNT}`,
    });
    expect(third).toEqual([]);
    const [leased] = await queryRows<{ leased: number; matching: number }>(
      db,
      sql`select count(*)::int as leased,
            count(*) filter (where next_check_at = check_lease_until)::int as matching
          from domains where check_lease_until = ${claimInput(1).leaseUntil.toISOString()}::timestamptz`,
    );
    expect(leased).toEqual({ leased: DUE_COUNT, matching: DUE_COUNT });
    expect(await nextDueAtMs(db)).toBe(now.getTime() + 1_000);
  });
});
