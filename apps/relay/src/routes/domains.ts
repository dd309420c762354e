// /api/v1/organizations/{organization_id}/domains: add, list, get, delete.
import { createRoute, z } from '@hono/zod-openapi';
import { DomainType, VerificationMethod, VerificationStatus } from '@verihook/events';
import type { AppDeps } from '../context.ts';
import { toDomainObject } from '../domains/objects.ts';
import { createDomain, deleteDomain, getDomain, listDomains } from '../domains/service.ts';
import { CHECK_OUTCOMES } from '../verification/checker.ts';
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

export const DnsRecordSchema = z
  .object({
    type: z.literal('TXT'),
    name: z.string().openapi({ example: '_verihook-challenge-k3x9q2.acmecorp.com' }),
    value: z
      .string()
      .openapi({ example: 'verihook-verification=3q2-7wAbCdEfGhIjKlMnOpQrStUvWxYz' }),
  })
  .openapi('DnsRecord');

export const CheckResultSchema = z
  .object({
    outcome: z.enum(CHECK_OUTCOMES).openapi({
      description:
        'found: the record holds the value. mismatch: TXT records are there, none holds it. ' +
        'nxdomain: the name does not exist. nodata: the name holds no TXT record. ' +
        'servfail, timeout: DNS could not answer; temporary, they never fail a domain.',
    }),
    record_name: z.string().openapi({ example: '_verihook-challenge-k3x9q2.acmecorp.com' }),
    checked_at: z.string().openapi({ example: '2026-01-15T10:00:00.000Z' }),
    duration_ms: z.number().int(),
    records_seen: z.number().int().openapi({ description: 'TXT records seen at record_name.' }),
    matched_form: z.enum(['challenge', 'apex']).optional(),
    doubled_name: z.boolean().openapi({
      description: 'Whether the record was published at <key>.<domain>.<domain> instead.',
    }),
    hint: z.string().optional().openapi({ description: 'What to do about it, for people.' }),
    error_code: z.string().optional().openapi({ example: 'ENOTFOUND' }),
  })
  .openapi('CheckResult');

export const DomainSchema = z
  .object({
    id: z.string().openapi({ example: 'dom_01JH6Z8K9WQ3V4T5R6S7A8B9CD' }),
    object: z.literal('organization_domain'),
    organization_id: z.string(),
    domain: z.string().openapi({ description: 'IDNA A-label', example: 'xn--bcher-kva.de' }),
    domain_unicode: z.string().openapi({ example: 'bücher.de' }),
    domain_type: DomainType,
    verification_status: VerificationStatus,
    verification_method: VerificationMethod,
    txt_record_key: z.string().optional().openapi({ description: 'DNS domains only.' }),
    txt_record_secret: z.string().optional().openapi({ description: 'DNS domains only.' }),
    dns_record: DnsRecordSchema.optional().openapi({ description: 'The TXT record to publish.' }),
    verification_expires_at: timestamp.nullable(),
    next_check_at: timestamp.nullable(),
    last_checked_at: timestamp.nullable(),
    last_check_result: CheckResultSchema.nullable(),
    failure_reason: z.string().nullable(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi('OrganizationDomain');

const DomainResponse = z.object({ domain: DomainSchema });
const organizationParams = z.object({
  organization_id: idParam('organization_id', 'org_01JH6Z8K9WQ3V4T5R6S7A8B9CD'),
});
const domainParams = organizationParams.extend({
  id: idParam('id', 'dom_01JH6Z8K9WQ3V4T5R6S7A8B9CD'),
});

const CreateDomainSchema = z
  .strictObject({
    domain: z.string().min(1).max(1024).openapi({ example: 'acmecorp.com' }),
    domain_type: DomainType.optional().openapi({ description: 'Default ORGANIZATION_DOMAIN.' }),
    verification_method: VerificationMethod.optional().openapi({
      description:
        'ORGANIZATION_DOMAIN: ADMIN (default, VERIFIED at once) or DNS (PENDING, with a TXT record).',
    }),
  })
  .openapi('CreateDomain');

const create = createRoute({
  method: 'post',
  path: '/organizations/{organization_id}/domains',
  tags: ['Domains'],
  summary: 'Add a domain to an organization',
  security: bearerSecurity,
  request: { params: organizationParams, body: jsonBody(CreateDomainSchema) },
  responses: {
    201: jsonResponse(DomainResponse, 'The new domain.'),
    ...errorResponses({
      404: 'not_found: no such organization.',
      409: 'domain_already_exists (this organization) or domain_already_verified (another one).',
    }),
  },
});

const list = createRoute({
  method: 'get',
  path: '/organizations/{organization_id}/domains',
  tags: ['Domains'],
  summary: "List an organization's domains, newest first",
  security: bearerSecurity,
  request: {
    params: organizationParams,
    query: z
      .object({ domain_type: DomainType.optional(), ...PageQueryShape })
      .superRefine(refinePage),
  },
  responses: {
    200: jsonResponse(
      z.object({ domains: z.array(DomainSchema), list_metadata: ListMetadataSchema }),
      'One page of domains.',
    ),
    ...errorResponses({ 404: 'not_found' }),
  },
});

const get = createRoute({
  method: 'get',
  path: '/organizations/{organization_id}/domains/{id}',
  tags: ['Domains'],
  summary: 'Get a domain',
  security: bearerSecurity,
  request: { params: domainParams },
  responses: {
    200: jsonResponse(DomainResponse, 'The domain.'),
    ...errorResponses({ 404: 'not_found' }),
  },
});

const remove = createRoute({
  method: 'delete',
  path: '/organizations/{organization_id}/domains/{id}',
  tags: ['Domains'],
  summary: 'Delete a domain',
  security: bearerSecurity,
  request: { params: domainParams },
  responses: { 204: { description: 'Deleted.' }, ...errorResponses({ 404: 'not_found' }) },
});

export function domainRoutes({ database, config }: AppDeps) {
  const { db } = database;
  return createRouter()
    .openapi(create, async (c) => {
      const { organization_id } = c.req.valid('param');
      const row = await createDomain(db, organization_id, c.req.valid('json'), config);
      return c.json({ domain: toDomainObject(row) }, 201);
    })
    .openapi(list, async (c) => {
      const query = c.req.valid('query');
      const filter = { domainType: query.domain_type };
      const page = await listDomains(
        db,
        c.req.valid('param').organization_id,
        filter,
        pageRequest(query),
      );
      return c.json(
        { domains: page.items.map(toDomainObject), list_metadata: page.list_metadata },
        200,
      );
    })
    .openapi(get, async (c) => {
      const { organization_id, id } = c.req.valid('param');
      return c.json({ domain: toDomainObject(await getDomain(db, organization_id, id)) }, 200);
    })
    .openapi(remove, async (c) => {
      const { organization_id, id } = c.req.valid('param');
      await deleteDomain(db, organization_id, id);
      return c.body(null, 204);
    });
}
