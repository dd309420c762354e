// The consumer's configuration: the environment, parsed once at start with zod.
import { z } from 'zod';

const SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]+={0,2}$/;
const MIN_SECRET_BYTES = 24;
// svix's verify() rejects timestamps more than 5 minutes away whatever we configure.
const SVIX_TOLERANCE_SECONDS = 300;
const WHITE_SPACE_AROUND =
  'has white space around the secret (a trailing newline from a .env file?)';

/** The consumer's settings, as `loadConfig` returns them. */
export interface Config {
  port: number;
  host: string;
  webhookSecrets: string[];
  databaseUrl: string | undefined;
  maxBodyBytes: number;
  toleranceSeconds: number;
}

/** A bad environment, naming every offending variable; the message never contains a secret. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: string[];

  constructor(issues: string[]) {
    super(`Invalid configuration:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.issues = issues;
  }
}

/** Why one value cannot be a Verihook signing secret (a sentence starting 'secret'), or undefined. */
export function secretProblem(secret: string): string | undefined {
  if (/\s/.test(secret)) return 'secret must not contain white space';
  if (secret.startsWith('v1,')) {
    return "secret must start with whsec_ ('v1,' belongs to a signature, not to the secret)";
  }
  if (!secret.startsWith('whsec_')) return 'secret must start with whsec_';
  if (!SECRET_PATTERN.test(secret)) return 'secret must be base64 after whsec_ (A-Z a-z 0-9 + /)';

  const base64 = secret.slice('whsec_'.length);
  if (base64.length % 4 !== 0)
    return 'secret is not valid base64 (its length is not a multiple of 4)';
  const keyBytes = Buffer.from(base64, 'base64').length;
  if (keyBytes < MIN_SECRET_BYTES) {
    return `secret decodes to ${keyBytes} bytes; Verihook secrets are at least ${MIN_SECRET_BYTES} (copy it again from the relay)`;
  }
  return undefined;
}

const webhookSecrets = z
  .string({ error: 'is required: the endpoint secret (whsec_…) from the relay' })
  .transform((value, ctx) => {
    if (value !== value.trim()) {
      ctx.addIssue({ code: 'custom', message: WHITE_SPACE_AROUND });
      return z.NEVER;
    }
    const secrets = value.split(' ');
    if (secrets.includes('')) {
      ctx.addIssue({ code: 'custom', message: 'separate the secrets of a rotation by one space' });
      return z.NEVER;
    }
    secrets.forEach((secret, index) => {
      const problem = secretProblem(secret);
      const which = secrets.length > 1 ? `secret ${index + 1} of ${secrets.length}` : 'secret';
      if (problem) ctx.addIssue({ code: 'custom', message: problem.replace(/^secret/, which) });
    });
    return secrets;
  });

const integer = (fallback: number, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { error: 'must be a whole number' })
    .default(String(fallback))
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `must be at least ${min}` })
        .max(max, { error: `must be at most ${max}` }),
    );

const databaseUrl = z
  .string()
  .optional()
  .refine((url) => !url || /^(postgres|postgresql|memory):\/\//.test(url), {
    error: 'must start with postgres://, postgresql:// or memory:// (or be unset for PGlite)',
  });

const Environment = z.object({
  PORT: integer(3000, 0, 65535),
  HOST: z.string().min(1).default('127.0.0.1'),
  WEBHOOK_SECRET: webhookSecrets,
  DATABASE_URL: databaseUrl,
  MAX_BODY_BYTES: integer(1024 * 1024, 1, 64 * 1024 * 1024),
  WEBHOOK_TOLERANCE_SECONDS: integer(SVIX_TOLERANCE_SECONDS, 1, SVIX_TOLERANCE_SECONDS),
});

/** Reads the configuration from `env`, or throws a `ConfigError` listing every bad value. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = Environment.safeParse(present);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    );
  }

  const parsed = result.data;
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    webhookSecrets: parsed.WEBHOOK_SECRET,
    databaseUrl: parsed.DATABASE_URL,
    maxBodyBytes: parsed.MAX_BODY_BYTES,
    toleranceSeconds: parsed.WEBHOOK_TOLERANCE_SECONDS,
  };
}
