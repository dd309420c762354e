// Bearer-token authentication for the API (RFC 6750).
import type { MiddlewareHandler } from 'hono';
import { authenticateAccessToken } from '../auth/tokens.ts';
import type { AppEnv } from '../context.ts';
import type { Db } from '../db/index.ts';
import { ApiError } from '../errors.ts';

const BEARER = /^Bearer[ \t]+([A-Za-z0-9._~+/-]+=*)[ \t]*$/i;

function unauthorized(code: 'unauthorized' | 'invalid_token', message: string): ApiError {
  const challenge =
    code === 'invalid_token'
      ? 'Bearer realm="verihook", error="invalid_token"'
      : 'Bearer realm="verihook"';
  return new ApiError(401, code, message, { headers: { 'WWW-Authenticate': challenge } });
}

/** Lets a request through only with a valid bearer token, and sets `clientId`. */
export function requireBearerToken(db: Db): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) {
      throw unauthorized('unauthorized', 'Send a bearer token from POST /oauth/token');
    }
    const token = BEARER.exec(header)?.[1];
    const clientId = token ? await authenticateAccessToken(db, token) : undefined;
    if (!clientId)
      throw unauthorized('invalid_token', 'The bearer token is invalid or has expired');
    c.set('clientId', clientId);
    await next();
  };
}
