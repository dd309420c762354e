// The one error type that becomes an HTTP answer: a status, a stable code and a message.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** An error the client should see, answered as `{ error: { code, message, issues? } }`. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly issues: unknown[] | undefined;

  constructor(
    status: ContentfulStatusCode,
    code: string,
    message: string,
    options: ErrorOptions & { issues?: unknown[] } = {},
  ) {
    super(message, options);
    this.status = status;
    this.code = code;
    this.issues = options.issues;
  }
}

/** The JSON answer for an `HttpError`. */
export function errorResponse(c: Context, error: HttpError) {
  const body = { code: error.code, message: error.message, issues: error.issues };
  return c.json({ error: body }, error.status);
}
