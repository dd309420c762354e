// The DNS scheduler's claim query with 100,000 domains of which 100 are due: EXPLAIN (ANALYZE,
// BUFFERS) of the relay's own claim on the relay's own schema, with its partial due index and
// with that index dropped for comparison.
import { loadConfig } from '@verihook/relay/src/config.ts';
import { openDatabase } from '@verihook/relay/src/db/index.ts';
import { claimDueDomainsQuery } from '@verihook/relay/src/verification/scheduler.ts';
import { checkLeaseMs } from '@verihook/relay/src/verification/service.ts';
import { PgDialect } from 'drizzle-orm/pg-core';
import postgres from 'postgres';
import { defineStage, type Stage } from '../harness.ts';

export interface SchedulerQuery {
  /** Creates the schema in the empty database at `url`. */
  createSchema(url: string): Promise<void>;
  /** Fills it with `$1` domains of which `$2` are due; the stage runs ANALYZE after. */
  seed(sql: postgres.Sql, domains: number, due: number): Promise<void>;
  /** The claim as the scheduler runs it now; it runs inside a transaction that is rolled back. */
  claim(limit: number): { sql: string; params: unknown[] };
  /** The index the claim should walk; the comparison runs with it dropped. */
  dueIndex: string;
  table: string;
  /** Where the schema and the claim come from, for the figures' notes. */
  source: string;
}

/**
 * The relay's own: its migrations (`openDatabase`), and `claimDueDomainsQuery` with the
 * scheduler's lease, rendered to SQL by drizzle as the relay sends it.
 */
export const RELAY_SCHEDULER_QUERY: SchedulerQuery = {
  table: 'domains',
  dueIndex: 'domains_due_check_idx',
  source:
    "the relay's own schema (its migrations, applied by `openDatabase`) and claim " +
    '(`claimDueDomainsQuery` from apps/relay/src/verification/scheduler.ts)',
  async createSchema(url) {
    const database = await openDatabase(loadConfig({ DATABASE_URL: url }));
    await database.close();
  },
  // Domains 1..due are due; the other even ones are pending and due later; odd ones verified.
  async seed(sql, domains, due) {
    await sql`
      INSERT INTO organizations (id, display_name)
      SELECT 'org_bench' || n, 'Bench ' || n FROM generate_series(0, 999) AS n`;
    await sql`
      INSERT INTO domains (id, organization_id, domain, domain_unicode, domain_type,
        verification_status, verification_method, txt_record_key, txt_record_secret,
        next_check_at, verification_expires_at)
      SELECT 'dom_bench' || n, 'org_bench' || (n % 1000), 'd' || n || '.example.com',
        'd' || n || '.example.com', 'ORGANIZATION_DOMAIN',
        CASE WHEN n <= ${due} OR n % 2 = 0 THEN 'PENDING' ELSE 'VERIFIED' END,
        CASE WHEN n <= ${due} OR n % 2 = 0 THEN 'DNS' ELSE 'ADMIN' END,
        '_verihook-challenge-bench', md5(n::text),
        CASE WHEN n <= ${due} THEN now() - n * interval '1 second'
             WHEN n % 2 = 0 THEN now() + n * interval '1 second' END,
        now() + interval '72 hours'
      FROM generate_series(1, ${domains}::int) AS n`;
  },
  claim(limit) {
    const now = new Date();
    const leaseMs = checkLeaseMs(loadConfig({}));
    const query = claimDueDomainsQuery({
      now,
      leaseUntil: new Date(now.getTime() + leaseMs),
      limit,
    });
    return new PgDialect().sqlToQuery(query);
  },
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

/** The scheduler-query stage for a schema and claim (the relay's own by default). */
export function createSchedulerQueryStage(query: SchedulerQuery = RELAY_SCHEDULER_QUERY): Stage {
  return defineStage({
    id: 'scheduler',
    title: `Scheduler claim query: ${DOMAINS.toLocaleString('en-US')} domains, ${DUE} due`,
    needsDatabase: true,
    timeLimitMs: { full: 60_000, quick: 60_000 },
    async run(ctx) {
      const url = await ctx.scratchDatabase('scheduler');
      await query.createSchema(url);
      const sql = postgres(url, { max: 1, onnotice: () => {} });
      ctx.defer(() => sql.end({ timeout: 5 }));
      await query.seed(sql, DOMAINS, DUE);
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
            `that transaction. Schema and claim: ${query.source}.`,
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
    const claim = query.claim(DUE);
    const explain = `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${claim.sql}`;
    const rows = await connection.unsafe<ExplainRow[]>(
      explain,
      claim.params as postgres.ParameterOrJSON<never>[],
    );
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
