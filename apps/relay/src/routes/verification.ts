// POST /api/v1/organizations/{organization_id}/domains/{id}/verify: "verify now".
import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../context.ts';
import { verifyDomainNow } from '../verification/verify-now.ts';
import { CheckResultSchema, DomainSchema } from './domains.ts';
import { bearerSecurity, createRouter, errorResponses, idParam, jsonResponse } from './shared.ts';

const VerifyResponse = z
  .object({
    verified: z.boolean(),
    check: CheckResultSchema.nullable().openapi({
      description: 'The check run now; null for a domain already verified.',
    }),
    domain: DomainSchema,
  })
  .openapi('VerifyDomainResult');

const verify = createRoute({
  method: 'post',
  path: '/organizations/{organization_id}/domains/{id}/verify',
  tags: ['Domains'],
  summary: 'Check a domain’s DNS record now',
  description:
    'Runs one DNS TXT check of a PENDING domain and records it as a scheduled check would: ' +
    'VERIFIED when the record is found, FAILED when the verification window is over, else the ' +
    'next check. A VERIFIED or AUTO_VERIFIED domain answers at once; a FAILED one is a 409.',
  security: bearerSecurity,
  request: {
    params: z.object({
      organization_id: idParam('organization_id', 'org_01JH6Z8K9WQ3V4T5R6S7A8B9CD'),
      id: idParam('id', 'dom_01JH6Z8K9WQ3V4T5R6S7A8B9CD'),
    }),
  },
  responses: {
    200: jsonResponse(VerifyResponse, 'The check and the domain after it.'),
    ...errorResponses({
      404: 'not_found: no such domain in this organization.',
      409: 'domain_verification_failed: the domain failed and stays failed; add it again.',
    }),
  },
});

export function verificationRoutes(deps: AppDeps) {
  return createRouter().openapi(verify, async (c) => {
    const { organization_id, id } = c.req.valid('param');
    return c.json(await verifyDomainNow(deps, organization_id, id), 200);
  });
}
