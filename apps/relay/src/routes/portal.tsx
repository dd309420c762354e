// The Admin Portal's pages: /portal/open trades a link for a session cookie; the rest needs it.
import type { Context, MiddlewareHandler } from 'hono';
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import type { Child } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppDeps, AppEnv } from '../context.ts';
import type { OrganizationRow, PortalFlash, PortalSessionRow } from '../db/schema/index.ts';
import { createDomain, deleteDomain, getDomain } from '../domains/service.ts';
import { ApiError } from '../errors.ts';
import {
  type AddFormState,
  ConfirmDeletePage,
  type FormContext,
  MessagePage,
  PortalPage,
  SCRIPT_PATH,
  STATUS_PATH,
} from '../portal/page.tsx';
import { PORTAL_SCRIPT } from '../portal/script.ts';
import {
  csrfTokenFor,
  endPortalSession,
  findPortalSession,
  isCsrfTokenValid,
  openPortalLink,
  setFlash,
  takeFlash,
} from '../portal/sessions.ts';
import { PORTAL_CSS_SOURCE } from '../portal/styles.ts';
import { outcomeSummary, portalStatus, toDomainView } from '../portal/view.ts';
import { verifyDomainNow } from '../verification/verify-now.ts';

interface PortalSession {
  session: PortalSessionRow;
  organization: OrganizationRow;
  token: string;
}

type PortalEnv = {
  Variables: AppEnv['Variables'] & {
    portal: PortalSession;
    form: Record<string, string | File>;
  };
};
type PortalContext = Context<PortalEnv>;

const SESSION_REQUIRED =
  'Your portal session has ended, was revoked, or was never opened in this browser. ' +
  'Portal links work once: ask the app that sent you here for a new link.';

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

function isHttps(c: PortalContext, publicUrl: string | undefined): boolean {
  return (publicUrl ?? c.req.url).startsWith('https:');
}

function cookieName(secure: boolean): string {
  return secure ? '__Host-verihook_portal' : 'verihook_portal';
}

function wantsEmbed(c: PortalContext): boolean {
  return c.req.path === '/portal/embed' || c.req.query('embed') === '1';
}

function securityHeaders(c: PortalContext, embed: boolean, frameAncestors: string[]): void {
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

async function render(
  c: PortalContext,
  page: Child,
  status: ContentfulStatusCode = 200,
): Promise<Response> {
  return c.html(html`<!doctype html>${page}`, status);
}

function homePath(embed: boolean, domainId?: string): string {
  return `${embed ? '/portal/embed' : '/portal'}${domainId ? `#${domainId}` : ''}`;
}

function field(form: Record<string, string | File>, name: string): string {
  const value = form[name];
  return typeof value === 'string' ? value : '';
}

export function portalRoutes(deps: AppDeps): Hono<PortalEnv> {
  const { config } = deps;
  const { db } = deps.database;
  const router = new Hono<PortalEnv>();

  const messagePage = (
    c: PortalContext,
    status: ContentfulStatusCode,
    page: { title: string; message: string; code?: string },
    embed = wantsEmbed(c),
  ) => {
    securityHeaders(c, embed, config.portalFrameAncestors);
    return render(c, <MessagePage {...page} embed={embed} />, status);
  };

  const portalPage = async (
    c: PortalContext,
    options: { embed: boolean; flash?: PortalFlash | null; add?: AddFormState; status?: number },
  ) => {
    const { session, organization, token } = c.get('portal');
    const state = await portalStatus(db, organization);
    const flash = options.flash === undefined ? await takeFlash(db, session) : options.flash;
    securityHeaders(c, options.embed, config.portalFrameAncestors);
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
      (options.status ?? 200) as ContentfulStatusCode,
    );
  };

  const failedAction = (c: PortalContext, error: unknown, embed: boolean) => {
    if (!(error instanceof ApiError)) throw error;
    return portalPage(c, {
      embed,
      flash: { kind: 'error', message: error.message },
      status: error.status,
    });
  };

  const requireSession: MiddlewareHandler<PortalEnv> = async (c, next) => {
    const secure = isHttps(c, config.publicUrl);
    const token = getCookie(c, cookieName(secure)) ?? '';
    const active = token ? await findPortalSession(db, token) : undefined;
    if (!active) {
      if (c.req.path === STATUS_PATH) {
        c.header('Cache-Control', 'no-store');
        throw new ApiError(401, 'portal_session_required', SESSION_REQUIRED);
      }
      return messagePage(c, 401, {
        title: 'Please open a new portal link',
        message: SESSION_REQUIRED,
      });
    }
    c.set('portal', { ...active, token });
    await next();
  };

  const allowedOrigins = (c: PortalContext): Set<string> => {
    const origins = new Set([new URL(c.req.url).origin]);
    if (config.publicUrl) origins.add(new URL(config.publicUrl).origin);
    return origins;
  };

  // A browser sends Origin (or at least Referer) with every form POST; a client that sends
  // neither still needs the session's CSRF token.
  const fromThisSite = (c: PortalContext): boolean => {
    const origin = c.req.header('origin');
    const referer = c.req.header('referer');
    if (origin !== undefined) return allowedOrigins(c).has(origin);
    if (referer !== undefined)
      return URL.canParse(referer) && allowedOrigins(c).has(new URL(referer).origin);
    return true;
  };

  const requireCsrfToken: MiddlewareHandler<PortalEnv> = async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, string | File>);
    const embed = field(form, 'embed') === '1';
    if (!fromThisSite(c)) {
      return messagePage(
        c,
        403,
        {
          title: 'Request refused',
          message: 'This form was sent from another site. Go back to the portal and try again.',
          code: 'cross_origin_request',
        },
        embed,
      );
    }
    if (!isCsrfTokenValid(c.get('portal').token, form.csrf_token)) {
      return messagePage(
        c,
        403,
        {
          title: 'Request refused',
          message:
            'This form is missing its security token or the token is wrong. ' +
            'Reload the portal and try again.',
          code: 'csrf_token_invalid',
        },
        embed,
      );
    }
    c.set('form', form);
    await next();
  };

  router.onError((error, c) => {
    if (error instanceof ApiError && c.req.path === STATUS_PATH) {
      return c.json(
        { error: { code: error.code, message: error.message, request_id: c.get('requestId') } },
        error.status,
      );
    }
    if (error instanceof ApiError) {
      return messagePage(c, error.status, {
        title: 'Something is not right',
        message: error.message,
        code: error.code,
      });
    }
    const requestId = c.get('requestId') ?? 'unknown';
    c.get('logger')?.error({ err: error, request_id: requestId }, 'portal request failed');
    return messagePage(c, 500, {
      title: 'Something went wrong',
      message: `The portal could not finish this request; quote request id ${requestId}.`,
      code: 'internal_error',
    });
  });

  router.get(SCRIPT_PATH, (c) => {
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    c.header('Cache-Control', 'no-cache');
    c.header('X-Content-Type-Options', 'nosniff');
    return c.body(PORTAL_SCRIPT);
  });

  router.get('/portal/open', async (c) => {
    const opened = await openPortalLink(db, c.req.query('token') ?? '', config.portalSessionTtlMs);
    if (!opened.opened) {
      const refusal = LINK_REFUSALS[opened.reason];
      return messagePage(c, refusal.status, {
        title: refusal.title,
        message: refusal.message,
        code: `link_${opened.reason}`,
      });
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
  });

  router.use('/portal/*', requireSession, requireCsrfToken);

  router.get('/portal', (c) => portalPage(c, { embed: wantsEmbed(c) }));
  router.get('/portal/embed', (c) => portalPage(c, { embed: true }));

  router.get(STATUS_PATH, async (c) => {
    const { session, organization } = c.get('portal');
    c.header('Cache-Control', 'no-store');
    const state = await portalStatus(db, organization);
    return c.json({ ...state, session: { expires_at: session.expiresAt.toISOString() } });
  });

  router.post('/portal/domains', async (c) => {
    const form = c.get('form');
    const embed = field(form, 'embed') === '1';
    const value = field(form, 'domain');
    const { session, organization } = c.get('portal');
    try {
      const row = await createDomain(
        db,
        organization.id,
        { domain: value, verification_method: 'DNS' },
        {
          verificationWindowMs: config.verificationWindowMs,
          checkScheduleMs: config.checkScheduleMs,
          requireDomainVerificationFeature: true,
        },
      );
      await setFlash(db, session.id, {
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
      return portalPage(c, {
        embed,
        flash,
        add: { value, error: error.message },
        status: error.status,
      });
    }
  });

  router.post('/portal/domains/:id/verify', async (c) => {
    const embed = field(c.get('form'), 'embed') === '1';
    const { session, organization } = c.get('portal');
    try {
      const result = await verifyDomainNow(deps, organization.id, c.req.param('id'));
      await setFlash(db, session.id, verifyFlash(result));
      return c.redirect(homePath(embed, result.domain.id), 303);
    } catch (error) {
      return failedAction(c, error, embed);
    }
  });

  router.post('/portal/domains/:id/delete', async (c) => {
    const form = c.get('form');
    const embed = field(form, 'embed') === '1';
    const { session, organization, token } = c.get('portal');
    try {
      if (field(form, 'confirm') !== 'yes') {
        const view = toDomainView(await getDomain(db, organization.id, c.req.param('id')));
        const formContext: FormContext = { csrfToken: csrfTokenFor(token), embed };
        securityHeaders(c, embed, config.portalFrameAncestors);
        return render(c, <ConfirmDeletePage view={view} form={formContext} />);
      }
      const row = await deleteDomain(db, organization.id, c.req.param('id'));
      await setFlash(db, session.id, { kind: 'success', message: `Deleted ${row.domainUnicode}.` });
      return c.redirect(homePath(embed), 303);
    } catch (error) {
      return failedAction(c, error, embed);
    }
  });

  router.post('/portal/logout', async (c) => {
    const embed = field(c.get('form'), 'embed') === '1';
    await endPortalSession(db, c.get('portal').session.id);
    deleteCookie(c, cookieName(isHttps(c, config.publicUrl)), {
      path: '/',
      secure: isHttps(c, config.publicUrl),
    });
    return messagePage(
      c,
      200,
      {
        title: 'Session ended',
        message: 'You can close this page. To come back, ask for a new link.',
      },
      embed,
    );
  });

  router.all('/portal/*', (c) =>
    messagePage(c, 404, { title: 'Page not found', message: 'The portal has no such page.' }),
  );
  return router;
}

function verifyFlash(result: Awaited<ReturnType<typeof verifyDomainNow>>): PortalFlash {
  const { domain, check, verified } = result;
  const name = domain.domain_unicode;
  if (verified && check) {
    return {
      kind: 'success',
      message: `${name} is verified: the TXT record was found.`,
      domainId: domain.id,
    };
  }
  if (domain.verification_status === 'VERIFIED' || domain.verification_status === 'AUTO_VERIFIED') {
    return { kind: 'info', message: `${name} is already verified.`, domainId: domain.id };
  }
  if (domain.verification_status === 'FAILED') {
    return {
      kind: 'error',
      message: `${name} has failed verification. Delete it and add it again for a new record.`,
      domainId: domain.id,
    };
  }
  const summary = check ? ` ${outcomeSummary(check.outcome)}.` : '';
  return {
    kind: 'info',
    message: `${name} is not verified yet.${summary} See the check result below.`,
    domainId: domain.id,
  };
}
