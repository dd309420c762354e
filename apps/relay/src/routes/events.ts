// /api/v1/events: the recorded events, newest first.
import { createRoute, z } from '@hono/zod-openapi';
import { EVENT_TYPES, VerihookEvent } from '@verihook/events';
import type { AppDeps } from '../context.ts';
import { listEvents } from '../events/queries.ts';
import {
  bearerSecurity,
  createRouter,
  errorResponses,
  jsonResponse,
  ListMetadataSchema,
  PageQueryShape,
  pageRequest,
  refinePage,
} from './shared.ts';

const list = createRoute({
  method: 'get',
  path: '/events',
  tags: ['Events'],
  summary: 'List events, newest first',
  description: 'Every event exactly as it is delivered to webhook endpoints.',
  security: bearerSecurity,
  request: {
    query: z
      .object({
        type: z.enum(EVENT_TYPES).optional(),
        organization_id: z.string().min(1).max(64).optional(),
        ...PageQueryShape,
      })
      .superRefine(refinePage),
  },
  responses: {
    200: jsonResponse(
      z.object({ events: z.array(VerihookEvent), list_metadata: ListMetadataSchema }),
      'One page of events.',
    ),
    ...errorResponses(),
  },
});

export function eventRoutes({ database }: AppDeps) {
  return createRouter().openapi(list, async (c) => {
    const query = c.req.valid('query');
    const filter = { type: query.type, organizationId: query.organization_id };
    const page = await listEvents(database.db, filter, pageRequest(query));
    return c.json({ events: page.items, list_metadata: page.list_metadata }, 200);
  });
}
