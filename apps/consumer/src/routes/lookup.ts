// What the table is for: Home Realm Discovery and SCIM gating by verified organization domains.
import { domainToASCII } from 'node:url';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { findRoutableDomain, isOrganizationDomain } from '../db/domains.ts';
import type { Db } from '../db/index.ts';
import { HttpError } from '../errors.ts';

// The stored form: lower-case IDNA A-labels of 1 to 63 characters, at least two, 253 in all.
const DOMAIN_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
// domainToASCII reads its input as a URL host and drops whatever follows a / ? # or \.
const DOMAIN_CHARACTERS = /^[\p{L}\p{M}\p{N}.-]+$/u;
const MAX_LOCAL_PART = 64;

/** Whether text holds white space or a control character (NUL above all: text columns refuse it). */
function hasSpaceOrControl(text: string): boolean {
  return /\s/.test(text) || [...text].some((char) => char < ' ' || char === '\x7f');
}

function invalidEmail(): HttpError {
  return new HttpError(400, 'invalid_email', 'Pass an email address, such as alice@acmecorp.com.');
}

/**
 * The domain of an email address in the form domains are stored: lower case, IDNA A-label. The
 * address needs exactly one `@` (quoted local parts are not accepted), a local part of 1 to 64
 * characters and a valid domain name; anything else is a 400 `invalid_email`.
 */
export function emailDomain(email: string | undefined): string {
  const parts = email?.split('@') ?? [];
  if (parts.length !== 2) throw invalidEmail();
  const [local, rawDomain] = parts as [string, string];
  if (local.length === 0 || local.length > MAX_LOCAL_PART) throw invalidEmail();
  if (hasSpaceOrControl(local)) throw invalidEmail();

  if (!DOMAIN_CHARACTERS.test(rawDomain)) throw invalidEmail();
  const domain = domainToASCII(rawDomain.replace(/\.$/, ''));
  if (!DOMAIN_NAME.test(domain)) throw invalidEmail();
  return domain;
}

function required(c: Context, name: string): string {
  const value = c.req.query(name);
  if (!value)
    throw new HttpError(400, 'missing_parameter', `The ${name} query parameter is required.`);
  return value;
}

export function lookupRoutes(deps: { db: Db }) {
  return new Hono()
    .get('/hrd', async (c) => {
      const found = await findRoutableDomain(deps.db, emailDomain(required(c, 'email')));
      if (!found) throw new HttpError(404, 'no_route', 'No verified organization domain matches.');
      return c.json({ organization_id: found.organizationId, domain: found.domain });
    })
    .get('/scim/allowed', async (c) => {
      const organizationId = required(c, 'organization_id');
      const domain = emailDomain(required(c, 'email'));
      return c.json({ allowed: await isOrganizationDomain(deps.db, organizationId, domain) });
    });
}
