// The stages `pnpm bench` runs, in order, and the ratios computed between their figures.
// A stage plugs in with one line here; a ratio names two figure ids (`<stage id>.<key>`).
import type { RatioSpec, Stage } from '../harness.ts';
import { baselineStage } from './baseline.ts';
import { ceilingStage } from './ceiling.ts';
import { createConsumerStage } from './consumer.ts';
import { deliveryStage } from './delivery.ts';
import { dnsCheckerStage } from './dns-checker.ts';
import { createSchedulerQueryStage } from './scheduler-query.ts';

export const stages: Stage[] = [
  ceilingStage,
  baselineStage,
  deliveryStage,
  createConsumerStage(),
  dnsCheckerStage,
  createSchedulerQueryStage(),
];

export const ratios: RatioSpec[] = [
  {
    id: 'verihook/ceiling',
    label: 'Verihook drain / ceiling (concurrency 16)',
    numerator: 'delivery.drain',
    denominator: 'ceiling.c16',
  },
  {
    id: 'verihook/baseline',
    label: 'Verihook drain / baseline drain',
    numerator: 'delivery.drain',
    denominator: 'baseline.drain',
  },
  {
    id: 'verihook-fanout/ceiling',
    label: 'Verihook fan-out drain / ceiling (concurrency 16)',
    numerator: 'delivery.fanout',
    denominator: 'ceiling.c16',
  },
  {
    id: 'verihook-p50/baseline-p50',
    label: 'Verihook latency p50 / baseline latency p50',
    numerator: 'delivery.latency-p50',
    denominator: 'baseline.latency-p50',
  },
  {
    id: 'verihook-p99/baseline-p99',
    label: 'Verihook latency p99 / baseline latency p99',
    numerator: 'delivery.latency-p99',
    denominator: 'baseline.latency-p99',
  },
  {
    id: 'verihook-2proc/1proc-p99',
    label: 'Verihook latency p99, 2 relay processes / 1',
    numerator: 'delivery.latency-2proc-p99',
    denominator: 'delivery.latency-p99',
  },
  {
    id: 'pglite/postgres',
    label: 'Verihook drain on PGlite / on PostgreSQL',
    numerator: 'delivery.pglite-drain',
    denominator: 'delivery.drain',
  },
  {
    id: 'baseline/ceiling',
    label: 'Baseline drain / ceiling (concurrency 16)',
    numerator: 'baseline.drain',
    denominator: 'ceiling.c16',
  },
  {
    id: 'baseline-produce/ceiling',
    label: 'Baseline produce + drain / ceiling (concurrency 16)',
    numerator: 'baseline.produce-drain',
    denominator: 'ceiling.c16',
  },
  {
    id: 'consumer/svix',
    label: 'Consumer full path / raw svix verify',
    numerator: 'consumer.full',
    denominator: 'consumer.svix',
  },
  {
    id: 'scheduler-no-index/index',
    label: 'Claim time without / with the due index',
    numerator: 'scheduler.claim-no-index-ms',
    denominator: 'scheduler.claim-ms',
  },
];
