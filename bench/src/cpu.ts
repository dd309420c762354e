// CPU use during a run: the whole machine's (from /proc/stat) and this process's own.
import { readFileSync } from 'node:fs';
import type { Sql } from 'postgres';

const CLOCK_TICK_MS = 10;

export interface CpuMark {
  machine: { busy: number; total: number } | undefined;
  process: NodeJS.CpuUsage;
  atMs: number;
}

export interface CpuUse {
  /** Share of all cores busy, 0..100 (100 = every core busy); absent off Linux. */
  machineBusyPct?: number;
  /** This process's CPU time over wall time, in per cent of one core. */
  processCorePct: number;
}

export function markCpu(): CpuMark {
  return { machine: readProcStat(), process: process.cpuUsage(), atMs: performance.now() };
}

export function cpuSince(mark: CpuMark): CpuUse {
  const now = markCpu();
  const wallMs = Math.max(now.atMs - mark.atMs, 1e-3);
  const usedUs = now.process.user - mark.process.user + now.process.system - mark.process.system;
  const processCorePct = round1((usedUs / 1000 / wallMs) * 100);
  if (!mark.machine || !now.machine) return { processCorePct };
  const total = now.machine.total - mark.machine.total;
  const busy = now.machine.busy - mark.machine.busy;
  return { machineBusyPct: total > 0 ? round1((busy / total) * 100) : 0, processCorePct };
}

function readProcStat(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/** CPU time (ms) of each PostgreSQL backend connected to `database`, other than `sql`'s own;
 * read from /proc, so only for a server on this machine (Linux, 100 clock ticks a second). */
export async function backendCpuMs(sql: Sql, database: string): Promise<Map<number, number>> {
  const rows = await sql<{ pid: number }[]>`
    SELECT pid FROM pg_stat_activity WHERE datname = ${database} AND pid <> pg_backend_pid()`;
  const cpu = new Map<number, number>();
  for (const { pid } of rows) {
    const ms = processCpuMs(pid);
    if (ms !== undefined) cpu.set(pid, ms);
  }
  return cpu;
}

/** CPU time (ms, user + system) of a process on this machine, from /proc; undefined off Linux. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // proc(5): fields 14 and 15 (utime, stime) count from the state, the first after "(comm)".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
  } catch {
    return undefined;
  }
}
