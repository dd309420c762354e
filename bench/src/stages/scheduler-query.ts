// The DNS scheduler's claim query with 100,000 domains of which 100 are due: EXPLAIN (ANALYZE,
// BUFFERS) with the partial due index, and with that index dropped for comparison.
import postgres from 'postgres';
import { defineStage, type Stage } from '../harness.ts';

export interface SchedulerQuery {
  /** Creates the domains table and its indexes in an empty database. */
  schemaSql: string;
  /** Fills it with `$1` domains of which `$2` are due; the stage runs ANALYZE after. */
  seedSql: string;
  /** The claim, as the scheduler runs it; it runs inside a transaction that is rolled back. */
  claimSql: string;
  claimParams?: postgres.ParameterOrJSON<never>[];
  /** The index the claim should walk; the comparison runs with it dropped. */
  dueIndex: string;
  table: string;
}

/** A table shaped like the relay's domains table, until the relay's own schema lands. */
export const STAND_IN_QUERY: SchedulerQuery = {
  table: 'domains',
  dueIndex: 'domains_due_idx',
  schemaSql: `
    CREATE TABLE domains (
      id text PRIMARY KEY,
      organization_id text NOT NULL,
      domain text NOT NULL,
      domain_type text NOT NULL,
      verification_status text NOT NULL,
      verification_method text NOT NULL,
      txt_record_key text,
      txt_record_secret text,
      last_check_result jsonb,
      last_checked_at timestamptz,
      next_check_at timestamptz,
      verification_expires_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (organization_id, domain)
    );
    CREATE INDEX domains_due_idx ON domains (next_check_at)
      WHERE verification_status = 'PENDING';`,
  // Domains 1..$2 are due; the other even ones are pending but due later; odd ones verified.
  seedSql: `
    INSERT INTO domains (id, organization_id, domain, domain_type, verification_status,
      verification_method, txt_record_key, txt_record_secret, next_check_at,
      verification_expires_at)
    SELECT 'dom_' || n, 'org_' || (n % 1000), 'd' || n || '.example.com', 'ORGANIZATION_DOMAIN',
      CASE WHEN n <= $2 OR n % 2 = 0 THEN 'PENDING' ELSE 'VERIFIED' END, 'DNS',
      '_verihook-challenge', md5(n::text),
      CASE WHEN n <= $2 THEN now() - n * interval '1 second'
           WHEN n % 2 = 0 THEN now() + n * interval '1 second' END,
      now() + interval '72 hours'
    FROM generate_series(1, $1::int) AS n`,
  claimSql: `
    WITH due AS (
      SELECT id FROM domains
      WHERE verification_status = 'PENDING' AND next_check_at <= now()
      ORDER BY next_check_at
      LIMIT 100
      FOR UPDATE SKIP LOCKED
    )
    UPDATE domains SET next_check_at = now() + interval '30 seconds'
    FROM due WHERE domains.id = due.id
    RETURNING domains.id`,
};

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

interface ExplainRow {
  'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time': number }>;
}

interface Explained {
  executionMs: number;
  buffers: number;
  claimed: number;
  scans: string[];
  usedDueIndex: boolean;
  fullScan: boolean;
}

const DOMAINS = 100_000;
const DUE = 100;

/** The scheduler-query stage for a schema and claim (the relay's own, once it has them). */
export function createSchedulerQueryStage(query: SchedulerQuery = STAND_IN_QUERY): Stage {
  return defineStage({
    id: 'scheduler',
    title: `Scheduler claim query: ${DOMAINS.toLocaleString('en-US')} domains, ${DUE} due`,
    needsDatabase: true,
    timeLimitMs: { full: 60_000, quick: 60_000 },
    async run(ctx) {
      const url = await ctx.scratchDatabase('scheduler');
      const sql = postgres(url, { max: 1, onnotice: () => {} });
      ctx.defer(() => sql.end({ timeout: 5 }));
      await sql.unsafe(query.schemaSql);
      await sql.unsafe(query.seedSql, [DOMAINS, DUE]);
      await sql.unsafe(`ANALYZE ${query.table}`);

      const plans: Record<string, Explained> = {};
      await ctx.measure({
        runs: 5,
        warmup: { runs: 1, description: '1 × each variant' },
        method: {
          concurrency: 1,
          perRun: `one claim of up to 100 of ${DOMAINS.toLocaleString('en-US')} domains, ${DUE} due`,
          notes:
            'Execution Time and shared buffers (hit + read) of EXPLAIN (ANALYZE, BUFFERS) of ' +
            'the claim, in a transaction that is rolled back (so every run sees the same due ' +
            `domains) after ANALYZE; no-index: the same with ${query.dueIndex} dropped inside ` +
            "that transaction. The table is a stand-in shaped like the relay's until its " +
            'schema lands.',
        },
        figures: {
          'claim-ms': { label: 'Claim due domains, due index', unit: 'ms', better: 'lower' },
          'claim-buffers': {
            label: 'Claim due domains, due index',
            unit: 'buffers',
            better: 'lower',
          },
          'claim-no-index-ms': {
            label: 'Claim due domains, no due index',
            unit: 'ms',
            better: 'lower',
          },
          'claim-no-index-buffers': {
            label: 'Claim due domains, no due index',
            unit: 'buffers',
            better: 'lower',
          },
        },
        async sample() {
          const indexed = await explainClaim(sql, query, false);
          const unindexed = await explainClaim(sql, query, true);
          if (indexed.claimed !== DUE || unindexed.claimed !== DUE) {
            throw new Error(`claimed ${indexed.claimed} / ${unindexed.claimed}, expected ${DUE}`);
          }
          plans.indexed = indexed;
          plans.unindexed = unindexed;
          return {
            values: {
              'claim-ms': indexed.executionMs,
              'claim-buffers': indexed.buffers,
              'claim-no-index-ms': unindexed.executionMs,
              'claim-no-index-buffers': unindexed.buffers,
            },
            details: { indexedScans: indexed.scans, unindexedScans: unindexed.scans },
          };
        },
      });
      const { indexed, unindexed } = plans;
      if (indexed && unindexed) {
        ctx.note(`with ${query.dueIndex}: ${describePlan(indexed)}`);
        ctx.note(`without it: ${describePlan(unindexed)}`);
      }
    },
  });
}

async function explainClaim(
  sql: postgres.Sql,
  query: SchedulerQuery,
  dropIndex: boolean,
): Promise<Explained> {
  const connection = await sql.reserve();
  try {
    await connection.unsafe('BEGIN');
    if (dropIndex) await connection.unsafe(`DROP INDEX ${query.dueIndex}`);
    const explain = `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${query.claimSql}`;
    const rows = await connection.unsafe<ExplainRow[]>(explain, query.claimParams ?? []);
    const [result] = rows[0]?.['QUERY PLAN'] ?? [];
    if (!result) throw new Error('EXPLAIN returned no plan');
    return summarisePlan(result.Plan, result['Execution Time'], query);
  } finally {
    await connection.unsafe('ROLLBACK');
    connection.release();
  }
}

function summarisePlan(plan: PlanNode, executionMs: number, query: SchedulerQuery): Explained {
  const nodes = flatten(plan);
  const scans = nodes
    .filter((node) => node['Relation Name'] === query.table && node['Node Type'].includes('Scan'))
    .map((node) => {
      const index = node['Index Name'] ? ` using ${node['Index Name']}` : '';
      const removed = node['Rows Removed by Filter']
        ? `, ${node['Rows Removed by Filter']} filtered out`
        : '';
      const loops = (node['Actual Loops'] ?? 1) > 1 ? ` × ${node['Actual Loops']} loops` : '';
      return `${node['Node Type']}${index} (${node['Actual Rows'] ?? 0} rows${loops}${removed})`;
    });
  return {
    executionMs,
    buffers: (plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0),
    claimed: plan['Actual Rows'] ?? 0,
    scans,
    usedDueIndex: nodes.some((node) => node['Index Name'] === query.dueIndex),
    fullScan: nodes.some(
      (node) => node['Node Type'] === 'Seq Scan' && node['Relation Name'] === query.table,
    ),
  };
}

function flatten(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(flatten)];
}

function describePlan(plan: Explained): string {
  const shape = plan.usedDueIndex ? 'walks the due index' : plan.fullScan ? 'full scan' : 'other';
  return `${shape}; ${plan.executionMs.toFixed(3)} ms, ${plan.buffers} buffers; ${plan.scans.join('; ')}`;
}
