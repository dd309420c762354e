// Organizations: create, read, list, update, change settings, delete (with their domains).
import { and, desc, eq, gt, lt, type SQL } from 'drizzle-orm';
import { uniqueViolation } from '../db/errors.ts';
import type { Db } from '../db/index.ts';
import { type OrganizationRow, organizations } from '../db/schema/index.ts';
import { deleteDomainsOfOrganization } from '../domains/service.ts';
import { ApiError, notFound } from '../errors.ts';
import { newId } from '../ids.ts';
import { type PageRequest, readsBackwards, toPage } from '../pagination.ts';

/** The organization features that settings can turn on and off. */
export const FEATURES = ['domain_verification'] as const;
export type FeatureName = (typeof FEATURES)[number];

export interface OrganizationObject {
  id: string;
  object: 'organization';
  display_name: string;
  external_id: string | null;
  features: { name: FeatureName; enabled: boolean }[];
  created_at: string;
  updated_at: string;
}

export interface OrganizationInput {
  display_name: string;
  external_id?: string | null | undefined;
}

/** The API's `organization` object. */
export function toOrganizationObject(row: OrganizationRow): OrganizationObject {
  return {
    id: row.id,
    object: 'organization',
    display_name: row.displayName,
    external_id: row.externalId,
    features: [{ name: 'domain_verification', enabled: row.domainVerificationEnabled }],
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

async function withExternalIdCheck<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (uniqueViolation(error) === 'organizations_external_id_key') {
      throw new ApiError(
        409,
        'external_id_already_exists',
        'Another organization has this external_id',
        {
          fields: [{ path: 'external_id', message: 'is already used by another organization' }],
          cause: error,
        },
      );
    }
    throw error;
  }
}

export async function createOrganization(
  db: Db,
  input: OrganizationInput,
): Promise<OrganizationRow> {
  const now = new Date();
  return withExternalIdCheck(async () => {
    const [row] = await db
      .insert(organizations)
      .values({
        id: newId('org'),
        displayName: input.display_name,
        externalId: input.external_id ?? null,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    if (!row) throw new Error('insert into organizations returned no row');
    return row;
  });
}

/** The organization, or a 404 `not_found`. */
export async function getOrganization(db: Db, id: string): Promise<OrganizationRow> {
  const [row] = await db.select().from(organizations).where(eq(organizations.id, id));
  if (!row) throw notFound('Organization');
  return row;
}

export async function listOrganizations(db: Db, page: PageRequest) {
  const conditions: SQL[] = [];
  if (page.after !== undefined) conditions.push(lt(organizations.id, page.after));
  if (page.before !== undefined) conditions.push(gt(organizations.id, page.before));
  const rows = await db
    .select()
    .from(organizations)
    .where(and(...conditions))
    .orderBy(readsBackwards(page) ? organizations.id : desc(organizations.id))
    .limit(page.pageSize + 1);
  return toPage(rows, page);
}

export async function updateOrganization(
  db: Db,
  id: string,
  input: Partial<OrganizationInput>,
): Promise<OrganizationRow> {
  return withExternalIdCheck(async () => {
    const [row] = await db
      .update(organizations)
      .set({
        ...(input.display_name !== undefined ? { displayName: input.display_name } : {}),
        ...(input.external_id !== undefined ? { externalId: input.external_id } : {}),
        updatedAt: new Date(),
      })
      .where(eq(organizations.id, id))
      .returning();
    if (!row) throw notFound('Organization');
    return row;
  });
}

export async function updateOrganizationSettings(
  db: Db,
  id: string,
  features: { name: FeatureName; enabled: boolean }[],
): Promise<OrganizationRow> {
  const domainVerification = features.findLast((feature) => feature.name === 'domain_verification');
  const [row] = await db
    .update(organizations)
    .set({
      ...(domainVerification ? { domainVerificationEnabled: domainVerification.enabled } : {}),
      updatedAt: new Date(),
    })
    .where(eq(organizations.id, id))
    .returning();
  if (!row) throw notFound('Organization');
  return row;
}

/** Deletes the organization and each of its domains, with each domain's deleted event. */
export async function deleteOrganization(db: Db, id: string): Promise<void> {
  await db.transaction(async (tx) => {
    const [organization] = await tx
      .select()
      .from(organizations)
      .where(eq(organizations.id, id))
      .for('update');
    if (!organization) throw notFound('Organization');
    await deleteDomainsOfOrganization(tx, organization);
    await tx.delete(organizations).where(eq(organizations.id, id));
  });
}
