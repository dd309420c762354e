// The verification scheduler: claims due pending domains, checks them, records each outcome.
import { type SQL, sql } from 'drizzle-orm';
import type { AppDeps } from '../context.ts';
import { type Db, queryRows } from '../db/index.ts';
import { domainChecks } from '../metrics.ts';
import type { CheckResult, TxtChecker } from './checker.ts';
import { type AppliedCheck, checkerFromConfig, checkLeaseMs, recordCheck } from './service.ts';

export interface SchedulerOptions {
  checker: TxtChecker;
  /** The longest the scheduler sleeps between looks at the due set; default 1 s. */
  intervalMs?: number;
  /** The most domains one claim takes; default 50. */
  batchSize?: number;
  /** The most checks running at once in this process; default 10. */
  concurrency?: number;
  /** How long a claimed domain stays out of the due set; default `checkLeaseMs(config)`. */
  leaseMs?: number;
}

export interface ClaimedDomain {
  id: string;
  domain: string;
  txtRecordKey: string;
  txtRecordSecret: string;
}

export interface ClaimInput {
  now: Date;
  leaseUntil: Date;
  limit: number;
}

const DEFAULT_INTERVAL_MS = 1_000;
const DEFAULT_BATCH_SIZE = 50;
const DEFAULT_CONCURRENCY = 10;
// A due domain another process holds locked for a moment must not make the loop spin.
const MIN_SLEEP_MS = 10;

/**
 * The claim: walks the `domains_due_check_idx` partial index in `next_check_at` order, locks up
 * to `limit` due rows that no one else holds, and pushes their `next_check_at` to the lease's
 * end, which moves them out of the due set until the check is recorded or the lease runs out.
 */
export function claimDueDomainsQuery({ now, leaseUntil, limit }: ClaimInput): SQL {
  const lease = leaseUntil.toISOString();
  return sql`
    with due as (
      select id from domains
      where verification_status = 'PENDING' and next_check_at <= ${now.toISOString()}::timestamptz
      order by next_check_at
      limit ${limit}
      for update skip locked
    )
    update domains
    set next_check_at = ${lease}::timestamptz, check_lease_until = ${lease}::timestamptz
    from due
    where domains.id = due.id
    returning domains.id, domains.domain, domains.txt_record_key, domains.txt_record_secret`;
}

/** Claims up to `limit` due domains for this process (see `claimDueDomainsQuery`). */
export async function claimDueDomains(db: Db, input: ClaimInput): Promise<ClaimedDomain[]> {
  const rows = await queryRows<{
    id: string;
    domain: string;
    txt_record_key: string | null;
    txt_record_secret: string | null;
  }>(db, claimDueDomainsQuery(input));
  return rows.map((row) => ({
    id: row.id,
    domain: row.domain,
    txtRecordKey: row.txt_record_key ?? '',
    txtRecordSecret: row.txt_record_secret ?? '',
  }));
}

/** Milliseconds since the epoch of the earliest `next_check_at` of a pending domain, if any. */
export async function nextDueAtMs(db: Db): Promise<number | undefined> {
  const [row] = await queryRows<{ next_ms: number | string | null }>(
    db,
    sql`select (extract(epoch from min(next_check_at)) * 1000)::float8 as next_ms
        from domains where verification_status = 'PENDING'`,
  );
  return row?.next_ms == null ? undefined : Number(row.next_ms);
}

function checkLogFields(claimed: ClaimedDomain, result: CheckResult, applied: AppliedCheck) {
  return {
    domain_id: claimed.id,
    domain: claimed.domain,
    outcome: result.outcome,
    transition: applied.transition,
    verification_status: applied.domain?.verificationStatus ?? null,
    check_count: applied.domain?.checkCount ?? null,
    checked_at: result.checked_at,
    duration_ms: result.duration_ms,
    doubled_name: result.doubled_name,
    failed_claims: applied.failedClaims.map((claim) => claim.id),
  };
}

/**
 * Starts checking pending domains in the background: claims due ones (never more than it can
 * start at once), checks each with `checker`, records each result in its own transaction and
 * logs one line per check. A check that throws is logged; its domain is due again after the
 * lease. The returned function stops claiming and waits for the running checks.
 */
export function startVerificationScheduler(
  deps: Pick<AppDeps, 'database' | 'config' | 'logger'>,
  options: SchedulerOptions,
): () => Promise<void> {
  const { db } = deps.database;
  const { checker } = options;
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const leaseMs = options.leaseMs ?? checkLeaseMs(deps.config);
  const logger = deps.logger.child({ worker: 'verification' });
  const running = new Set<Promise<void>>();

  let signalStop: () => void = () => {};
  const stopped = new Promise<'stopped'>((resolve) => {
    signalStop = () => resolve('stopped');
  });
  let stopping = false;

  const pause = async (ms: number) => {
    let timer: NodeJS.Timeout | undefined;
    const elapsed = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    });
    await Promise.race([elapsed, stopped]);
    clearTimeout(timer);
  };

  async function checkOne(claimed: ClaimedDomain): Promise<void> {
    const startedMs = performance.now();
    try {
      const result = await checker.check({
        domain: claimed.domain,
        txtRecordKey: claimed.txtRecordKey,
        expectedValue: claimed.txtRecordSecret,
      });
      const applied = await recordCheck(db, claimed.id, result, deps.config);
      domainChecks.inc({ outcome: result.outcome });
      logger.info(checkLogFields(claimed, result, applied), 'domain check');
    } catch (error) {
      const durationMs = Math.round(performance.now() - startedMs);
      logger.error(
        { domain_id: claimed.id, domain: claimed.domain, duration_ms: durationMs, err: error },
        'domain check failed; the domain is due again when its lease ends',
      );
    }
  }

  function start(claimed: ClaimedDomain): void {
    const check = checkOne(claimed).finally(() => running.delete(check));
    running.add(check);
  }

  async function idleSleepMs(): Promise<number> {
    const nextMs = await nextDueAtMs(db);
    if (nextMs === undefined) return intervalMs;
    return Math.min(intervalMs, Math.max(MIN_SLEEP_MS, nextMs - Date.now()));
  }

  async function step(): Promise<void> {
    const free = concurrency - running.size;
    if (free <= 0) {
      await Promise.race([...running, stopped]);
      return;
    }
    const now = new Date();
    const limit = Math.min(free, batchSize);
    const leaseUntil = new Date(now.getTime() + leaseMs);
    const claimed = await claimDueDomains(db, { now, leaseUntil, limit });
    for (const domain of claimed) start(domain);
    if (claimed.length < limit) await pause(await idleSleepMs());
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      try {
        await step();
      } catch (error) {
        logger.error({ err: error }, 'claiming due domains failed');
        await pause(intervalMs);
      }
    }
  }

  const looping = loop();
  return async () => {
    stopping = true;
    signalStop();
    await looping;
    await Promise.allSettled([...running]);
  };
}

/** The `BACKGROUND_WORKERS` entry: the scheduler on the configured DNS servers. */
export async function startVerificationWorker(
  deps: Pick<AppDeps, 'database' | 'config' | 'logger'>,
): Promise<() => Promise<void>> {
  return startVerificationScheduler(deps, { checker: checkerFromConfig(deps.config) });
}
