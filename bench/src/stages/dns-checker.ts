// The DNS checker: checks per second with the relay's TXT checker against the local test DNS
// server (in its own process) holding 10,000 pending domains, half of them published.
import { fileURLToPath } from 'node:url';
import { type CheckOutcome, createTxtChecker } from '@verihook/relay/src/verification/checker.ts';
import { forkTsx } from '../child.ts';
import { benchDomain } from '../dns-fixture.ts';
import { defineStage } from '../harness.ts';
import { runBounded } from '../load.ts';

const SERVER_MODULE = fileURLToPath(new URL('../dns-server-process.ts', import.meta.url));
const DOMAINS = 10_000;
const CONCURRENCY = 64;
const TIMEOUT_MS = 2_000;
const TRIES = 2;

export const dnsCheckerStage = defineStage({
  id: 'dns',
  title: 'DNS checker: TXT checks against the local test DNS server',
  timeLimitMs: { full: 90_000, quick: 30_000 },
  async run(ctx) {
    const server = await forkTsx<{ address: string }>(SERVER_MODULE, {
      env: { DNS_DOMAINS: String(DOMAINS) },
    });
    ctx.defer(server.stop);
    const checker = createTxtChecker({
      servers: [server.ready.address],
      timeoutMs: TIMEOUT_MS,
      tries: TRIES,
    });
    const perRun = ctx.quick ? 2_000 : DOMAINS;

    await ctx.measure({
      runs: 3,
      warmup: { runs: 1, description: '1 × 1,000 checks' },
      method: {
        concurrency: CONCURRENCY,
        perRun: `${perRun.toLocaleString('en-US')} checks of ${DOMAINS.toLocaleString('en-US')} pending domains`,
        notes:
          'checks / wall time with `createTxtChecker` from apps/relay (node:dns Resolver, ' +
          `timeoutMs ${TIMEOUT_MS}, tries ${TRIES}; each check asks for TXT at the challenge ` +
          'name, the apex and the doubled name at once) against the dns2 test server from ' +
          '@verihook/testing running in a child process; half the domains publish the ' +
          'record (found), half have no name (nxdomain).',
      },
      figures: {
        checks: { label: 'DNS checks', unit: 'checks/s', better: 'higher' },
      },
      async sample(run) {
        const count = run.warmup ? 1_000 : perRun;
        const before = await server.ask<{ cpuMs: number }>('stats');
        const outcomes: Partial<Record<CheckOutcome, number>> = {};
        let misclassified = 0;
        const { elapsedMs } = await runBounded({
          count,
          concurrency: CONCURRENCY,
          deadlineMs: 60_000,
          async task(index) {
            const domain = benchDomain(index % DOMAINS);
            const result = await checker.check(domain);
            outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
            const expected = domain.published ? 'found' : 'nxdomain';
            if (result.outcome !== expected && result.outcome !== 'timeout') misclassified += 1;
          },
        });
        if (misclassified > 0) {
          throw new Error(`${misclassified} checks misclassified: ${JSON.stringify(outcomes)}`);
        }
        const after = await server.ask<{ cpuMs: number }>('stats');
        return {
          values: { checks: (count / elapsedMs) * 1000 },
          details: {
            outcomes,
            dnsServerCorePct: Math.round(((after.cpuMs - before.cpuMs) / elapsedMs) * 100),
          },
        };
      },
    });
  },
});
