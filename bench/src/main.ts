// `pnpm bench`: runs every registered stage and writes results/latest.{json,md}
// (BENCH_QUICK=1: a smoke run into results/quick.*; BENCH_STAGES=a,b: only those stages).
import { fileURLToPath } from 'node:url';
import { killAllSync } from './child.ts';
import { dropScratchDatabases, runSuite } from './harness.ts';
import { writeResults } from './report.ts';
import { ratios, stages } from './stages/index.ts';

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const RESULTS_DIRECTORY = fileURLToPath(new URL('../results/', import.meta.url));

async function main(): Promise<number> {
  const quick = process.env.BENCH_QUICK === '1';
  const selected = selectStages(process.env.BENCH_STAGES);
  const databaseUrl = process.env.DATABASE_URL?.startsWith('postgres')
    ? process.env.DATABASE_URL
    : DEFAULT_DATABASE_URL;
  const log = (message: string) => process.stderr.write(`${message}\n`);

  log(`bench: ${quick ? 'quick' : 'full'} run of ${selected.map((stage) => stage.id).join(', ')}`);
  const result = await runSuite({ stages: selected, ratios, quick, databaseUrl, log });
  const markdown = await writeResults(result, RESULTS_DIRECTORY, quick ? 'quick' : 'latest');
  process.stdout.write(`\n${markdown}`);
  log(`bench: wrote results/${quick ? 'quick' : 'latest'}.{json,md} in ${result.wallMs} ms`);
  return result.stages.some((stage) => stage.status === 'failed') ? 1 : 0;
}

function selectStages(list: string | undefined) {
  if (!list) return stages;
  const ids = list.split(',').map((id) => id.trim());
  const unknown = ids.filter((id) => !stages.some((stage) => stage.id === id));
  if (unknown.length > 0) {
    const known = stages.map((stage) => stage.id).join(', ');
    throw new Error(`BENCH_STAGES names unknown stages: ${unknown.join(', ')} (known: ${known})`);
  }
  return stages.filter((stage) => ids.includes(stage.id));
}

for (const name of ['SIGINT', 'SIGTERM'] as const) {
  process.on(name, () => {
    killAllSync();
    const exit = () => process.exit(130);
    dropScratchDatabases().then(exit, exit);
    setTimeout(exit, 5_000).unref();
  });
}
process.on('exit', killAllSync);

main()
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(killAllSync);
