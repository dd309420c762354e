// Domains of an organization: add, read, list, delete; each change with its event, in one transaction.
import { randomBytes, randomInt } from 'node:crypto';
import type { DomainType, VerificationMethod, VerificationStatus } from '@verihook/events';
import { and, asc, desc, eq, gt, lt, ne, type SQL } from 'drizzle-orm';
import { uniqueViolation } from '../db/errors.ts';
import type { Db } from '../db/index.ts';
import {
  type DomainRow,
  domains,
  type OrganizationRow,
  organizations,
} from '../db/schema/index.ts';
import { ApiError, notFound } from '../errors.ts';
import { recordEvent } from '../events/outbox.ts';
import { newId } from '../ids.ts';
import { type PageRequest, readsBackwards, toPage } from '../pagination.ts';
import { normalizeDomain } from './normalize.ts';

export interface CreateDomainInput {
  domain: string;
  domain_type?: DomainType | undefined;
  verification_method?: VerificationMethod | undefined;
}

export interface DomainPolicy {
  verificationWindowMs: number;
  checkScheduleMs: number[];
  /** The self-serve flows (portal) add DNS domains only where the organization's feature is on. */
  requireDomainVerificationFeature?: boolean;
}

const TXT_KEY_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A TXT record name label such as `_verihook-challenge-k3x9q2`. */
export function newTxtRecordKey(): string {
  const suffix = Array.from(
    { length: 6 },
    () => TXT_KEY_ALPHABET[randomInt(TXT_KEY_ALPHABET.length)],
  );
  return `_verihook-challenge-${suffix.join('')}`;
}

/** A TXT record value with 192 random bits. */
export function newTxtRecordSecret(): string {
  return `verihook-verification=${randomBytes(24).toString('base64url')}`;
}

/** `now`, or a millisecond after `previous` when the clock has not moved past it. */
export function nextUpdatedAt(previous: Date, now = new Date()): Date {
  return new Date(Math.max(now.getTime(), previous.getTime() + 1));
}

function invalidMethod(message: string): ApiError {
  return new ApiError(400, 'invalid_verification_method', message, {
    fields: [{ path: 'verification_method', message }],
  });
}

function planVerification(
  type: DomainType,
  method: VerificationMethod | undefined,
): { status: VerificationStatus; method: VerificationMethod } {
  if (type === 'ALLOWED_EMAIL_DOMAIN') {
    if (method !== undefined && method !== 'NOT_APPLICABLE') {
      throw invalidMethod('An ALLOWED_EMAIL_DOMAIN is not verified: leave out verification_method');
    }
    return { status: 'AUTO_VERIFIED', method: 'NOT_APPLICABLE' };
  }
  if (method === 'NOT_APPLICABLE') {
    throw invalidMethod('An ORGANIZATION_DOMAIN is verified by ADMIN (the default) or DNS');
  }
  return method === 'DNS'
    ? { status: 'PENDING', method: 'DNS' }
    : { status: 'VERIFIED', method: 'ADMIN' };
}

function alreadyExists(cause?: unknown): ApiError {
  return new ApiError(409, 'domain_already_exists', 'This organization already has this domain', {
    cause,
  });
}

function alreadyVerified(cause?: unknown): ApiError {
  return new ApiError(
    409,
    'domain_already_verified',
    'Another organization has verified this domain',
    {
      cause,
    },
  );
}

function conflictFrom(error: unknown): ApiError | undefined {
  const constraint = uniqueViolation(error);
  if (constraint === 'domains_organization_id_domain_key') return alreadyExists(error);
  if (constraint === 'domains_verified_organization_domain_key') return alreadyVerified(error);
  return undefined;
}

/** The organization, locked against deletion until the transaction ends; 404 when missing. */
export async function lockOrganization(tx: Db, organizationId: string): Promise<OrganizationRow> {
  const [organization] = await tx
    .select()
    .from(organizations)
    .where(eq(organizations.id, organizationId))
    .for('share');
  if (!organization) throw notFound('Organization');
  return organization;
}

async function checkNameAvailable(
  tx: Db,
  organizationId: string,
  domain: string,
  type: DomainType,
) {
  const holders = await tx
    .select({
      organizationId: domains.organizationId,
      domainType: domains.domainType,
      status: domains.verificationStatus,
    })
    .from(domains)
    .where(eq(domains.domain, domain));
  if (holders.some((holder) => holder.organizationId === organizationId)) throw alreadyExists();
  const verifiedElsewhere = holders.some(
    (holder) => holder.domainType === 'ORGANIZATION_DOMAIN' && holder.status === 'VERIFIED',
  );
  if (type === 'ORGANIZATION_DOMAIN' && verifiedElsewhere) throw alreadyVerified();
}

/**
 * Moves every other organization's pending claim on a name that `verified` now holds to FAILED
 * (`verified_by_other_organization`), each with its failed event, within `tx`.
 */
export async function failCompetingClaims(
  tx: Db,
  verified: DomainRow,
  now = new Date(),
): Promise<DomainRow[]> {
  const failed = await tx
    .update(domains)
    .set({
      verificationStatus: 'FAILED',
      failureReason: 'verified_by_other_organization',
      nextCheckAt: null,
      checkLeaseUntil: null,
      updatedAt: now,
    })
    .where(
      and(
        eq(domains.domain, verified.domain),
        eq(domains.domainType, 'ORGANIZATION_DOMAIN'),
        eq(domains.verificationStatus, 'PENDING'),
        ne(domains.organizationId, verified.organizationId),
      ),
    )
    .returning();
  for (const claim of failed) {
    const [organization] = await tx
      .select()
      .from(organizations)
      .where(eq(organizations.id, claim.organizationId));
    if (!organization)
      throw new Error(`organization ${claim.organizationId} of ${claim.id} is missing`);
    await recordEvent(tx, {
      type: 'organization.domain_dns_verification_failed',
      organization,
      domain: claim,
      occurredAt: now,
    });
  }
  return failed;
}

function newDomainRow(
  organizationId: string,
  name: { domain: string; domain_unicode: string },
  type: DomainType,
  plan: { status: VerificationStatus; method: VerificationMethod },
  policy: DomainPolicy,
  now: Date,
): typeof domains.$inferInsert {
  const dns = plan.method === 'DNS';
  const firstCheckMs = Math.min(policy.checkScheduleMs[0] ?? 0, policy.verificationWindowMs);
  return {
    id: newId('dom'),
    organizationId,
    domain: name.domain,
    domainUnicode: name.domain_unicode,
    domainType: type,
    verificationStatus: plan.status,
    verificationMethod: plan.method,
    txtRecordKey: dns ? newTxtRecordKey() : null,
    txtRecordSecret: dns ? newTxtRecordSecret() : null,
    verificationExpiresAt: dns ? new Date(now.getTime() + policy.verificationWindowMs) : null,
    nextCheckAt: dns ? new Date(now.getTime() + firstCheckMs) : null,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * Adds a domain to an organization: `VERIFIED`/`ADMIN` by default, `PENDING`/`DNS` when asked,
 * `AUTO_VERIFIED`/`NOT_APPLICABLE` for an allowed email domain; with its created event.
 */
export async function createDomain(
  db: Db,
  organizationId: string,
  input: CreateDomainInput,
  policy: DomainPolicy,
): Promise<DomainRow> {
  const name = normalizeDomain(input.domain);
  const type = input.domain_type ?? 'ORGANIZATION_DOMAIN';
  const plan = planVerification(type, input.verification_method);

  try {
    return await db.transaction(async (tx) => {
      const organization = await lockOrganization(tx, organizationId);
      if (policy.requireDomainVerificationFeature && !organization.domainVerificationEnabled) {
        throw new ApiError(
          403,
          'domain_verification_disabled',
          'Domain verification is turned off for this organization',
        );
      }
      await checkNameAvailable(tx, organization.id, name.domain, type);

      const now = new Date();
      const [row] = await tx
        .insert(domains)
        .values(newDomainRow(organization.id, name, type, plan, policy, now))
        .returning();
      if (!row) throw new Error('insert into domains returned no row');
      await recordEvent(tx, {
        type: 'organization.domain_created',
        organization,
        domain: row,
        occurredAt: now,
      });
      if (row.domainType === 'ORGANIZATION_DOMAIN' && row.verificationStatus === 'VERIFIED') {
        await failCompetingClaims(tx, row, now);
      }
      return row;
    });
  } catch (error) {
    throw conflictFrom(error) ?? error;
  }
}

/** The organization's domain, or a 404 `not_found` (also for another organization's domain). */
export async function getDomain(
  db: Db,
  organizationId: string,
  domainId: string,
): Promise<DomainRow> {
  const [row] = await db
    .select()
    .from(domains)
    .where(and(eq(domains.id, domainId), eq(domains.organizationId, organizationId)));
  if (!row) throw notFound('Domain');
  return row;
}

export interface ListDomainsFilter {
  domainType?: DomainType | undefined;
}

export async function listDomains(
  db: Db,
  organizationId: string,
  filter: ListDomainsFilter,
  page: PageRequest,
) {
  const [organization] = await db
    .select({ id: organizations.id })
    .from(organizations)
    .where(eq(organizations.id, organizationId));
  if (!organization) throw notFound('Organization');

  const conditions: SQL[] = [eq(domains.organizationId, organizationId)];
  if (filter.domainType) conditions.push(eq(domains.domainType, filter.domainType));
  if (page.after !== undefined) conditions.push(lt(domains.id, page.after));
  if (page.before !== undefined) conditions.push(gt(domains.id, page.before));
  const rows = await db
    .select()
    .from(domains)
    .where(and(...conditions))
    .orderBy(readsBackwards(page) ? asc(domains.id) : desc(domains.id))
    .limit(page.pageSize + 1);
  return toPage(rows, page);
}

async function recordDeletion(tx: Db, organization: OrganizationRow, row: DomainRow, now: Date) {
  await recordEvent(tx, {
    type: 'organization.domain_deleted',
    organization,
    domain: { ...row, updatedAt: nextUpdatedAt(row.updatedAt, now) },
    occurredAt: now,
  });
}

/** Removes the organization's domain, with its deleted event; 404 when it is not theirs. */
export async function deleteDomain(
  db: Db,
  organizationId: string,
  domainId: string,
): Promise<DomainRow> {
  return db.transaction(async (tx) => {
    const organization = await lockOrganization(tx, organizationId);
    const [row] = await tx
      .delete(domains)
      .where(and(eq(domains.id, domainId), eq(domains.organizationId, organizationId)))
      .returning();
    if (!row) throw notFound('Domain');
    await recordDeletion(tx, organization, row, new Date());
    return row;
  });
}

/** Removes every domain of the organization within `tx`, each with its deleted event. */
export async function deleteDomainsOfOrganization(
  tx: Db,
  organization: OrganizationRow,
): Promise<DomainRow[]> {
  const now = new Date();
  const removed = await tx
    .delete(domains)
    .where(eq(domains.organizationId, organization.id))
    .returning();
  removed.sort((a, b) => (a.id < b.id ? -1 : 1));
  for (const row of removed) await recordDeletion(tx, organization, row, now);
  return removed;
}
