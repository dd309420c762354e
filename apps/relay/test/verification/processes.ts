// Child processes for the verification tests: spawned with tsx, their stdout kept line by line.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const RELAY_DIR = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildRun {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
  /** The stdout lines that are JSON log lines, parsed. */
  logs(): Record<string, unknown>[];
}

function collect(into: string[]) {
  let partial = '';
  return (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    into.push(...lines);
  };
}

/** Runs `script` (relative to apps/relay) with tsx under exactly `env` plus PATH and HOME. */
export function spawnTsx(script: string, env: Record<string, string>): ChildRun {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: RELAY_DIR,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: ChildRun = {
    child,
    stdout: [],
    stderr: [],
    exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
    logs: () => run.stdout.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line)),
  };
  child.stdout?.on('data', collect(run.stdout));
  child.stderr?.on('data', collect(run.stderr));
  return run;
}

/** Waits for a stdout line matching `pattern`; fails with everything the child said. */
export async function waitForLine(run: ChildRun, pattern: RegExp, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = run.stdout.find((entry) => pattern.test(entry));
    if (line) return line;
    if (Date.now() > deadline || run.child.exitCode !== null) {
      const said = [...run.stdout, ...run.stderr].join('\n');
      throw new Error(`no line matching ${pattern}; the child said:\n${said}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** SIGTERM, then SIGKILL if the child has not exited within `graceMs`. */
export async function stopChild(run: ChildRun, graceMs = 5_000): Promise<number | null> {
  if (run.child.exitCode !== null) return run.child.exitCode;
  run.child.kill('SIGTERM');
  const timer = setTimeout(() => run.child.kill('SIGKILL'), graceMs);
  const code = await run.exited;
  clearTimeout(timer);
  return code;
}
