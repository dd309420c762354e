// The portal's gatekeepers: a live session for every page, CSRF and Origin checks for every form.
import type { ErrorHandler, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { Config } from '../config.ts';
import type { AppDeps } from '../context.ts';
import { ApiError, knownError } from '../errors.ts';
import {
  cookieName,
  isHttps,
  type Message,
  messagePage,
  type PortalContext,
  type PortalEnv,
} from './http.tsx';
import { STATUS_PATH } from './page.tsx';
import { findPortalSession, isCsrfTokenValid } from './sessions.ts';

export const SESSION_REQUIRED =
  'Your portal session has ended, was revoked, or was never opened in this browser. ' +
  'Portal links work once: ask the app that sent you here for a new link.';

const CROSS_ORIGIN: Message = {
  title: 'Request refused',
  message: 'This form was sent from another site. Go back to the portal and try again.',
  code: 'cross_origin_request',
};

const BAD_CSRF_TOKEN: Message = {
  title: 'Request refused',
  message:
    'This form is missing its security token or the token is wrong. ' +
    'Reload the portal and try again.',
  code: 'csrf_token_invalid',
};

/** Lets a request through only with a live session cookie, and sets `portal`. */
export function requireSession(deps: AppDeps): MiddlewareHandler<PortalEnv> {
  const { config } = deps;
  return async (c, next) => {
    const token = getCookie(c, cookieName(isHttps(c, config.publicUrl))) ?? '';
    const active = token ? await findPortalSession(deps.database.db, token) : undefined;
    if (!active && c.req.path === STATUS_PATH) {
      c.header('Cache-Control', 'no-store');
      throw new ApiError(401, 'portal_session_required', SESSION_REQUIRED);
    }
    if (!active) {
      return messagePage(c, config.portalFrameAncestors, 401, {
        title: 'Please open a new portal link',
        message: SESSION_REQUIRED,
      });
    }
    c.set('portal', { ...active, token });
    await next();
  };
}

function allowedOrigins(c: PortalContext, config: Config): Set<string> {
  const origins = new Set([new URL(c.req.url).origin]);
  if (config.publicUrl) origins.add(new URL(config.publicUrl).origin);
  return origins;
}

// Browsers send Origin (or at least Referer) with every form POST; a client that sends
// neither is still held to the session's CSRF token.
function fromThisSite(c: PortalContext, config: Config): boolean {
  const origin = c.req.header('origin');
  const referer = c.req.header('referer');
  if (origin !== undefined) return allowedOrigins(c, config).has(origin);
  if (referer === undefined) return true;
  return URL.canParse(referer) && allowedOrigins(c, config).has(new URL(referer).origin);
}

/** Refuses (403) a POST from another origin or without the session's CSRF token; sets `form`. */
export function requireCsrfToken(config: Config): MiddlewareHandler<PortalEnv> {
  return async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, string | File>);
    const embed = form.embed === '1';
    if (!fromThisSite(c, config)) {
      return messagePage(c, config.portalFrameAncestors, 403, CROSS_ORIGIN, embed);
    }
    if (!isCsrfTokenValid(c.get('portal').token, form.csrf_token)) {
      return messagePage(c, config.portalFrameAncestors, 403, BAD_CSRF_TOKEN, embed);
    }
    c.set('form', form);
    await next();
  };
}

/** Errors as pages (JSON for the status route); anything unexpected is logged as a 500. */
export function portalErrors(config: Config): ErrorHandler<PortalEnv> {
  return (error, c) => {
    const requestId = c.get('requestId') ?? 'unknown';
    const known = knownError(error);
    if (known && c.req.path === STATUS_PATH) {
      const body = { code: known.code, message: known.message, request_id: requestId };
      return c.json({ error: body }, known.status);
    }
    if (known) {
      return messagePage(c, config.portalFrameAncestors, known.status, {
        title: 'Something is not right',
        message: known.message,
        code: known.code,
      });
    }
    c.get('logger')?.error({ err: error, request_id: requestId }, 'portal request failed');
    return messagePage(c, config.portalFrameAncestors, 500, {
      title: 'Something went wrong',
      message: `The portal could not finish this request; quote request id ${requestId}.`,
      code: 'internal_error',
    });
  };
}
