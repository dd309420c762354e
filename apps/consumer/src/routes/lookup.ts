// What the table is for: Home Realm Discovery and SCIM gating by verified organization domains.
import { domainToASCII } from 'node:url';
import { Hono } from 'hono';
import { findRoutableDomain, isOrganizationDomain } from '../db/domains.ts';
import type { Db } from '../db/index.ts';
import { HttpError } from '../errors.ts';

/** The domain of an email address in the form domains are stored: lower case, IDNA A-label. */
export function emailDomain(email: string | undefined): string {
  const at = email?.lastIndexOf('@') ?? -1;
  const domain = at > 0 && email ? domainToASCII(email.slice(at + 1).replace(/\.$/, '')) : '';
  if (!domain.includes('.')) {
    throw new HttpError(400, 'invalid_email', 'Pass an email address, such as alice@acmecorp.com.');
  }
  return domain;
}

function required(value: string | undefined, name: string): string {
  if (!value)
    throw new HttpError(400, 'missing_parameter', `The ${name} query parameter is required.`);
  return value;
}

export function lookupRoutes(deps: { db: Db }) {
  return new Hono()
    .get('/hrd', async (c) => {
      const found = await findRoutableDomain(
        deps.db,
        emailDomain(required(c.req.query('email'), 'email')),
      );
      if (!found) throw new HttpError(404, 'no_route', 'No verified organization domain matches.');
      return c.json({ organization_id: found.organizationId, domain: found.domain });
    })
    .get('/scim/allowed', async (c) => {
      const organizationId = required(c.req.query('organization_id'), 'organization_id');
      const domain = emailDomain(required(c.req.query('email'), 'email'));
      return c.json({ allowed: await isOrganizationDomain(deps.db, organizationId, domain) });
    });
}
