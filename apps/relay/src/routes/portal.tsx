// The Admin Portal's pages: /portal/open trades a link for a session cookie; the rest needs it.
import { Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import type { AppDeps } from '../context.ts';
import type { PortalFlash } from '../db/schema/index.ts';
import { createDomain, deleteDomain, getDomain } from '../domains/service.ts';
import { ApiError } from '../errors.ts';
import { portalErrors, requireCsrfToken, requireSession } from '../portal/guards.ts';
import {
  cookieName,
  field,
  homePath,
  isHttps,
  messagePage,
  type PortalContext,
  type PortalEnv,
  portalPage,
  postedFromEmbed,
  render,
  securityHeaders,
  wantsEmbed,
} from '../portal/http.tsx';
import { ConfirmDeletePage, SCRIPT_PATH, STATUS_PATH } from '../portal/page.tsx';
import { PORTAL_SCRIPT } from '../portal/script.ts';
import { csrfTokenFor, endPortalSession, openPortalLink, setFlash } from '../portal/sessions.ts';
import { outcomeSummary, portalStatus, toDomainView } from '../portal/view.ts';
import { verifyDomainNow } from '../verification/verify-now.ts';

type Handler = (c: PortalContext) => Promise<Response>;
type VerifyNowResult = Awaited<ReturnType<typeof verifyDomainNow>>;

const LINK_REFUSALS = {
  used: {
    status: 410,
    title: 'This link has already been used',
    message:
      'Portal links work only once. Ask the app that sent you here for a new link to continue.',
  },
  expired: {
    status: 410,
    title: 'This link has expired',
    message: 'Portal links are valid for a short time only. Ask for a new link to continue.',
  },
  revoked: {
    status: 410,
    title: 'This link was revoked',
    message: 'The app that issued this link has withdrawn it. Ask for a new link to continue.',
  },
  not_found: {
    status: 404,
    title: 'This link is not valid',
    message: 'Check that you copied the whole link, or ask for a new one.',
  },
} as const;

function openLink(deps: AppDeps): Handler {
  const { config } = deps;
  return async (c) => {
    // Link scanners send HEAD: it must not use the link up.
    if (c.req.method === 'HEAD') return c.body(null, 200);
    const token = c.req.query('token') ?? '';
    const opened = await openPortalLink(deps.database.db, token, config.portalSessionTtlMs);
    if (!opened.opened) {
      const { status, title, message } = LINK_REFUSALS[opened.reason];
      const code = `link_${opened.reason}`;
      return messagePage(c, config.portalFrameAncestors, status, { title, message, code });
    }

    const secure = isHttps(c, config.publicUrl);
    const embed = wantsEmbed(c) || opened.mode === 'embed';
    // Lax, not Strict: the link arrives from another site, and Strict would withhold the cookie
    // on the redirect below. An embedded session in a cross-site iframe needs None + Partitioned.
    const crossSiteFrame = embed && secure;
    setCookie(c, cookieName(secure), opened.token, {
      path: '/',
      httpOnly: true,
      secure,
      sameSite: crossSiteFrame ? 'None' : 'Lax',
      ...(crossSiteFrame ? { partitioned: true } : {}),
      maxAge: Math.floor(config.portalSessionTtlMs / 1000),
    });
    c.header('Cache-Control', 'no-store');
    c.header('Referrer-Policy', 'no-referrer');
    return c.redirect(homePath(embed), 303);
  };
}

function serveStatus(deps: AppDeps): Handler {
  return async (c) => {
    const { session, organization } = c.get('portal');
    const state = await portalStatus(deps.database.db, organization);
    c.header('Cache-Control', 'no-store');
    return c.json({ ...state, session: { expires_at: session.expiresAt.toISOString() } });
  };
}

function addDomain(deps: AppDeps): Handler {
  const { config } = deps;
  const policy = {
    verificationWindowMs: config.verificationWindowMs,
    checkScheduleMs: config.checkScheduleMs,
    requireDomainVerificationFeature: true,
  };
  return async (c) => {
    const embed = postedFromEmbed(c);
    const value = field(c, 'domain');
    const { session, organization } = c.get('portal');
    try {
      const input = { domain: value, verification_method: 'DNS' as const };
      const row = await createDomain(deps.database.db, organization.id, input, policy);
      await setFlash(deps.database.db, session.id, {
        kind: 'success',
        message: `Added ${row.domainUnicode}. Publish its TXT record below, then press Verify now.`,
        domainId: row.id,
      });
      return c.redirect(homePath(embed, row.id), 303);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      // With the form on the page the message sits under the field; without it, at the top.
      const flash = organization.domainVerificationEnabled
        ? null
        : { kind: 'error' as const, message: error.message };
      const add = { value, error: error.message };
      return portalPage(c, deps, { embed, flash, add, status: error.status });
    }
  };
}

/** Renders an action's ApiError on the page, with its status; rethrows anything else. */
function failedAction(c: PortalContext, deps: AppDeps, error: unknown): Promise<Response> {
  if (!(error instanceof ApiError)) throw error;
  const flash = { kind: 'error' as const, message: error.message };
  return portalPage(c, deps, { embed: postedFromEmbed(c), flash, status: error.status });
}

function verifyDomain(deps: AppDeps): Handler {
  return async (c) => {
    const { session, organization } = c.get('portal');
    try {
      const result = await verifyDomainNow(deps, organization.id, c.req.param('id') ?? '');
      await setFlash(deps.database.db, session.id, verifyFlash(result));
      return c.redirect(homePath(postedFromEmbed(c), result.domain.id), 303);
    } catch (error) {
      return failedAction(c, deps, error);
    }
  };
}

function removeDomain(deps: AppDeps): Handler {
  const { db } = deps.database;
  return async (c) => {
    const embed = postedFromEmbed(c);
    const domainId = c.req.param('id') ?? '';
    const { session, organization, token } = c.get('portal');
    try {
      if (field(c, 'confirm') !== 'yes') {
        const view = toDomainView(await getDomain(db, organization.id, domainId));
        securityHeaders(c, embed, deps.config.portalFrameAncestors);
        const form = { csrfToken: csrfTokenFor(token), embed };
        return render(c, <ConfirmDeletePage view={view} form={form} />);
      }
      const row = await deleteDomain(db, organization.id, domainId);
      await setFlash(db, session.id, { kind: 'success', message: `Deleted ${row.domainUnicode}.` });
      return c.redirect(homePath(embed), 303);
    } catch (error) {
      return failedAction(c, deps, error);
    }
  };
}

function endSession(deps: AppDeps): Handler {
  const { config } = deps;
  return async (c) => {
    await endPortalSession(deps.database.db, c.get('portal').session.id);
    const secure = isHttps(c, config.publicUrl);
    deleteCookie(c, cookieName(secure), { path: '/', secure });
    const ended = {
      title: 'Session ended',
      message: 'You can close this page. To come back, ask for a new link.',
    };
    return messagePage(c, config.portalFrameAncestors, 200, ended, postedFromEmbed(c));
  };
}

function verifyFlash(result: VerifyNowResult): PortalFlash {
  const { domain, check, verified } = result;
  const name = domain.domain_unicode;
  const domainId = domain.id;
  if (verified && check) {
    return { kind: 'success', message: `${name} is verified: the TXT record was found.`, domainId };
  }
  if (domain.verification_status === 'VERIFIED' || domain.verification_status === 'AUTO_VERIFIED') {
    return { kind: 'info', message: `${name} is already verified.`, domainId };
  }
  if (domain.verification_status === 'FAILED') {
    const message = `${name} has failed verification. Delete it and add it again for a new record.`;
    return { kind: 'error', message, domainId };
  }
  const summary = check ? ` ${outcomeSummary(check.outcome)}.` : '';
  const message = `${name} is not verified yet.${summary} See the check result below.`;
  return { kind: 'info', message, domainId };
}

/** The portal's routes; mount at the root (they are not under /api/v1: cookie, not bearer). */
export function portalRoutes(deps: AppDeps): Hono<PortalEnv> {
  const { config } = deps;
  const router = new Hono<PortalEnv>();
  router.onError(portalErrors(config));

  router.get(SCRIPT_PATH, (c) => {
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    c.header('Cache-Control', 'no-cache');
    c.header('X-Content-Type-Options', 'nosniff');
    return c.body(PORTAL_SCRIPT);
  });
  router.get('/portal/open', openLink(deps));

  router.use('/portal/*', requireSession(deps), requireCsrfToken(config));
  router.get('/portal', (c) => portalPage(c, deps, { embed: wantsEmbed(c) }));
  router.get('/portal/embed', (c) => portalPage(c, deps, { embed: true }));
  router.get(STATUS_PATH, serveStatus(deps));
  router.post('/portal/domains', addDomain(deps));
  router.post('/portal/domains/:id/verify', verifyDomain(deps));
  router.post('/portal/domains/:id/delete', removeDomain(deps));
  router.post('/portal/logout', endSession(deps));
  router.all('/portal/*', (c) =>
    messagePage(c, config.portalFrameAncestors, 404, {
      title: 'Page not found',
      message: 'The portal has no such page.',
    }),
  );
  return router;
}
