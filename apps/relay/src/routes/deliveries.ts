// Deliveries: an event's messages with their attempts, an endpoint's attempts, retry, recover.
import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../context.ts';
import { MESSAGE_STATUSES } from '../db/schema/index.ts';
import {
  getMessage,
  listEndpointAttempts,
  listEventMessages,
  recoverMessages,
  retryMessage,
} from '../delivery/messages.ts';
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

const timestamp = z.string().openapi({ example: '2026-01-15T10:00:00.000Z' });

export const AttemptSchema = z
  .object({
    id: z.string().openapi({ example: 'atmpt_01JH6Z8K9WQ3V4T5R6S7A8B9CD' }),
    object: z.literal('webhook_attempt'),
    message_id: z.string(),
    endpoint_id: z.string(),
    attempt_number: z.number().int().openapi({ description: 'Counted from 1.' }),
    response_status_code: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'Null when no response arrived (see error).' }),
    response_body: z.string().openapi({ description: 'The first KiB of the response body.' }),
    response_duration_ms: z.number().int(),
    error: z
      .object({
        code: z.string().openapi({
          description: 'timeout, connection_refused, dns, ssrf_blocked, tls or other.',
        }),
        message: z.string(),
      })
      .nullable(),
    created_at: timestamp.openapi({ description: 'When the attempt started.' }),
  })
  .openapi('WebhookAttempt');

export const MessageSchema = z
  .object({
    id: z.string().openapi({
      description: 'The webhook-id header: the same on every attempt.',
      example: 'msg_e9f35108cd499d2ac0c2734f3612',
    }),
    object: z.literal('webhook_message'),
    event_id: z.string(),
    endpoint_id: z.string(),
    status: z.enum(MESSAGE_STATUSES),
    attempt_count: z.number().int(),
    next_attempt_at: timestamp.nullable(),
    last_attempt_at: timestamp.nullable(),
    last_response_status_code: z.number().int().nullable(),
    created_at: timestamp,
    updated_at: timestamp,
    attempts: z.array(AttemptSchema).openapi({ description: 'Oldest first.' }),
  })
  .openapi('WebhookMessage');

const MessageResponse = z.object({ message: MessageSchema });
const pageQuery = z.object(PageQueryShape).superRefine(refinePage);

const eventMessages = createRoute({
  method: 'get',
  path: '/events/{id}/messages',
  tags: ['Deliveries'],
  summary: "List an event's messages, one per endpoint, each with its attempts",
  security: bearerSecurity,
  request: {
    params: z.object({ id: idParam('id', 'evt_01JH6Z8K9WQ3V4T5R6S7A8B9CD') }),
    query: pageQuery,
  },
  responses: {
    200: jsonResponse(
      z.object({ messages: z.array(MessageSchema), list_metadata: ListMetadataSchema }),
      'One page of messages.',
    ),
    ...errorResponses({ 404: 'not_found: no such event.' }),
  },
});

const messageParams = z.object({ id: idParam('id', 'msg_e9f35108cd499d2ac0c2734f3612') });

const message = createRoute({
  method: 'get',
  path: '/webhooks/messages/{id}',
  tags: ['Deliveries'],
  summary: 'Get a message with its attempts',
  security: bearerSecurity,
  request: { params: messageParams },
  responses: {
    200: jsonResponse(MessageResponse, 'The message.'),
    ...errorResponses({ 404: 'not_found' }),
  },
});

const retry = createRoute({
  method: 'post',
  path: '/webhooks/messages/{id}/retry',
  tags: ['Deliveries'],
  summary: 'Attempt a message again now',
  description:
    'Any message not in flight becomes due at once. Within the retry schedule it goes on ' +
    'retrying; a message past the end of its schedule gets this one attempt.',
  security: bearerSecurity,
  request: { params: messageParams },
  responses: {
    202: jsonResponse(MessageResponse, 'The message, now pending.'),
    ...errorResponses({
      404: 'not_found',
      409: 'message_in_flight, or endpoint_disabled (enable the endpoint first).',
    }),
  },
});

const endpointParams = z.object({ id: idParam('id', 'ep_01JH6Z8K9WQ3V4T5R6S7A8B9CD') });

const endpointAttempts = createRoute({
  method: 'get',
  path: '/webhooks/endpoints/{id}/attempts',
  tags: ['Deliveries'],
  summary: "List an endpoint's attempts, newest first",
  security: bearerSecurity,
  request: { params: endpointParams, query: pageQuery },
  responses: {
    200: jsonResponse(
      z.object({ attempts: z.array(AttemptSchema), list_metadata: ListMetadataSchema }),
      'One page of attempts.',
    ),
    ...errorResponses({ 404: 'not_found' }),
  },
});

const recover = createRoute({
  method: 'post',
  path: '/webhooks/endpoints/{id}/recover',
  tags: ['Deliveries'],
  summary: "Resend an endpoint's failed messages since a time",
  description:
    'Every failed or cancelled message of the endpoint created at or after `since` becomes due now.',
  security: bearerSecurity,
  request: {
    params: endpointParams,
    body: jsonBody(
      z
        .strictObject({
          since: z.iso
            .datetime({ offset: true, message: 'must be an RFC 3339 date-time' })
            .openapi({ example: '2026-01-15T00:00:00Z' }),
        })
        .openapi('RecoverMessages'),
    ),
  },
  responses: {
    202: jsonResponse(
      z.object({ recovered: z.number().int().openapi({ description: 'Messages now pending.' }) }),
      'How many messages are due again.',
    ),
    ...errorResponses({ 404: 'not_found', 409: 'endpoint_disabled (enable it first).' }),
  },
});

export function deliveryRoutes({ database }: AppDeps) {
  const { db } = database;
  return createRouter()
    .openapi(eventMessages, async (c) => {
      const query = c.req.valid('query');
      const page = await listEventMessages(db, c.req.valid('param').id, pageRequest(query));
      return c.json({ messages: page.items, list_metadata: page.list_metadata }, 200);
    })
    .openapi(message, async (c) => {
      return c.json({ message: await getMessage(db, c.req.valid('param').id) }, 200);
    })
    .openapi(retry, async (c) => {
      return c.json({ message: await retryMessage(db, c.req.valid('param').id) }, 202);
    })
    .openapi(endpointAttempts, async (c) => {
      const query = c.req.valid('query');
      const page = await listEndpointAttempts(db, c.req.valid('param').id, pageRequest(query));
      return c.json({ attempts: page.items, list_metadata: page.list_metadata }, 200);
    })
    .openapi(recover, async (c) => {
      const since = new Date(c.req.valid('json').since);
      return c.json({ recovered: await recoverMessages(db, c.req.valid('param').id, since) }, 202);
    });
}
