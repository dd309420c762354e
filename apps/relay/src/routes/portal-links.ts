// /api/v1/organizations/{id}/portal_links and …/portal_sessions: issue and revoke portal access.
import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../context.ts';
import type { PortalLinkRow } from '../db/schema/index.ts';
import { createPortalLink, revokePortalLink, revokePortalSessions } from '../portal/sessions.ts';
import { bearerSecurity, createRouter, errorResponses, idParam, jsonResponse } from './shared.ts';

export const PortalLinkSchema = z
  .object({
    id: z.string().openapi({ example: 'plink_01JH6Z8K9WQ3V4T5R6S7A8B9CD' }),
    object: z.literal('portal_link'),
    organization_id: z.string(),
    location: z.string().openapi({
      description: 'Send the admin here. It works once, until expire_time.',
      example: 'https://relay.example.com/portal/open?token=vh_pl_…',
    }),
    expire_time: z.string().openapi({ example: '2026-01-15T10:01:00.000Z' }),
  })
  .openapi('PortalLink');

const CreatePortalLinkSchema = z
  .strictObject({
    embed: z.boolean().optional().openapi({
      description: 'Open the page for an iframe (/portal/embed, framed per configuration).',
    }),
  })
  .openapi('CreatePortalLink');

const params = z.object({ id: idParam('id', 'org_01JH6Z8K9WQ3V4T5R6S7A8B9CD') });
const linkParams = params.extend({
  link_id: idParam('link_id', 'plink_01JH6Z8K9WQ3V4T5R6S7A8B9CD'),
});

const create = createRoute({
  method: 'post',
  path: '/organizations/{id}/portal_links',
  tags: ['Portal'],
  summary: "Create a single-use link into the organization's Admin Portal",
  description:
    'The link opens a browser session for this organization only. It works once and expires ' +
    'after VERIHOOK_PORTAL_LINK_TTL (default 1 minute); the session lasts ' +
    'VERIHOOK_PORTAL_SESSION_TTL (default 6 hours).',
  security: bearerSecurity,
  request: {
    params,
    body: {
      required: false,
      content: { 'application/json': { schema: CreatePortalLinkSchema } },
    },
  },
  responses: {
    201: jsonResponse(z.object({ link: PortalLinkSchema }), 'The new link.'),
    ...errorResponses({ 404: 'not_found: no such organization.' }),
  },
});

const revokeLink = createRoute({
  method: 'delete',
  path: '/organizations/{id}/portal_links/{link_id}',
  tags: ['Portal'],
  summary: 'Revoke a portal link and the session it opened',
  security: bearerSecurity,
  request: { params: linkParams },
  responses: { 204: { description: 'Revoked.' }, ...errorResponses({ 404: 'not_found' }) },
});

const revokeSessions = createRoute({
  method: 'delete',
  path: '/organizations/{id}/portal_sessions',
  tags: ['Portal'],
  summary: 'Revoke every portal session and unused link of the organization',
  security: bearerSecurity,
  request: { params },
  responses: { 204: { description: 'Revoked.' }, ...errorResponses({ 404: 'not_found' }) },
});

function toPortalLinkObject(link: PortalLinkRow, location: string) {
  return {
    id: link.id,
    object: 'portal_link' as const,
    organization_id: link.organizationId,
    location,
    expire_time: link.expiresAt.toISOString(),
  };
}

export function portalLinkRoutes({ database, config }: AppDeps) {
  const { db } = database;
  return createRouter()
    .openapi(create, async (c) => {
      const body = (c.req.valid('json') ?? {}) as { embed?: boolean };
      const { link, token } = await createPortalLink(db, c.req.valid('param').id, {
        ttlMs: config.portalLinkTtlMs,
        mode: body.embed ? 'embed' : 'page',
        clientId: c.get('clientId'),
      });
      const base = config.publicUrl ?? new URL(c.req.url).origin;
      const location = `${base}/portal/open?token=${encodeURIComponent(token)}`;
      return c.json({ link: toPortalLinkObject(link, location) }, 201);
    })
    .openapi(revokeLink, async (c) => {
      const { id, link_id } = c.req.valid('param');
      await revokePortalLink(db, id, link_id);
      return c.body(null, 204);
    })
    .openapi(revokeSessions, async (c) => {
      await revokePortalSessions(db, c.req.valid('param').id);
      return c.body(null, 204);
    });
}
