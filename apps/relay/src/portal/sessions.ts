// Portal links and sessions: issue a link, trade it once for a session, find, flash and revoke.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { and, eq, gt, isNull, lt, notExists } from 'drizzle-orm';
import { hashToken, randomSecret } from '../auth/secrets.ts';
import type { Db } from '../db/index.ts';
import {
  type OrganizationRow,
  organizations,
  type PortalFlash,
  type PortalLinkRow,
  type PortalMode,
  type PortalSessionRow,
  portalLinks,
  portalSessions,
} from '../db/schema/index.ts';
import { notFound } from '../errors.ts';
import { newId } from '../ids.ts';
import { getOrganization } from '../organizations/service.ts';

const LINK_TOKEN_PREFIX = 'vh_pl_';
const SESSION_TOKEN_PREFIX = 'vh_ps_';
const MAX_TOKEN_LENGTH = 128;
/** Links are kept this long after they expire, so a late opening says "used" or "expired". */
const LINK_RETENTION_MS = 86_400_000;

export interface IssuedPortalLink {
  link: PortalLinkRow;
  /** The single-use secret for the link's URL; only its hash is stored. */
  token: string;
}

export interface PortalLinkOptions {
  ttlMs: number;
  mode: PortalMode;
  clientId?: string | undefined;
}

async function deleteStale(db: Db, now: Date): Promise<void> {
  await db.delete(portalSessions).where(lt(portalSessions.expiresAt, now));
  const longAgo = new Date(now.getTime() - LINK_RETENTION_MS);
  await db
    .delete(portalLinks)
    .where(
      and(
        lt(portalLinks.expiresAt, longAgo),
        notExists(
          db
            .select({ id: portalSessions.id })
            .from(portalSessions)
            .where(eq(portalSessions.linkId, portalLinks.id)),
        ),
      ),
    );
}

/** Issues a single-use link into the organization's portal, valid for `ttlMs`; 404 without it. */
export async function createPortalLink(
  db: Db,
  organizationId: string,
  options: PortalLinkOptions,
): Promise<IssuedPortalLink> {
  const organization = await getOrganization(db, organizationId);
  const now = new Date();
  await deleteStale(db, now);

  const token = randomSecret(LINK_TOKEN_PREFIX);
  const [link] = await db
    .insert(portalLinks)
    .values({
      id: newId('plink'),
      organizationId: organization.id,
      tokenHash: hashToken(token),
      mode: options.mode,
      expiresAt: new Date(now.getTime() + options.ttlMs),
      createdByClientId: options.clientId ?? null,
      createdAt: now,
    })
    .returning();
  if (!link) throw new Error('insert into portal_links returned no row');
  return { link, token };
}

export type OpenedPortalLink =
  | { opened: true; session: PortalSessionRow; token: string; mode: PortalMode }
  | { opened: false; reason: 'not_found' | 'used' | 'expired' | 'revoked' };

function refusal(link: PortalLinkRow | undefined, now: Date): OpenedPortalLink {
  if (!link) return { opened: false, reason: 'not_found' };
  if (link.revokedAt) return { opened: false, reason: 'revoked' };
  if (link.usedAt) return { opened: false, reason: 'used' };
  if (link.expiresAt <= now) return { opened: false, reason: 'expired' };
  return { opened: false, reason: 'used' };
}

/**
 * Trades a link's token for a new session of `sessionTtlMs`, once: the link is marked used in the
 * same transaction, so two openings at the same moment cannot both succeed.
 */
export async function openPortalLink(
  db: Db,
  linkToken: string,
  sessionTtlMs: number,
): Promise<OpenedPortalLink> {
  if (!linkToken.startsWith(LINK_TOKEN_PREFIX) || linkToken.length > MAX_TOKEN_LENGTH) {
    return { opened: false, reason: 'not_found' };
  }
  const tokenHash = hashToken(linkToken);

  return db.transaction(async (tx) => {
    const now = new Date();
    const [link] = await tx
      .update(portalLinks)
      .set({ usedAt: now })
      .where(
        and(
          eq(portalLinks.tokenHash, tokenHash),
          isNull(portalLinks.usedAt),
          isNull(portalLinks.revokedAt),
          gt(portalLinks.expiresAt, now),
        ),
      )
      .returning();
    if (!link) {
      const [seen] = await tx
        .select()
        .from(portalLinks)
        .where(eq(portalLinks.tokenHash, tokenHash));
      return refusal(seen, now);
    }

    const token = randomSecret(SESSION_TOKEN_PREFIX);
    const [session] = await tx
      .insert(portalSessions)
      .values({
        id: newId('psess'),
        organizationId: link.organizationId,
        linkId: link.id,
        tokenHash: hashToken(token),
        expiresAt: new Date(now.getTime() + sessionTtlMs),
        createdAt: now,
      })
      .returning();
    if (!session) throw new Error('insert into portal_sessions returned no row');
    return { opened: true, session, token, mode: link.mode };
  });
}

export interface ActivePortalSession {
  session: PortalSessionRow;
  organization: OrganizationRow;
}

/** The live (unexpired, unrevoked) session a cookie's token names, with its organization. */
export async function findPortalSession(
  db: Db,
  sessionToken: string,
): Promise<ActivePortalSession | undefined> {
  if (!sessionToken.startsWith(SESSION_TOKEN_PREFIX) || sessionToken.length > MAX_TOKEN_LENGTH) {
    return undefined;
  }
  const [row] = await db
    .select({ session: portalSessions, organization: organizations })
    .from(portalSessions)
    .innerJoin(organizations, eq(organizations.id, portalSessions.organizationId))
    .where(
      and(
        eq(portalSessions.tokenHash, hashToken(sessionToken)),
        isNull(portalSessions.revokedAt),
        gt(portalSessions.expiresAt, new Date()),
      ),
    );
  return row;
}

/** The per-session CSRF token: an HMAC of the session's secret, so nothing more is stored. */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('verihook-portal-csrf').digest('base64url');
}

/** Whether `candidate` is the session's CSRF token, compared in constant time. */
export function isCsrfTokenValid(sessionToken: string, candidate: unknown): boolean {
  if (typeof candidate !== 'string') return false;
  const expected = Buffer.from(csrfTokenFor(sessionToken));
  const actual = Buffer.from(candidate);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Keeps a message for the session's next page view. */
export async function setFlash(db: Db, sessionId: string, flash: PortalFlash): Promise<void> {
  await db.update(portalSessions).set({ flash }).where(eq(portalSessions.id, sessionId));
}

/** The session's pending message, removed as it is read. */
export async function takeFlash(db: Db, session: PortalSessionRow): Promise<PortalFlash | null> {
  if (!session.flash) return null;
  await db.update(portalSessions).set({ flash: null }).where(eq(portalSessions.id, session.id));
  return session.flash;
}

/** Ends one session (the admin signing out). */
export async function endPortalSession(db: Db, sessionId: string): Promise<void> {
  await db
    .update(portalSessions)
    .set({ revokedAt: new Date() })
    .where(and(eq(portalSessions.id, sessionId), isNull(portalSessions.revokedAt)));
}

/** Revokes a link (if still unused) and the session it opened; 404 outside the organization. */
export async function revokePortalLink(
  db: Db,
  organizationId: string,
  linkId: string,
): Promise<void> {
  await db.transaction(async (tx) => {
    const now = new Date();
    const [link] = await tx
      .select({ id: portalLinks.id })
      .from(portalLinks)
      .where(and(eq(portalLinks.id, linkId), eq(portalLinks.organizationId, organizationId)))
      .for('update');
    if (!link) throw notFound('Portal link');
    await tx
      .update(portalLinks)
      .set({ revokedAt: now })
      .where(and(eq(portalLinks.id, link.id), isNull(portalLinks.revokedAt)));
    await tx
      .update(portalSessions)
      .set({ revokedAt: now })
      .where(and(eq(portalSessions.linkId, link.id), isNull(portalSessions.revokedAt)));
  });
}

/** Revokes every session and unused link of the organization; returns the sessions revoked. */
export async function revokePortalSessions(db: Db, organizationId: string): Promise<number> {
  await getOrganization(db, organizationId);
  return db.transaction(async (tx) => {
    const now = new Date();
    await tx
      .update(portalLinks)
      .set({ revokedAt: now })
      .where(
        and(
          eq(portalLinks.organizationId, organizationId),
          isNull(portalLinks.usedAt),
          isNull(portalLinks.revokedAt),
        ),
      );
    const revoked = await tx
      .update(portalSessions)
      .set({ revokedAt: now })
      .where(
        and(
          eq(portalSessions.organizationId, organizationId),
          isNull(portalSessions.revokedAt),
          gt(portalSessions.expiresAt, now),
        ),
      )
      .returning({ id: portalSessions.id });
    return revoked.length;
  });
}
