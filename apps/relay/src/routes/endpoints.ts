// /api/v1/webhooks/endpoints: create, list, get, update, delete, enable, disable, secret, rotate.
import { createRoute, z } from '@hono/zod-openapi';
import { EVENT_TYPES } from '@verihook/events';
import type { AppDeps } from '../context.ts';
import { DISABLED_REASONS, ENDPOINT_STATUSES } from '../db/schema/index.ts';
import {
  createEndpoint,
  deleteEndpoint,
  disableEndpoint,
  enableEndpoint,
  getEndpoint,
  getEndpointSecret,
  listEndpoints,
  rotateEndpointSecret,
  toEndpointObject,
  updateEndpoint,
} from '../endpoints/service.ts';
import {
  bearerSecurity,
  createRouter,
  errorResponses,
  idParam,
  jsonBody,
  jsonResponse,
  ListMetadataSchema,
  PageQueryShape,
  pageRequest,
  refinePage,
} from './shared.ts';

const MAX_GRACE_SECONDS = 30 * 86_400;
const timestamp = z.string().openapi({ example: '2026-01-15T10:00:00.000Z' });

export const EndpointSchema = z
  .object({
    id: z.string().openapi({ example: 'ep_01JH6Z8K9WQ3V4T5R6S7A8B9CD' }),
    object: z.literal('webhook_endpoint'),
    url: z.string().openapi({ example: 'https://hooks.example.com/verihook' }),
    description: z.string(),
    event_types: z
      .array(z.enum(EVENT_TYPES))
      .openapi({ description: 'The event types delivered here; empty for every type.' }),
    status: z.enum(ENDPOINT_STATUSES),
    disabled_reason: z.enum(DISABLED_REASONS).nullable().openapi({
      description: 'manual (disabled through the API), gone (it answered 410), or failing.',
    }),
    failing_since: timestamp.nullable().openapi({
      description: 'Start of the current run of failed attempts; null after any success.',
    }),
    previous_secret_expires_at: timestamp.nullable().openapi({
      description: 'While the secret rotated out still signs beside the new one: until when.',
    }),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi('WebhookEndpoint');

const EndpointResponse = z.object({ endpoint: EndpointSchema });
const SecretResponse = z
  .object({ secret: z.string().openapi({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }) })
  .openapi('EndpointSecret');
const params = z.object({ id: idParam('id', 'ep_01JH6Z8K9WQ3V4T5R6S7A8B9CD') });

const url = z
  .string()
  .min(1)
  .max(2048)
  .openapi({
    description:
      'https (http only with VERIHOOK_ALLOW_PRIVATE_ENDPOINTS); loopback, private, link-local ' +
      'and metadata addresses are refused.',
    example: 'https://hooks.example.com/verihook',
  });
const description = z.string().max(1024);
const eventTypes = z.array(z.enum(EVENT_TYPES)).max(EVENT_TYPES.length * 2);

const urlErrors = {
  400: 'validation_failed, invalid_endpoint_url, or endpoint_url_blocked (SSRF protection).',
};

const create = createRoute({
  method: 'post',
  path: '/webhooks/endpoints',
  tags: ['Webhook endpoints'],
  summary: 'Create a webhook endpoint',
  description: 'A new signing secret is generated; read it from GET …/{id}/secret.',
  security: bearerSecurity,
  request: {
    body: jsonBody(
      z
        .strictObject({
          url,
          description: description.optional(),
          event_types: eventTypes.optional().openapi({ description: 'Empty or absent: all.' }),
        })
        .openapi('CreateWebhookEndpoint'),
    ),
  },
  responses: {
    201: jsonResponse(EndpointResponse, 'The new endpoint.'),
    ...errorResponses(urlErrors),
  },
});

const list = createRoute({
  method: 'get',
  path: '/webhooks/endpoints',
  tags: ['Webhook endpoints'],
  summary: 'List webhook endpoints, newest first',
  security: bearerSecurity,
  request: { query: z.object(PageQueryShape).superRefine(refinePage) },
  responses: {
    200: jsonResponse(
      z.object({ endpoints: z.array(EndpointSchema), list_metadata: ListMetadataSchema }),
      'One page of endpoints.',
    ),
    ...errorResponses(),
  },
});

const get = createRoute({
  method: 'get',
  path: '/webhooks/endpoints/{id}',
  tags: ['Webhook endpoints'],
  summary: 'Get a webhook endpoint',
  security: bearerSecurity,
  request: { params },
  responses: {
    200: jsonResponse(EndpointResponse, 'The endpoint.'),
    ...errorResponses({ 404: 'not_found' }),
  },
});

const update = createRoute({
  method: 'patch',
  path: '/webhooks/endpoints/{id}',
  tags: ['Webhook endpoints'],
  summary: 'Update a webhook endpoint',
  description: 'Changes apply to messages created afterwards; a new url is checked again.',
  security: bearerSecurity,
  request: {
    params,
    body: jsonBody(
      z
        .strictObject({
          url: url.optional(),
          description: description.optional(),
          event_types: eventTypes.optional(),
        })
        .openapi('UpdateWebhookEndpoint'),
    ),
  },
  responses: {
    200: jsonResponse(EndpointResponse, 'The updated endpoint.'),
    ...errorResponses({ ...urlErrors, 404: 'not_found' }),
  },
});

const remove = createRoute({
  method: 'delete',
  path: '/webhooks/endpoints/{id}',
  tags: ['Webhook endpoints'],
  summary: 'Delete a webhook endpoint with its messages and attempts',
  security: bearerSecurity,
  request: { params },
  responses: { 204: { description: 'Deleted.' }, ...errorResponses({ 404: 'not_found' }) },
});

const disable = createRoute({
  method: 'post',
  path: '/webhooks/endpoints/{id}/disable',
  tags: ['Webhook endpoints'],
  summary: 'Disable a webhook endpoint',
  description: 'It gets no new messages and its pending messages are cancelled (recoverable).',
  security: bearerSecurity,
  request: { params },
  responses: {
    200: jsonResponse(EndpointResponse, 'The disabled endpoint.'),
    ...errorResponses({ 404: 'not_found' }),
  },
});

const enable = createRoute({
  method: 'post',
  path: '/webhooks/endpoints/{id}/enable',
  tags: ['Webhook endpoints'],
  summary: 'Enable a webhook endpoint',
  description: 'New events reach it again; recover cancelled or failed messages to resend them.',
  security: bearerSecurity,
  request: { params },
  responses: {
    200: jsonResponse(EndpointResponse, 'The enabled endpoint.'),
    ...errorResponses({ 404: 'not_found' }),
  },
});

const secret = createRoute({
  method: 'get',
  path: '/webhooks/endpoints/{id}/secret',
  tags: ['Webhook endpoints'],
  summary: "Read an endpoint's signing secret",
  security: bearerSecurity,
  request: { params },
  responses: {
    200: jsonResponse(SecretResponse, 'The current secret, for svix or standardwebhooks.'),
    ...errorResponses({ 404: 'not_found' }),
  },
});

const rotate = createRoute({
  method: 'post',
  path: '/webhooks/endpoints/{id}/secret/rotate',
  tags: ['Webhook endpoints'],
  summary: "Rotate an endpoint's signing secret",
  description:
    'During the grace period every request carries a signature with the old and with the new ' +
    'secret, so receivers can switch over without rejecting anything.',
  security: bearerSecurity,
  request: {
    params,
    body: {
      required: false,
      content: {
        'application/json': {
          schema: z
            .strictObject({
              grace_period_seconds: z
                .number()
                .int()
                .min(0)
                .max(MAX_GRACE_SECONDS)
                .optional()
                .openapi({ description: 'Default VERIHOOK_ROTATION_GRACE (24 h); 0: none.' }),
            })
            .openapi('RotateEndpointSecret'),
        },
      },
    },
  },
  responses: {
    200: jsonResponse(SecretResponse, 'The new secret.'),
    ...errorResponses({ 404: 'not_found', 409: 'rotation_in_progress' }),
  },
});

export function endpointRoutes({ database, config, lookup }: AppDeps) {
  const { db } = database;
  const policy = { allowPrivateEndpoints: config.allowPrivateEndpoints, lookup };
  return createRouter()
    .openapi(create, async (c) => {
      const row = await createEndpoint(db, c.req.valid('json'), policy);
      return c.json({ endpoint: toEndpointObject(row) }, 201);
    })
    .openapi(list, async (c) => {
      const page = await listEndpoints(db, pageRequest(c.req.valid('query')));
      const items = page.items.map((row) => toEndpointObject(row));
      return c.json({ endpoints: items, list_metadata: page.list_metadata }, 200);
    })
    .openapi(get, async (c) => {
      const row = await getEndpoint(db, c.req.valid('param').id);
      return c.json({ endpoint: toEndpointObject(row) }, 200);
    })
    .openapi(update, async (c) => {
      const row = await updateEndpoint(db, c.req.valid('param').id, c.req.valid('json'), policy);
      return c.json({ endpoint: toEndpointObject(row) }, 200);
    })
    .openapi(remove, async (c) => {
      await deleteEndpoint(db, c.req.valid('param').id);
      return c.body(null, 204);
    })
    .openapi(disable, async (c) => {
      const row = await disableEndpoint(db, c.req.valid('param').id);
      return c.json({ endpoint: toEndpointObject(row) }, 200);
    })
    .openapi(enable, async (c) => {
      const row = await enableEndpoint(db, c.req.valid('param').id);
      return c.json({ endpoint: toEndpointObject(row) }, 200);
    })
    .openapi(secret, async (c) => {
      return c.json({ secret: await getEndpointSecret(db, c.req.valid('param').id) }, 200);
    })
    .openapi(rotate, async (c) => {
      const body = c.req.valid('json') ?? {};
      const graceMs =
        body.grace_period_seconds === undefined
          ? config.rotationGraceMs
          : body.grace_period_seconds * 1000;
      return c.json(
        { secret: await rotateEndpointSecret(db, c.req.valid('param').id, graceMs) },
        200,
      );
    });
}
