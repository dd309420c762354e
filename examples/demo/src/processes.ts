// Child processes for the demo and its tests: spawn, keep the log, wait until ready, stop.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

const KEPT_LOG_LINES = 500;
const STOP_GRACE_MS = 5_000;

export interface ProcessOptions {
  /** What the process is, in messages: `relay`, `consumer`, `DNS server`. */
  name: string;
  /** Arguments to `node` (the same binary that runs this one). */
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A failure that one process explains: its name and the last lines of its log come with it. */
export class ProcessError extends Error {
  override readonly name = 'ProcessError';

  constructor(
    message: string,
    readonly process: ManagedProcess,
  ) {
    super(message);
  }
}

type LineListener = (line: string) => void;

/** A running child process whose stdout and stderr are kept line by line, never printed. */
export class ManagedProcess {
  readonly name: string;
  /** Settles when the process has exited, for whatever reason, and its output is all read. */
  readonly exited: Promise<ProcessExit>;
  private readonly child: ChildProcess;
  private readonly kept: string[] = [];
  private readonly listeners = new Set<LineListener>();
  private exit: ProcessExit | undefined;
  private stopping = false;

  constructor(options: ProcessOptions) {
    this.name = options.name;
    this.child = spawn(process.execPath, options.args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        this.record(`could not start: ${error.message}`);
        this.exit ??= { code: null, signal: null };
        resolve(this.exit);
      });
      // 'close' comes after 'exit' once stdout and stderr are drained, so the log is complete.
      this.child.once('close', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    this.readLines(this.child.stdout);
    this.readLines(this.child.stderr);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether the process ended without being asked to stop. */
  get crashed(): boolean {
    return this.exit !== undefined && !this.stopping;
  }

  /** How it ended, in words: `exited with code 1`, `was killed by SIGKILL`. */
  describeExit(): string {
    if (!this.exit) return 'is running';
    if (this.exit.signal) return `was killed by ${this.exit.signal}`;
    return `exited with code ${this.exit.code}`;
  }

  /** The last `count` lines of its output. */
  tail(count = 20): string[] {
    return this.kept.slice(-count);
  }

  /** Calls `listener` with every line from now on; the function it returns unsubscribes. */
  onLine(listener: LineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves with the first line (already kept or still to come) that `match` maps to a value. */
  waitForLine<T>(match: (line: string) => T | undefined, timeoutMs: number, what: string) {
    for (const line of this.kept) {
      const found = match(line);
      if (found !== undefined) return Promise.resolve(found);
    }
    return new Promise<T>((resolve, reject) => {
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        unsubscribe();
        settle();
      };
      const unsubscribe = this.onLine((line) => {
        const found = match(line);
        if (found !== undefined) finish(() => resolve(found));
      });
      const timer = setTimeout(() => {
        finish(() => reject(new ProcessError(`no ${what} within ${seconds(timeoutMs)}`, this)));
      }, timeoutMs);
      void this.exited.then(() => {
        finish(() => reject(new ProcessError(`${this.name} ${this.describeExit()}`, this)));
      });
    });
  }

  /** Marks an exit from now on as asked for (not a crash), as when a stop is on its way. */
  expectExit(): void {
    this.stopping = true;
  }

  /** Asks the process to stop (SIGTERM), and kills it if it is still there after a grace period. */
  async stop(graceMs = STOP_GRACE_MS): Promise<ProcessExit> {
    this.stopping = true;
    if (this.exit) return this.exit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  private readLines(stream: NodeJS.ReadableStream | null): void {
    let partial = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.record(line);
    });
    stream?.on('end', () => {
      if (partial) this.record(partial);
    });
  }

  private record(line: string): void {
    this.kept.push(line);
    if (this.kept.length > KEPT_LOG_LINES) this.kept.shift();
    for (const listener of this.listeners) listener(line);
  }
}

/** Parses a JSON log line, or undefined when the line is not a JSON object. */
export function jsonLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Waits for the `{"msg":"listening","url":…}` line the relay, consumer and DNS server print. */
export function waitForListening(child: ManagedProcess, timeoutMs: number): Promise<string> {
  return child.waitForLine(
    (line) => {
      const entry = jsonLine(line);
      return entry?.msg === 'listening' && typeof entry.url === 'string' ? entry.url : undefined;
    },
    timeoutMs,
    '"listening" line',
  );
}

/** Polls `GET <url>/healthz` until it answers 200; fails if the process exits first. */
export async function waitForHealth(url: string, child: ManagedProcess, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.crashed) throw new ProcessError(`${child.name} ${child.describeExit()}`, child);
    const response = await fetch(`${url}/healthz`).catch(() => undefined);
    if (response?.ok) return;
    await sleep(100);
  }
  throw new ProcessError(`${url}/healthz did not answer 200 within ${seconds(timeoutMs)}`, child);
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for a URL needed before its server runs). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `1.5 s`, `200 ms`. */
export function seconds(ms: number): string {
  return ms < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1_000).toFixed(1)} s`;
}
