// Sends one delivery attempt with undici and reports what happened; it never throws.
import { performance } from 'node:perf_hooks';
import { type Dispatcher, request } from 'undici';

export const MAX_RESPONSE_BODY_BYTES = 1024;

export type AttemptErrorCode =
  | 'timeout'
  | 'connection_refused'
  | 'dns'
  | 'ssrf_blocked'
  | 'tls'
  | 'other';

export interface AttemptOutcome {
  /** Absent when no response arrived; then `error` says why. */
  statusCode?: number;
  /** The first KiB of the response body as UTF-8 (NUL replaced, so PostgreSQL text can hold it). */
  responseBody: string;
  durationMs: number;
  retryAfter: string | null;
  error?: { code: AttemptErrorCode; message: string };
}

export interface SendRequest {
  url: string | URL;
  headers: Record<string, string>;
  body: string | Buffer;
}

export interface Sender {
  send(request: SendRequest): Promise<AttemptOutcome>;
}

export interface SenderOptions {
  /** Usually `createGuardedDispatcher(...)`: the sender owns no connections itself. */
  dispatcher: Dispatcher;
  /** Bounds the whole attempt: connecting, waiting for headers and reading the body. */
  timeoutMs: number;
  /** Sent when the request headers carry no user-agent. */
  userAgent: string;
}

const DNS_ERRORS = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'ENODATA',
  'ESERVFAIL',
]);
const TIMEOUT_ERRORS = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
  'ETIMEOUT',
]);
const TLS_ERROR =
  /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;

/** A sender that POSTs with undici, follows no redirect and reads at most 1 KiB of the answer. */
export function createSender(options: SenderOptions): Sender {
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
    throw new RangeError(`timeoutMs must be a positive number, not ${options.timeoutMs}`);
  }
  return { send: (attempt) => sendAttempt(options, attempt) };
}

async function sendAttempt(options: SenderOptions, attempt: SendRequest): Promise<AttemptOutcome> {
  const startedAt = performance.now();
  const elapsedMs = () => Math.round(performance.now() - startedAt);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);

  try {
    const response = await request(attempt.url, {
      method: 'POST',
      dispatcher: options.dispatcher,
      headers: withUserAgent(attempt.headers, options.userAgent),
      body: attempt.body,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      signal: controller.signal,
    });
    const responseBody = await readCapped(response.body, MAX_RESPONSE_BODY_BYTES);
    return {
      statusCode: response.statusCode,
      responseBody: toText(responseBody),
      durationMs: elapsedMs(),
      retryAfter: firstHeader(response.headers['retry-after']),
    };
  } catch (error) {
    const described = controller.signal.aborted
      ? { code: 'timeout' as const, message: `no response within ${options.timeoutMs} ms` }
      : describeError(error);
    return { responseBody: '', durationMs: elapsedMs(), retryAfter: null, error: described };
  } finally {
    clearTimeout(timer);
  }
}

function withUserAgent(headers: Record<string, string>, userAgent: string): Record<string, string> {
  const hasUserAgent = Object.keys(headers).some((name) => name.toLowerCase() === 'user-agent');
  return hasUserAgent ? headers : { ...headers, 'user-agent': userAgent };
}

// Stops reading once the cap is reached, so a huge or endless body costs nothing more; a body
// cut short by a timeout or reset still leaves the status code, which is what decides.
async function readCapped(body: Dispatcher.ResponseData['body'], maxBytes: number) {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= maxBytes) {
        body.destroy();
        break;
      }
    }
  } catch {
    return Buffer.concat(chunks).subarray(0, maxBytes);
  }
  return Buffer.concat(chunks).subarray(0, maxBytes);
}

function toText(bytes: Buffer): string {
  return new TextDecoder('utf-8').decode(bytes).replaceAll('\u0000', '\ufffd');
}

function firstHeader(value: string | string[] | undefined): string | null {
  if (Array.isArray(value)) return value[0] ?? null;
  return value ?? null;
}

function describeError(error: unknown): { code: AttemptErrorCode; message: string } {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message || code || error.name : String(error);
  if (code === 'ERR_SSRF_BLOCKED') return { code: 'ssrf_blocked', message };
  if (code === 'ECONNREFUSED') return { code: 'connection_refused', message };
  if (code && DNS_ERRORS.has(code)) return { code: 'dns', message };
  if (code && TIMEOUT_ERRORS.has(code)) return { code: 'timeout', message };
  if (code && TLS_ERROR.test(code)) return { code: 'tls', message };
  return {
    code: 'other',
    message: code && !message.includes(code) ? `${code}: ${message}` : message,
  };
}

// net reports a failure on every raced address as an AggregateError; undici may wrap a cause.
function errorCode(error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string') return code;
  if (Array.isArray(errors) && errors.length > 0) return errorCode(errors[0]);
  return cause ? errorCode(cause) : undefined;
}
