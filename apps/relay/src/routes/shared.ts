// What every router shares: its constructor, the error and list schemas, pagination parameters.
import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../context.ts';
import { validationHook } from '../errors.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type PageRequest } from '../pagination.ts';

/** A router whose validation failures answer in the shared error shape. */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'validation_failed' }),
      message: z.string(),
      fields: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
      request_id: z.string(),
    }),
  })
  .openapi('Error');

export const ListMetadataSchema = z
  .object({
    before: z.string().nullable().openapi({ description: 'Cursor for the previous (newer) page.' }),
    after: z.string().nullable().openapi({ description: 'Cursor for the next (older) page.' }),
  })
  .openapi('ListMetadata');

const pageSizeMessage = `must be a whole number from 1 to ${MAX_PAGE_SIZE}`;
const pageSize = z.coerce
  .number({ message: pageSizeMessage })
  .int({ message: pageSizeMessage })
  .min(1, { message: pageSizeMessage })
  .max(MAX_PAGE_SIZE, { message: pageSizeMessage });
const cursor = z
  .string()
  .max(64)
  .regex(/^[a-z]{1,5}_[0-9A-Za-z]+$/, { message: 'must be an id from list_metadata' });

/** `page_size` (or its alias `limit`), `after` and `before`, as query parameters. */
export const PageQueryShape = {
  page_size: pageSize.optional().openapi({
    description: `Items per page, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE}).`,
  }),
  limit: pageSize.optional().openapi({ description: 'Alias of page_size.' }),
  after: cursor.optional().openapi({ description: 'Return items older than this id.' }),
  before: cursor.optional().openapi({ description: 'Return items newer than this id.' }),
};

export function refinePage(
  query: { after?: string | undefined; before?: string | undefined },
  ctx: z.RefinementCtx,
) {
  if (query.after !== undefined && query.before !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['before'],
      message: 'use either after or before, not both',
    });
  }
}

export function pageRequest(query: {
  page_size?: number | undefined;
  limit?: number | undefined;
  after?: string | undefined;
  before?: string | undefined;
}): PageRequest {
  return {
    pageSize: query.page_size ?? query.limit ?? DEFAULT_PAGE_SIZE,
    after: query.after,
    before: query.before,
  };
}

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorSchema } },
});

/** The error responses of an authenticated API route, plus any route-specific ones. */
export function errorResponses(extra: Record<number, string> = {}) {
  const base: Record<number, string> = {
    400: 'Invalid request (validation_failed, with the offending fields).',
    401: 'Missing, invalid or expired bearer token.',
    ...extra,
  };
  return Object.fromEntries(
    Object.entries(base).map(([status, description]) => [status, errorResponse(description)]),
  );
}

export const bearerSecurity = [{ bearerAuth: [] }];

/** A path parameter holding a prefixed id. */
export function idParam(name: string, example: string) {
  return z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name, in: 'path' }, example });
}

/** A JSON response of a route definition. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** A required JSON request body of a route definition. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { 'application/json': { schema } } };
}
