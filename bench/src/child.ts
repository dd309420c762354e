// Child processes of the bench: started here, tracked, and always stopped.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { request } from 'undici';

const STOP_GRACE_MS = 5_000;

interface Tracked {
  child: ChildProcess;
  /** Spawned as the leader of its own process group, which is signalled as a whole. */
  group: boolean;
}

const live = new Set<Tracked>();

export interface ForkedChild<Ready> {
  pid: number;
  /** The child's `{ type: 'ready', … }` message. */
  ready: Ready;
  /** Sends `{ type }` over IPC and answers the child's next message of that type. */
  ask<Answer>(type: string, timeoutMs?: number): Promise<Answer>;
  stop(): Promise<void>;
}

export interface ForkOptions {
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

/** Forks a TypeScript module under tsx and waits for its `{ type: 'ready' }` IPC message. */
export async function forkTsx<Ready>(
  modulePath: string,
  options: ForkOptions = {},
): Promise<ForkedChild<Ready>> {
  const child = fork(modulePath, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const tracked = track(child, false);
  try {
    const ready = await waitForReady<Ready>(child, options.readyTimeoutMs ?? 20_000);
    return {
      pid: child.pid ?? -1,
      ready,
      ask: (type, timeoutMs = 5_000) => ask(child, type, timeoutMs),
      stop: () => stop(tracked),
    };
  } catch (error) {
    await stop(tracked);
    throw error;
  }
}

export interface CommandChild {
  pid: number;
  /** The last few KiB of what the command wrote to stdout and stderr. */
  output(): string;
  exited(): boolean;
  stop(): Promise<void>;
}

/** Spawns a command in its own process group (so its own children stop with it). */
export function spawnCommand(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string> },
): CommandChild {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tracked = track(child, true);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4096);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('error', (error) => keep(Buffer.from(`\n${error.message}\n`)));
  return {
    pid: child.pid ?? -1,
    output: () => output,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    stop: () => stop(tracked),
  };
}

/** Polls `url` until it answers (any status); answers the milliseconds that took. */
export async function waitUntilServing(
  child: CommandChild,
  url: string,
  timeoutMs: number,
  name: string,
): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (child.exited())
      throw new Error(`${name} exited before serving: ${child.output().slice(-800)}`);
    try {
      const response = await request(url, { headersTimeout: 2_000 });
      await response.body.dump();
      return performance.now() - started;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${name} did not answer within ${timeoutMs} ms: ${child.output().slice(-800)}`);
}

/** A port on 127.0.0.1 that was free a moment ago, to hand to a child that listens on it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Kills every child still running, at once; for process exit and signals. */
export function killAllSync(): void {
  for (const tracked of live) signal(tracked, 'SIGKILL');
  live.clear();
}

function track(child: ChildProcess, group: boolean): Tracked {
  const tracked = { child, group };
  live.add(tracked);
  child.once('exit', () => {
    if (!group) live.delete(tracked);
  });
  return tracked;
}

function waitForReady<Ready>(child: ChildProcess, timeoutMs: number): Promise<Ready> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`child not ready after ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (message: { type?: string; message?: string }) => {
      if (message?.type === 'ready') done(() => resolve(message as Ready));
      if (message?.type === 'error') fail(new Error(`child failed to start: ${message.message}`));
    };
    const onExit = (code: number | null) => fail(new Error(`child exited (${code}) before ready`));
    const done = (settle: () => void) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      settle();
    };
    const fail = (error: Error) => done(() => reject(error));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function ask<Answer>(child: ChildProcess, type: string, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`child did not answer "${type}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: { type?: string }) => {
      if (message?.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message as Answer);
    };
    child.on('message', onMessage);
    child.send({ type });
  });
}

async function stop(tracked: Tracked): Promise<void> {
  const { child } = tracked;
  if (!isRunning(tracked)) {
    if (tracked.group) signal(tracked, 'SIGKILL');
    live.delete(tracked);
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signal(tracked, 'SIGTERM');
  const graceful = await Promise.race([
    exited.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), STOP_GRACE_MS)),
  ]);
  if (!graceful || tracked.group) signal(tracked, 'SIGKILL');
  if (!graceful) await exited;
  live.delete(tracked);
}

function isRunning(tracked: Tracked): boolean {
  return tracked.child.exitCode === null && tracked.child.signalCode === null;
}

function signal(tracked: Tracked, name: NodeJS.Signals): void {
  const { pid } = tracked.child;
  if (pid === undefined) return;
  try {
    if (tracked.group) process.kill(-pid, name);
    else if (isRunning(tracked)) tracked.child.kill(name);
  } catch {
    // The process (or every process of its group) has already exited.
  }
}
