// Admin Portal tables: single-use links and the browser sessions they open, both stored hashed.
import { sql } from 'drizzle-orm';
import { check, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { organizations } from './core.ts';

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export type PortalMode = 'page' | 'embed';

/** A one-time link into the portal for one organization; only the token's SHA-256 is kept. */
export const portalLinks = pgTable(
  'portal_links',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique('portal_links_token_hash_key'),
    /** `embed` opens the page for an iframe (`/portal/embed`), `page` the full one. */
    mode: text('mode').$type<PortalMode>().notNull().default('page'),
    expiresAt: timestamptz('expires_at').notNull(),
    usedAt: timestamptz('used_at'),
    revokedAt: timestamptz('revoked_at'),
    createdByClientId: text('created_by_client_id'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (table) => [
    index('portal_links_organization_id_idx').on(table.organizationId),
    index('portal_links_expires_at_idx').on(table.expiresAt),
    check('portal_links_mode_check', sql`${table.mode} in ('page', 'embed')`),
  ],
);

/** A message shown once on the next page view, after a form's redirect. */
export interface PortalFlash {
  kind: 'success' | 'info' | 'error';
  message: string;
  /** The domain the message is about, to point at its card. */
  domainId?: string;
}

/** A browser session opened by a portal link; the cookie holds the token, this its SHA-256. */
export const portalSessions = pgTable(
  'portal_sessions',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    linkId: text('link_id')
      .notNull()
      .references(() => portalLinks.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique('portal_sessions_token_hash_key'),
    flash: jsonb('flash').$type<PortalFlash>(),
    expiresAt: timestamptz('expires_at').notNull(),
    revokedAt: timestamptz('revoked_at'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (table) => [
    index('portal_sessions_organization_id_idx').on(table.organizationId),
    index('portal_sessions_link_id_idx').on(table.linkId),
    index('portal_sessions_expires_at_idx').on(table.expiresAt),
  ],
);

export type PortalLinkRow = typeof portalLinks.$inferSelect;
export type PortalSessionRow = typeof portalSessions.$inferSelect;
