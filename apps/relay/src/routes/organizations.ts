// /api/v1/organizations: create, list, get, update, settings, delete.
import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../context.ts';
import {
  createOrganization,
  deleteOrganization,
  FEATURES,
  getOrganization,
  listOrganizations,
  toOrganizationObject,
  updateOrganization,
  updateOrganizationSettings,
} from '../organizations/service.ts';
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

const displayName = z.string().trim().min(1).max(255).openapi({ example: 'Acme Corp' });
const externalId = z
  .string()
  .min(1)
  .max(255)
  .nullable()
  .openapi({ description: 'Your own id for the organization; unique.', example: 'acme-42' });

export const OrganizationSchema = z
  .object({
    id: z.string().openapi({ example: 'org_01JH6Z8K9WQ3V4T5R6S7A8B9CD' }),
    object: z.literal('organization'),
    display_name: z.string(),
    external_id: z.string().nullable(),
    features: z.array(z.object({ name: z.enum(FEATURES), enabled: z.boolean() })),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Organization');

const OrganizationResponse = z.object({ organization: OrganizationSchema });
const params = z.object({ id: idParam('id', 'org_01JH6Z8K9WQ3V4T5R6S7A8B9CD') });

const create = createRoute({
  method: 'post',
  path: '/organizations',
  tags: ['Organizations'],
  summary: 'Create an organization',
  security: bearerSecurity,
  request: {
    body: jsonBody(
      z
        .strictObject({ display_name: displayName, external_id: externalId.optional() })
        .openapi('CreateOrganization'),
    ),
  },
  responses: {
    201: jsonResponse(OrganizationResponse, 'The new organization.'),
    ...errorResponses({ 409: 'external_id_already_exists' }),
  },
});

const list = createRoute({
  method: 'get',
  path: '/organizations',
  tags: ['Organizations'],
  summary: 'List organizations, newest first',
  security: bearerSecurity,
  request: { query: z.object(PageQueryShape).superRefine(refinePage) },
  responses: {
    200: jsonResponse(
      z.object({ organizations: z.array(OrganizationSchema), list_metadata: ListMetadataSchema }),
      'One page of organizations.',
    ),
    ...errorResponses(),
  },
});

const get = createRoute({
  method: 'get',
  path: '/organizations/{id}',
  tags: ['Organizations'],
  summary: 'Get an organization',
  security: bearerSecurity,
  request: { params },
  responses: {
    200: jsonResponse(OrganizationResponse, 'The organization.'),
    ...errorResponses({ 404: 'not_found' }),
  },
});

const update = createRoute({
  method: 'patch',
  path: '/organizations/{id}',
  tags: ['Organizations'],
  summary: 'Update an organization',
  security: bearerSecurity,
  request: {
    params,
    body: jsonBody(
      z
        .strictObject({ display_name: displayName.optional(), external_id: externalId.optional() })
        .openapi('UpdateOrganization'),
    ),
  },
  responses: {
    200: jsonResponse(OrganizationResponse, 'The updated organization.'),
    ...errorResponses({ 404: 'not_found', 409: 'external_id_already_exists' }),
  },
});

const settings = createRoute({
  method: 'patch',
  path: '/organizations/{id}/settings',
  tags: ['Organizations'],
  summary: "Turn an organization's features on or off",
  security: bearerSecurity,
  request: {
    params,
    body: jsonBody(
      z
        .strictObject({
          features: z
            .array(
              z.strictObject({
                name: z.enum(FEATURES, {
                  message: `unknown feature; known: ${FEATURES.join(', ')}`,
                }),
                enabled: z.boolean(),
              }),
            )
            .refine((list) => new Set(list.map((f) => f.name)).size === list.length, {
              message: 'names a feature more than once',
            }),
        })
        .openapi('OrganizationSettings', {
          example: { features: [{ name: 'domain_verification', enabled: true }] },
        }),
    ),
  },
  responses: {
    200: jsonResponse(OrganizationResponse, 'The organization with its features.'),
    ...errorResponses({ 404: 'not_found' }),
  },
});

const remove = createRoute({
  method: 'delete',
  path: '/organizations/{id}',
  tags: ['Organizations'],
  summary: 'Delete an organization and its domains',
  description: "Each domain's organization.domain_deleted event is recorded with the deletion.",
  security: bearerSecurity,
  request: { params },
  responses: { 204: { description: 'Deleted.' }, ...errorResponses({ 404: 'not_found' }) },
});

export function organizationRoutes({ database }: AppDeps) {
  const { db } = database;
  return createRouter()
    .openapi(create, async (c) => {
      const row = await createOrganization(db, c.req.valid('json'));
      return c.json({ organization: toOrganizationObject(row) }, 201);
    })
    .openapi(list, async (c) => {
      const page = await listOrganizations(db, pageRequest(c.req.valid('query')));
      return c.json(
        { organizations: page.items.map(toOrganizationObject), list_metadata: page.list_metadata },
        200,
      );
    })
    .openapi(get, async (c) => {
      const row = await getOrganization(db, c.req.valid('param').id);
      return c.json({ organization: toOrganizationObject(row) }, 200);
    })
    .openapi(update, async (c) => {
      const row = await updateOrganization(db, c.req.valid('param').id, c.req.valid('json'));
      return c.json({ organization: toOrganizationObject(row) }, 200);
    })
    .openapi(settings, async (c) => {
      const { features } = c.req.valid('json');
      const row = await updateOrganizationSettings(db, c.req.valid('param').id, features);
      return c.json({ organization: toOrganizationObject(row) }, 200);
    })
    .openapi(remove, async (c) => {
      await deleteOrganization(db, c.req.valid('param').id);
      return c.body(null, 204);
    });
}
