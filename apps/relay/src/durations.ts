// Durations as people write them in configuration: `0`, `500ms`, `30s`, `5m`, `2h`, `3d`.
import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Milliseconds in a duration such as `30s`, or undefined when it is not one. `0` needs no unit. */
export function parseDurationMs(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const match = DURATION.exec(trimmed);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
}

/** Milliseconds in a comma-separated list of durations, or undefined when any part is not one. */
export function parseScheduleMs(text: string): number[] | undefined {
  const parts = text.split(',').map(parseDurationMs);
  if (parts.length === 0 || parts.some((part) => part === undefined)) return undefined;
  return parts as number[];
}

/** A zod schema for one duration in an environment variable, parsed to milliseconds. */
export const durationMs = z.string().transform((text, ctx) => {
  const ms = parseDurationMs(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration like 30s, 5m, 2h or 3d` });
    return z.NEVER;
  }
  return ms;
});

/** A zod schema for a comma-separated schedule of durations, parsed to milliseconds. */
export const scheduleMs = z.string().transform((text, ctx) => {
  const schedule = parseScheduleMs(text);
  if (schedule === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `"${text}" is not a comma-separated list of durations like 0,5s,5m,2h`,
    });
    return z.NEVER;
  }
  return schedule;
});
