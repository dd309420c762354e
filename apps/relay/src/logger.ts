// Structured JSON logs with pino; secrets are redacted and driver errors lose their parameters.
import { pino } from 'pino';

export type Logger = pino.Logger;

const SECRET_KEYS = [
  'authorization',
  'client_secret',
  'clientSecret',
  'access_token',
  'accessToken',
  'token',
  'secret',
  'txt_record_secret',
  'txtRecordSecret',
  'password',
  'cookie',
];

/** Paths pino replaces with `[redacted]`, at the top level and one or two levels down. */
export const REDACT_PATHS = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

interface SerializedError {
  type: string;
  message: string;
  code?: unknown;
  constraint?: unknown;
  stack?: string;
  cause?: SerializedError;
}

// drizzle's DrizzleQueryError message and stack end with "params: …", which may hold secrets.
function withoutParams(text: string): string {
  return text.replace(/\nparams: [\s\S]*?(?=\n\s+at |$)/, '');
}

/** An error as a log field: type, message, code, stack and cause, never query parameters. */
export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) return { type: typeof error, message: String(error) };
  const fields = error as Error & {
    code?: unknown;
    constraint_name?: unknown;
    constraint?: unknown;
  };
  const serialized: SerializedError = {
    type: error.name,
    message: withoutParams(error.message),
    stack: error.stack === undefined ? undefined : withoutParams(error.stack),
  };
  if (fields.code !== undefined) serialized.code = fields.code;
  const constraint = fields.constraint_name ?? fields.constraint;
  if (constraint !== undefined) serialized.constraint = constraint;
  if (error.cause !== undefined && depth < 3)
    serialized.cause = serializeError(error.cause, depth + 1);
  return serialized;
}

/** The relay's logger: JSON lines on stdout (or `destination`) at `level`. */
export function createLogger(
  options: { level: string; name?: string },
  destination?: pino.DestinationStream,
): Logger {
  const settings: pino.LoggerOptions = {
    name: options.name ?? 'verihook-relay',
    level: options.level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: serializeError, error: serializeError },
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(settings, destination) : pino(settings);
}
