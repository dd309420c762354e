// How portal responses are made: the request's variables, cookie, security headers and pages.
import type { Context } from 'hono';
import { html } from 'hono/html';
import type { Child } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppDeps, AppEnv } from '../context.ts';
import type { OrganizationRow, PortalFlash, PortalSessionRow } from '../db/schema/index.ts';
import { type AddFormState, MessagePage, PortalPage } from './page.tsx';
import { csrfTokenFor, takeFlash } from './sessions.ts';
import { PORTAL_CSS_SOURCE } from './styles.ts';
import { portalStatus } from './view.ts';

export interface PortalSession {
  session: PortalSessionRow;
  organization: OrganizationRow;
  /** The cookie's secret; the CSRF token derives from it. */
  token: string;
}

export type PortalEnv = {
  Variables: AppEnv['Variables'] & {
    portal: PortalSession;
    /** The posted form, parsed once by the CSRF check. */
    form: Record<string, string | File>;
  };
};
export type PortalContext = Context<PortalEnv>;

export interface Message {
  title: string;
  message: string;
  code?: string;
}

/** Whether the portal is served over https: the public URL's scheme, else the request's. */
export function isHttps(c: PortalContext, publicUrl: string | undefined): boolean {
  return (publicUrl ?? c.req.url).startsWith('https:');
}

/** `__Host-` binds the cookie to this host, path `/` and https; plain http cannot use it. */
export function cookieName(secure: boolean): string {
  return secure ? '__Host-verihook_portal' : 'verihook_portal';
}

export function wantsEmbed(c: PortalContext): boolean {
  return c.req.path === '/portal/embed' || c.req.query('embed') === '1';
}

/** A text field of the posted form, or '' when it is missing or a file. */
export function field(c: PortalContext, name: string): string {
  const value = c.get('form')[name];
  return typeof value === 'string' ? value : '';
}

/** Whether the posted form came from the embedded page. */
export function postedFromEmbed(c: PortalContext): boolean {
  return field(c, 'embed') === '1';
}

export function homePath(embed: boolean, domainId?: string): string {
  return `${embed ? '/portal/embed' : '/portal'}${domainId ? `#${domainId}` : ''}`;
}

/** A strict CSP; only the embedded page may be framed, and only by the configured ancestors. */
export function securityHeaders(c: PortalContext, embed: boolean, frameAncestors: string[]): void {
  const ancestors = embed && frameAncestors.length > 0 ? frameAncestors.join(' ') : "'none'";
  c.header(
    'Content-Security-Policy',
    [
      "default-src 'none'",
      "script-src 'self'",
      `style-src ${PORTAL_CSS_SOURCE}`,
      "img-src 'self' data:",
      "connect-src 'self'",
      "form-action 'self'",
      "base-uri 'none'",
      `frame-ancestors ${ancestors}`,
    ].join('; '),
  );
  if (!embed) c.header('X-Frame-Options', 'DENY');
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'same-origin');
  c.header('Cache-Control', 'no-store');
}

export async function render(
  c: PortalContext,
  page: Child,
  status: ContentfulStatusCode = 200,
): Promise<Response> {
  return c.html(html`<!doctype html>${page}`, status);
}

/** A page that only tells what happened, with its status. */
export function messagePage(
  c: PortalContext,
  frameAncestors: string[],
  status: ContentfulStatusCode,
  message: Message,
  embed = wantsEmbed(c),
): Promise<Response> {
  securityHeaders(c, embed, frameAncestors);
  return render(c, <MessagePage {...message} embed={embed} />, status);
}

export interface PortalPageOptions {
  embed: boolean;
  /** Undefined: the session's pending message, taken; null: none. */
  flash?: PortalFlash | null;
  add?: AddFormState;
  status?: ContentfulStatusCode;
}

/** The portal page for the session's organization. */
export async function portalPage(
  c: PortalContext,
  deps: AppDeps,
  options: PortalPageOptions,
): Promise<Response> {
  const { db } = deps.database;
  const { session, organization, token } = c.get('portal');
  const state = await portalStatus(db, organization);
  const flash = options.flash === undefined ? await takeFlash(db, session) : options.flash;

  securityHeaders(c, options.embed, deps.config.portalFrameAncestors);
  return render(
    c,
    <PortalPage
      organization={state.organization}
      domains={state.domains}
      flash={flash}
      form={{ csrfToken: csrfTokenFor(token), embed: options.embed }}
      add={options.add ?? { value: '', error: null }}
      sessionExpiresAt={session.expiresAt.toISOString()}
    />,
    options.status ?? 200,
  );
}
