// The benchmark harness: runs registered stages, samples each figure after warm-up, summarises
// the samples and computes ratios between figures of the same run.
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import postgres from 'postgres';
import { type CpuUse, cpuSince, markCpu } from './cpu.ts';
import { type Summary, summarise } from './stats.ts';

/** How a figure was measured; every field ends up in the JSON and the table. */
export interface Method {
  runs: number;
  /** What ran before the measured runs and was discarded. */
  warmup: string;
  /** Requests, jobs or checks in flight at once. */
  concurrency?: number | string;
  payloadBytes?: number;
  /** Items handled per measured run (requests, events, checks). */
  perRun?: string;
  /** What the figure includes and excludes, in a sentence or two. */
  notes?: string;
}

export interface FigureSpec {
  label: string;
  unit: string;
  better: 'higher' | 'lower';
}

export interface Figure extends FigureSpec {
  /** `<stage id>.<key>`, the name ratios refer to. */
  id: string;
  stage: string;
  method: Method;
  samples: number[];
  summary: Summary;
  /** Per measured run: wall time, CPU use and whatever the stage reported. */
  runs: RunDetails[];
}

export interface RunDetails extends CpuUse {
  wallMs: number;
  [detail: string]: unknown;
}

export interface RunInfo {
  /** 0-based among the warm-up runs or among the measured runs. */
  index: number;
  warmup: boolean;
}

export interface Sample<K extends string> {
  values: Record<K, number>;
  details?: Record<string, unknown>;
  /** Details of one figure's part of the run (when a run measures variants side by side). */
  figureDetails?: Partial<Record<K, Record<string, unknown>>>;
}

/** A figure of a measurement; `method` overrides the measurement's for this figure. */
export interface MeasuredFigureSpec extends FigureSpec {
  method?: Omit<Method, 'runs' | 'warmup'>;
}

export interface MeasureSpec<K extends string> {
  runs: number;
  warmup: { runs: number; description: string };
  method: Omit<Method, 'runs' | 'warmup'>;
  figures: Record<K, MeasuredFigureSpec>;
  sample(run: RunInfo): Promise<Sample<K>>;
}

export interface StageContext {
  readonly quick: boolean;
  readonly databaseUrl: string;
  /** Runs the warm-up, then the measured runs, and records one figure per key of `figures`. */
  measure<K extends string>(spec: MeasureSpec<K>): Promise<Record<K, Figure>>;
  /** A fresh database on the server; dropped when the stage ends. */
  scratchDatabase(label: string): Promise<string>;
  /** Runs when the stage ends, however it ends; the last deferred runs first. */
  defer(cleanup: () => unknown): void;
  note(text: string): void;
  /** Ends the stage as skipped, with the reason recorded. */
  skip(reason: string): never;
  log(message: string): void;
}

export interface Stage {
  /** Short and stable: figure ids are `<id>.<key>`. */
  id: string;
  title: string;
  needsDatabase?: boolean;
  /** The stage fails if it runs longer; load loops inside keep their own, tighter bounds. */
  timeLimitMs?: { full: number; quick: number };
  run(ctx: StageContext): Promise<void>;
}

export interface RatioSpec {
  id: string;
  label: string;
  numerator: string;
  denominator: string;
}

export interface Ratio extends RatioSpec {
  /** The numerator's median over the denominator's, or null when either is missing. */
  value: number | null;
  reason?: string;
}

export interface StageResult {
  id: string;
  title: string;
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  wallMs: number;
  notes: string[];
}

export interface Machine {
  node: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  postgres: string | null;
  postgresSettings: Record<string, string>;
  /** 1, 5 and 15 minute load averages when the suite started and ended: other work on the
   * machine shows here, and it skews every figure. */
  loadAverage: { start: number[]; end: number[] };
}

export interface SuiteResult {
  startedAt: string;
  wallMs: number;
  mode: 'full' | 'quick';
  machine: Machine;
  stages: StageResult[];
  figures: Figure[];
  ratios: Ratio[];
}

export interface SuiteOptions {
  stages: readonly Stage[];
  ratios: readonly RatioSpec[];
  quick: boolean;
  databaseUrl: string;
  log(message: string): void;
}

/** Identity, for type inference where a stage is written. */
export function defineStage(stage: Stage): Stage {
  return stage;
}

class StageSkipped extends Error {}

const liveScratch = new Map<string, () => Promise<void>>();

const DEFAULT_TIME_LIMIT_MS = { full: 180_000, quick: 60_000 };

export async function runSuite(options: SuiteOptions): Promise<SuiteResult> {
  const startedAt = new Date();
  const started = performance.now();
  const machine = await describeMachine(options.databaseUrl);
  const figures: Figure[] = [];
  const stages: StageResult[] = [];

  for (const stage of options.stages) {
    options.log(`stage ${stage.id}: ${stage.title}`);
    const result = await runStage(stage, options, machine, figures);
    const time = `${(result.wallMs / 1000).toFixed(1)} s`;
    options.log(`stage ${stage.id}: ${result.status} in ${time}${suffix(result.reason)}`);
    stages.push(result);
  }

  machine.loadAverage.end = roundedLoad();
  return {
    startedAt: startedAt.toISOString(),
    wallMs: Math.round(performance.now() - started),
    mode: options.quick ? 'quick' : 'full',
    machine,
    stages,
    figures,
    ratios: options.ratios.map((spec) => computeRatio(spec, figures)),
  };
}

async function runStage(
  stage: Stage,
  options: SuiteOptions,
  machine: Machine,
  figures: Figure[],
): Promise<StageResult> {
  const started = performance.now();
  const notes: string[] = [];
  const cleanups: Array<() => unknown> = [];
  const finish = (status: StageResult['status'], reason?: string): StageResult => ({
    id: stage.id,
    title: stage.title,
    status,
    ...(reason === undefined ? {} : { reason }),
    wallMs: Math.round(performance.now() - started),
    notes,
  });
  const log = (message: string) => options.log(`  ${stage.id}: ${message}`);

  if (stage.needsDatabase && machine.postgres === null) {
    return finish('skipped', 'PostgreSQL did not answer SELECT version() at DATABASE_URL');
  }
  const ctx: StageContext = {
    quick: options.quick,
    databaseUrl: options.databaseUrl,
    measure: (spec) => measure(stage, spec, figures, log),
    async scratchDatabase(label) {
      const scratch = await createScratchDatabase(options.databaseUrl, label);
      cleanups.push(scratch.drop);
      return scratch.url;
    },
    defer: (cleanup) => cleanups.push(cleanup),
    note: (text) => notes.push(text),
    skip(reason) {
      throw new StageSkipped(reason);
    },
    log,
  };

  const limits = stage.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS;
  const limitMs = options.quick ? limits.quick : limits.full;
  try {
    await withTimeLimit(stage.run(ctx), limitMs, `stage ${stage.id} ran over ${limitMs} ms`);
    return finish('ok');
  } catch (error) {
    if (error instanceof StageSkipped) return finish('skipped', error.message);
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return finish('failed', error instanceof Error ? error.message : String(error));
  } finally {
    await runCleanups(cleanups, log);
  }
}

async function measure<K extends string>(
  stage: Stage,
  spec: MeasureSpec<K>,
  figures: Figure[],
  log: (message: string) => void,
): Promise<Record<K, Figure>> {
  if (spec.runs < 1) throw new Error('measure needs at least one run');
  const keys = Object.keys(spec.figures) as K[];
  for (let index = 0; index < spec.warmup.runs; index += 1) {
    await spec.sample({ index, warmup: true });
  }

  const samples = new Map<K, number[]>(keys.map((key) => [key, []]));
  const runs = new Map<K, RunDetails[]>(keys.map((key) => [key, []]));
  for (let index = 0; index < spec.runs; index += 1) {
    const mark = markCpu();
    const sample = await spec.sample({ index, warmup: false });
    const cpu = cpuSince(mark);
    const wallMs = Math.round(performance.now() - mark.atMs);
    for (const key of keys) {
      samples.get(key)?.push(sample.values[key]);
      const own = sample.figureDetails?.[key];
      runs.get(key)?.push({ wallMs, ...cpu, ...sample.details, ...own });
    }
    log(`run ${index + 1}/${spec.runs}: ${keys.map((key) => `${key}=${fmt(sample.values[key])}`)}`);
  }

  const recorded = {} as Record<K, Figure>;
  for (const key of keys) {
    const values = samples.get(key) ?? [];
    const { method: ownMethod, ...figureSpec } = spec.figures[key];
    const figure: Figure = {
      id: `${stage.id}.${key}`,
      stage: stage.id,
      ...figureSpec,
      method: {
        runs: spec.runs,
        warmup: spec.warmup.description,
        ...spec.method,
        ...ownMethod,
      },
      samples: values,
      summary: summarise(values),
      runs: runs.get(key) ?? [],
    };
    figures.push(figure);
    recorded[key] = figure;
  }
  return recorded;
}

function computeRatio(spec: RatioSpec, figures: readonly Figure[]): Ratio {
  const numerator = figures.find((figure) => figure.id === spec.numerator);
  const denominator = figures.find((figure) => figure.id === spec.denominator);
  const missing = [
    numerator ? undefined : spec.numerator,
    denominator ? undefined : spec.denominator,
  ]
    .filter((id) => id !== undefined)
    .join(' and ');
  if (!numerator || !denominator) return { ...spec, value: null, reason: `no figure ${missing}` };
  if (numerator.unit !== denominator.unit) {
    const reason = `units differ: ${numerator.unit} / ${denominator.unit}`;
    return { ...spec, value: null, reason };
  }
  return { ...spec, value: numerator.summary.median / denominator.summary.median };
}

async function createScratchDatabase(serverUrl: string, label: string) {
  const safeLabel = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 30);
  const name = `vh_bench_${safeLabel}_${randomBytes(4).toString('hex')}`;
  await withAdmin(serverUrl, (sql) => sql.unsafe(`CREATE DATABASE "${name}"`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const drop = async () => {
    await withAdmin(serverUrl, (sql) =>
      sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
    );
    liveScratch.delete(name);
  };
  liveScratch.set(name, drop);
  return { url: url.toString(), drop };
}

/** Drops every scratch database not yet dropped; for an interrupted run. */
export async function dropScratchDatabases(): Promise<void> {
  await Promise.allSettled([...liveScratch.values()].map((drop) => drop()));
}

async function withAdmin<T>(url: string, work: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    return await work(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function describeMachine(databaseUrl: string): Promise<Machine> {
  const processors = cpus();
  const machine: Machine = {
    node: process.version,
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    cores: processors.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    platform: `${process.platform} ${process.arch}`,
    postgres: null,
    postgresSettings: {},
    loadAverage: { start: roundedLoad(), end: [] },
  };
  try {
    await withAdmin(databaseUrl, async (sql) => {
      const [row] = await sql<{ version: string }[]>`SELECT version()`;
      machine.postgres = row?.version ?? null;
      const settings = await sql<{ name: string; setting: string }[]>`
        SELECT name, current_setting(name) AS setting FROM pg_settings
        WHERE name IN ('fsync', 'synchronous_commit', 'shared_buffers', 'max_connections')`;
      for (const { name, setting } of settings) machine.postgresSettings[name] = setting;
    });
  } catch {
    machine.postgres = null;
  }
  return machine;
}

async function withTimeLimit<T>(work: Promise<T>, limitMs: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), limitMs);
  });
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}

async function runCleanups(cleanups: Array<() => unknown>, log: (message: string) => void) {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      log(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

function roundedLoad(): number[] {
  return loadavg().map((load) => Math.round(load * 100) / 100);
}

function suffix(reason: string | undefined): string {
  return reason ? ` (${reason})` : '';
}

function fmt(value: number): string {
  return Math.abs(value) >= 100 ? String(Math.round(value)) : value.toPrecision(3);
}
