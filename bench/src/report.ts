// Writes a suite's results as JSON and as a markdown table.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Figure, Ratio, SuiteResult } from './harness.ts';

/** Writes `<name>.json` and `<name>.md` into `directory` (each through a temporary file). */
export async function writeResults(result: SuiteResult, directory: string, name: string) {
  await mkdir(directory, { recursive: true });
  const markdown = renderMarkdown(result);
  await writeAtomically(join(directory, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
  await writeAtomically(join(directory, `${name}.md`), markdown);
  return markdown;
}

async function writeAtomically(path: string, text: string) {
  const temporary = `${path}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}

export function renderMarkdown(result: SuiteResult): string {
  const { machine } = result;
  const lines = [
    `# Verihook benchmarks (${result.mode} run)`,
    '',
    `Started ${result.startedAt}, took ${formatDuration(result.wallMs)}. ` +
      `Node ${machine.node} on ${machine.cpuModel}, ${machine.cores} cores, ` +
      `${machine.memoryGiB} GiB; ${machine.postgres?.split(' on ')[0] ?? 'no PostgreSQL'}` +
      `${settingsText(machine.postgresSettings)}. Load average (1/5/15 min) ` +
      `${machine.loadAverage.start.join(' / ')} at the start, ` +
      `${machine.loadAverage.end.join(' / ')} at the end.`,
    '',
    ...figureTable(result.figures),
    '',
    ...ratioTable(result.ratios),
    '',
    ...stageTable(result),
    '',
    ...howMeasured(result.figures),
    '',
    ...stageNotes(result),
  ];
  return `${lines.join('\n').trimEnd()}\n`;
}

function figureTable(figures: readonly Figure[]): string[] {
  const header = [
    '| Figure | Median | Spread (min – max) | Runs | Warm-up | Concurrency | Payload | Per run ' +
      '| Machine busy | CPU, % of one core |',
    '|---|--:|--:|--:|---|--:|--:|---|--:|---|',
  ];
  if (figures.length === 0) return ['No figures were measured.'];
  return [...header, ...figures.map(figureRow)];
}

function figureRow(figure: Figure): string {
  const { summary, method } = figure;
  const cells = [
    `${figure.label} \`${figure.id}\``,
    `**${formatValue(summary.median)}** ${figure.unit}`,
    `${formatValue(summary.min)} – ${formatValue(summary.max)}`,
    String(method.runs),
    method.warmup,
    method.concurrency === undefined ? '–' : String(method.concurrency),
    method.payloadBytes === undefined ? '–' : `${method.payloadBytes} B`,
    method.perRun ?? '–',
    machineBusy(figure),
    processCpu(figure),
  ];
  return `| ${cells.map(escapeCell).join(' | ')} |`;
}

function ratioTable(ratios: readonly Ratio[]): string[] {
  if (ratios.length === 0) return [];
  const rows = ratios.map((ratio) => {
    const value = ratio.value === null ? `– (${ratio.reason})` : `**${ratio.value.toFixed(2)}**`;
    const cells = [ratio.label, value, `\`${ratio.numerator}\` / \`${ratio.denominator}\``];
    return `| ${cells.map(escapeCell).join(' | ')} |`;
  });
  return ['| Ratio (medians, same run) | Value | Figures |', '|---|--:|---|', ...rows];
}

function stageTable(result: SuiteResult): string[] {
  const rows = result.stages.map((stage) => {
    const status = stage.reason ? `${stage.status}: ${stage.reason}` : stage.status;
    const cells = [`${stage.title} (\`${stage.id}\`)`, status, formatDuration(stage.wallMs)];
    return `| ${cells.map(escapeCell).join(' | ')} |`;
  });
  return ['| Stage | Status | Wall time |', '|---|---|--:|', ...rows];
}

function howMeasured(figures: readonly Figure[]): string[] {
  const stages = [...new Set(figures.map((figure) => figure.stage))];
  const lines: string[] = [];
  for (const stage of stages) {
    const notes = new Set(
      figures.filter((figure) => figure.stage === stage).map((figure) => figure.method.notes),
    );
    for (const note of notes) if (note) lines.push(`- \`${stage}\`: ${note}`);
  }
  return lines.length === 0 ? [] : ['How each figure was measured:', '', ...lines];
}

function stageNotes(result: SuiteResult): string[] {
  const lines = result.stages.flatMap((stage) =>
    stage.notes.map((note) => `- \`${stage.id}\`: ${note}`),
  );
  return lines.length === 0 ? [] : ['Notes from the stages:', '', ...lines];
}

function machineBusy(figure: Figure): string {
  const middle = medianOf(figure, 'machineBusyPct');
  return middle === undefined ? '–' : `${Math.round(middle)} %`;
}

/** The median CPU of each process the runs report (`processCorePct`, `<name>CorePct`). */
function processCpu(figure: Figure): string {
  const keys = new Set(figure.runs.flatMap((run) => Object.keys(run)));
  const parts = [...keys]
    .filter((key) => key.endsWith('CorePct'))
    .map((key) => {
      const name = key === 'processCorePct' ? 'bench' : key.replace(/CorePct$/, '');
      return `${name} ${Math.round(medianOf(figure, key) ?? 0)}`;
    });
  return parts.length === 0 ? '–' : parts.join(', ');
}

function medianOf(figure: Figure, key: string): number | undefined {
  const values = figure.runs
    .map((run) => run[key])
    .filter((value): value is number => typeof value === 'number')
    .sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)];
}

function settingsText(settings: Record<string, string>): string {
  const entries = Object.entries(settings);
  if (entries.length === 0) return '';
  return ` (${entries.map(([name, value]) => `${name}=${value}`).join(', ')})`;
}

function formatValue(value: number): string {
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
