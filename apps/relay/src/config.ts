// The relay's configuration: environment variables, parsed and checked once at start.
import { isIP } from 'node:net';
import { z } from 'zod';
import { durationMs, scheduleMs } from './durations.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const CLIENT_SECRET_MIN_LENGTH = 16;

export interface Config {
  host: string;
  port: number;
  /** Unset: embedded PGlite in `dataDir`; `memory://`: PGlite in memory; else PostgreSQL. */
  databaseUrl: string | undefined;
  dataDir: string;
  environmentId: string | undefined;
  clientId: string | undefined;
  clientSecret: string | undefined;
  tokenTtlMs: number;
  /** `host:port` (or `[ipv6]:port`) entries for `Resolver.setServers`; empty: the system's. */
  dnsServers: string[];
  dnsTimeoutMs: number;
  /** Delays between checks of a pending domain; the last one repeats. */
  checkScheduleMs: number[];
  verificationWindowMs: number;
  /** Delay before each delivery attempt, the first usually 0. */
  retryScheduleMs: number[];
  requestTimeoutMs: number;
  disableAfterMs: number;
  allowPrivateEndpoints: boolean;
  rotationGraceMs: number;
  portalLinkTtlMs: number;
  portalSessionTtlMs: number;
  /** Sources for the portal's `frame-ancestors` policy; empty: it may not be framed. */
  portalFrameAncestors: string[];
  /** Base URL for links the relay hands out, without a trailing slash. */
  publicUrl: string | undefined;
  /** Whether this process runs the background workers (verification, delivery). */
  workers: boolean;
  logLevel: (typeof LOG_LEVELS)[number];
}

/** The configuration was invalid: one line per bad value in `problems`. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.join('\n')}`);
    this.problems = problems;
  }
}

const positiveDurationMs = durationMs.refine((ms) => ms > 0, { message: 'must be longer than 0' });

const checkSchedule = scheduleMs.refine((steps) => (steps.at(-1) ?? 0) > 0, {
  message: 'must end with a step longer than 0, since the last step repeats',
});

const boolean = z.string().transform((text, ctx) => {
  const value = text.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no'].includes(value)) return false;
  ctx.addIssue({ code: 'custom', message: `"${text}" is not a boolean (true or false)` });
  return z.NEVER;
});

const port = z.string().transform((text, ctx) => {
  const value = Number(text.trim());
  if (/^\d+$/.test(text.trim()) && value <= 65535) return value;
  ctx.addIssue({ code: 'custom', message: `"${text}" is not a port number (0 to 65535)` });
  return z.NEVER;
});

const databaseUrl = z.string().refine((text) => /^(postgres|postgresql|memory):\/\//.test(text), {
  message: 'must be a postgres:// or postgresql:// URL, or memory:// for an in-memory database',
});

const environmentId = z.string().regex(/^env_[0-9A-Za-z_-]{1,28}$/, {
  message: 'must be env_ followed by up to 28 letters, digits, _ or -',
});

const clientId = z.string().regex(/^[0-9A-Za-z._~-]{1,128}$/, {
  message: 'must be 1 to 128 letters, digits, or . _ ~ -',
});

const clientSecret = z.string().min(CLIENT_SECRET_MIN_LENGTH, {
  message: `must be at least ${CLIENT_SECRET_MIN_LENGTH} characters`,
});

function parseDnsServer(entry: string): string | undefined {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  const [host, portText] = bracketed
    ? [bracketed[1], bracketed[2]]
    : isIP(entry) === 6
      ? [entry, undefined]
      : entry.split(':');
  if (!host || isIP(host) === 0) return undefined;
  if (portText !== undefined && !(/^\d+$/.test(portText) && Number(portText) <= 65535)) {
    return undefined;
  }
  return entry;
}

const dnsServers = z.string().transform((text, ctx) => {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const bad = entries.filter((entry) => parseDnsServer(entry) === undefined);
  if (bad.length === 0) return entries;
  ctx.addIssue({
    code: 'custom',
    message: `"${bad.join(', ')}" is not an IP address with an optional port, like 127.0.0.1:5353`,
  });
  return z.NEVER;
});

// A CSP source per entry: 'self', or a scheme://host[:port] origin (a * for a subdomain allowed).
const FRAME_SOURCE = /^('self'|https?:\/\/(\*\.)?[a-z0-9.-]+(:\d{1,5})?)$/i;

const frameAncestors = z.string().transform((text, ctx) => {
  const sources = text.split(/[\s,]+/).filter(Boolean);
  const bad = sources.find((source) => !FRAME_SOURCE.test(source));
  if (bad !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `"${bad}" is not 'self' or an origin like https://app.example.com`,
    });
    return z.NEVER;
  }
  return sources;
});

const publicUrl = z
  .string()
  .refine((text) => URL.canParse(text) && /^https?:$/.test(new URL(text).protocol), {
    message: 'must be an http:// or https:// URL',
  })
  .transform((text) => text.replace(/\/+$/, ''));

const logLevel = z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` });

const hostName = z.string().min(1, { message: 'must not be empty' });

const schema = z.object({
  HOST: hostName.default('127.0.0.1'),
  PORT: port.default(8787),
  DATABASE_URL: databaseUrl.optional(),
  VERIHOOK_DATA_DIR: z.string().default('.verihook/relay'),
  VERIHOOK_ENVIRONMENT_ID: environmentId.optional(),
  VERIHOOK_CLIENT_ID: clientId.optional(),
  VERIHOOK_CLIENT_SECRET: clientSecret.optional(),
  VERIHOOK_TOKEN_TTL: positiveDurationMs.default(3_600_000),
  VERIHOOK_DNS_SERVERS: dnsServers.default([]),
  VERIHOOK_DNS_TIMEOUT: positiveDurationMs.default(5_000),
  VERIHOOK_CHECK_SCHEDULE: checkSchedule.default([
    10_000, 30_000, 60_000, 300_000, 900_000, 1_800_000, 3_600_000,
  ]),
  VERIHOOK_VERIFICATION_WINDOW: positiveDurationMs.default(72 * 3_600_000),
  VERIHOOK_RETRY_SCHEDULE: scheduleMs.default([
    0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
  ]),
  VERIHOOK_REQUEST_TIMEOUT: positiveDurationMs.default(15_000),
  VERIHOOK_DISABLE_AFTER: durationMs.default(5 * 86_400_000),
  VERIHOOK_ALLOW_PRIVATE_ENDPOINTS: boolean.default(false),
  VERIHOOK_ROTATION_GRACE: durationMs.default(86_400_000),
  VERIHOOK_PORTAL_LINK_TTL: positiveDurationMs.default(60_000),
  VERIHOOK_PORTAL_SESSION_TTL: positiveDurationMs.default(6 * 3_600_000),
  VERIHOOK_PORTAL_FRAME_ANCESTORS: frameAncestors.default([]),
  VERIHOOK_PUBLIC_URL: publicUrl.optional(),
  VERIHOOK_WORKERS: boolean.default(true),
  LOG_LEVEL: logLevel.default('info'),
});

function pairingProblems(present: Record<string, string>): string[] {
  const hasId = 'VERIHOOK_CLIENT_ID' in present;
  if (hasId === 'VERIHOOK_CLIENT_SECRET' in present) return [];
  const missing = hasId ? 'VERIHOOK_CLIENT_SECRET' : 'VERIHOOK_CLIENT_ID';
  return [
    `${missing}: must be set together with ${hasId ? 'VERIHOOK_CLIENT_ID' : 'VERIHOOK_CLIENT_SECRET'}`,
  ];
}

function presentValues(env: Record<string, string | undefined>): Record<string, string> {
  const present: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') present[key] = value;
  }
  return present;
}

/** Reads the relay's settings from the environment; throws a `ConfigError` naming each bad value. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = presentValues(env);
  const result = schema.safeParse(present);
  const problems = result.success
    ? []
    : result.error.issues.map(
        (issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`,
      );
  problems.push(...pairingProblems(present));
  if (!result.success || problems.length > 0) throw new ConfigError(problems);

  const e = result.data;
  return {
    host: e.HOST,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.VERIHOOK_DATA_DIR,
    environmentId: e.VERIHOOK_ENVIRONMENT_ID,
    clientId: e.VERIHOOK_CLIENT_ID,
    clientSecret: e.VERIHOOK_CLIENT_SECRET,
    tokenTtlMs: e.VERIHOOK_TOKEN_TTL,
    dnsServers: e.VERIHOOK_DNS_SERVERS,
    dnsTimeoutMs: e.VERIHOOK_DNS_TIMEOUT,
    checkScheduleMs: e.VERIHOOK_CHECK_SCHEDULE,
    verificationWindowMs: e.VERIHOOK_VERIFICATION_WINDOW,
    retryScheduleMs: e.VERIHOOK_RETRY_SCHEDULE,
    requestTimeoutMs: e.VERIHOOK_REQUEST_TIMEOUT,
    disableAfterMs: e.VERIHOOK_DISABLE_AFTER,
    allowPrivateEndpoints: e.VERIHOOK_ALLOW_PRIVATE_ENDPOINTS,
    rotationGraceMs: e.VERIHOOK_ROTATION_GRACE,
    portalLinkTtlMs: e.VERIHOOK_PORTAL_LINK_TTL,
    portalSessionTtlMs: e.VERIHOOK_PORTAL_SESSION_TTL,
    portalFrameAncestors: e.VERIHOOK_PORTAL_FRAME_ANCESTORS,
    publicUrl: e.VERIHOOK_PUBLIC_URL,
    workers: e.VERIHOOK_WORKERS,
    logLevel: e.LOG_LEVEL,
  };
}
