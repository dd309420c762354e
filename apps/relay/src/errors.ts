// One error type for the HTTP API and the handler that turns every failure into one JSON shape.
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ZodError } from 'zod';
import type { AppEnv } from './context.ts';
import { unstorableText } from './db/errors.ts';

export interface FieldError {
  path: string;
  message: string;
}

export interface ApiErrorOptions {
  fields?: FieldError[];
  headers?: Record<string, string>;
  cause?: unknown;
}

/** A failure the API reports as it is: an HTTP status, a stable `code` and a readable message. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly fields: FieldError[] | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    status: ContentfulStatusCode,
    code: string,
    message: string,
    options: ApiErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.status = status;
    this.code = code;
    this.fields = options.fields;
    this.headers = options.headers;
  }
}

/** 404 `not_found`: the thing does not exist or is outside the caller's reach. */
export function notFound(what: string): ApiError {
  return new ApiError(404, 'not_found', `${what} not found`);
}

/** The offending fields of a zod error, as `{ path: 'features.0.name', message }`. */
export function fieldErrors(error: ZodError): FieldError[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: path ? `${path}.${key}` : key,
        message: 'is not a known field',
      }));
    }
    return [{ path: path || '(body)', message: issue.message }];
  });
}

/** 400 `validation_failed` naming each offending field. */
export function validationFailed(error: ZodError, cause?: unknown): ApiError {
  const fields = fieldErrors(error);
  const summary = fields.map((field) => `${field.path}: ${field.message}`).join('; ');
  return new ApiError(400, 'validation_failed', `Invalid request: ${summary}`, {
    fields,
    cause: cause ?? error,
  });
}

/** The `defaultHook` for every OpenAPIHono router: a failed validation becomes a thrown 400. */
export function validationHook(result: { success: boolean; error?: unknown }): void {
  if (!result.success && result.error instanceof ZodError) throw validationFailed(result.error);
  if (!result.success) throw new ApiError(400, 'validation_failed', 'Invalid request');
}

export interface ErrorBody {
  error: { code: string; message: string; fields?: FieldError[]; request_id: string };
}

/** Answers with the shared error shape. */
export function errorResponse(c: Context<AppEnv>, error: ApiError): Response {
  const body: ErrorBody = {
    error: {
      code: error.code,
      message: error.message,
      ...(error.fields ? { fields: error.fields } : {}),
      request_id: c.get('requestId') ?? 'unknown',
    },
  };
  for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value);
  return c.json(body, error.status);
}

const HTTP_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

function fromHttpException(error: HTTPException): ApiError {
  if (error.status === 400 && /malformed json/i.test(error.message)) {
    return new ApiError(400, 'invalid_json', 'The request body is not valid JSON', {
      cause: error,
    });
  }
  if (error.status === 415) {
    return new ApiError(
      415,
      'unsupported_media_type',
      'Send the request body as application/json',
      {
        cause: error,
      },
    );
  }
  const status = error.status as ContentfulStatusCode;
  const code = HTTP_CODES[status] ?? (status >= 500 ? 'internal_error' : 'bad_request');
  return new ApiError(status, code, error.message || code.replaceAll('_', ' '), { cause: error });
}

/** The API error a thrown value stands for, or undefined when it is unexpected (a 500). */
export function knownError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof ZodError) return validationFailed(error);
  if (error instanceof HTTPException && error.status < 500) return fromHttpException(error);
  if (unstorableText(error)) {
    return new ApiError(400, 'invalid_character', 'Text must not contain NUL (U+0000) characters', {
      cause: error,
    });
  }
  return undefined;
}

/** `app.onError`: known errors keep their status; anything else is logged and answered as a 500. */
export const onError: ErrorHandler<AppEnv> = (error, c) => {
  const known = knownError(error);
  if (known) return errorResponse(c, known);

  c.get('logger')?.error({ err: error, request_id: c.get('requestId') }, 'request failed');
  const requestId = c.get('requestId') ?? 'unknown';
  return errorResponse(
    c,
    new ApiError(500, 'internal_error', `Something went wrong; quote request id ${requestId}`),
  );
};

/** `app.notFound`: the same shape for a path no route serves. */
export const onNotFound: NotFoundHandler<AppEnv> = (c) =>
  errorResponse(c, new ApiError(404, 'not_found', `No route for ${c.req.method} ${c.req.path}`));
