// POST /oauth/token: the OAuth 2.0 client-credentials grant (RFC 6749 §4.4), form or JSON.
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { verifyClientCredentials } from '../auth/clients.ts';
import { issueAccessToken } from '../auth/tokens.ts';
import type { AppDeps, AppEnv } from '../context.ts';
import { createRouter } from './shared.ts';

const TokenRequest = z
  .object({
    grant_type: z.string().optional().openapi({ example: 'client_credentials' }),
    client_id: z.string().optional(),
    client_secret: z.string().optional(),
  })
  .openapi('TokenRequest');

const TokenResponse = z
  .object({
    access_token: z.string(),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().openapi({ description: 'Seconds until the token expires.' }),
  })
  .openapi('TokenResponse');

const OAuthError = z
  .object({
    error: z.enum(['invalid_request', 'invalid_client', 'unsupported_grant_type']),
    error_description: z.string(),
  })
  .openapi('OAuthError');

const oauthError = (description: string) => ({
  description,
  content: { 'application/json': { schema: OAuthError } },
});

const token = createRoute({
  method: 'post',
  path: '/oauth/token',
  tags: ['Authentication'],
  summary: 'Get a bearer token (client credentials)',
  description:
    'Send grant_type=client_credentials with client_id and client_secret in the body (form or ' +
    'JSON) or as HTTP Basic authentication. Use the token as `Authorization: Bearer <token>`.',
  request: {
    body: {
      content: {
        'application/x-www-form-urlencoded': { schema: TokenRequest },
        'application/json': { schema: TokenRequest },
      },
    },
  },
  responses: {
    200: { description: 'A token.', content: { 'application/json': { schema: TokenResponse } } },
    400: oauthError('invalid_request or unsupported_grant_type.'),
    401: oauthError('invalid_client: unknown client or wrong secret.'),
  },
});

type OAuthErrorCode = z.infer<typeof OAuthError>['error'];

function fail(c: Context<AppEnv>, status: 400 | 401, error: OAuthErrorCode, description: string) {
  c.header('Cache-Control', 'no-store');
  if (status === 401) c.header('WWW-Authenticate', 'Basic realm="verihook"');
  return c.json({ error, error_description: description }, status);
}

// RFC 6749 §2.3.1: the id and secret are form-urlencoded before Basic encoding.
function basicCredentials(
  header: string | undefined,
): { id: string; secret: string } | undefined | null {
  const match = header ? /^Basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(header) : null;
  if (!header || !/^Basic /i.test(header)) return undefined;
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  try {
    return {
      id: decodeURIComponent(decoded.slice(0, colon).replaceAll('+', ' ')),
      secret: decodeURIComponent(decoded.slice(colon + 1).replaceAll('+', ' ')),
    };
  } catch {
    return null;
  }
}

export function oauthRoutes({ database, config }: AppDeps) {
  return createRouter().openapi(
    token,
    async (c) => {
      const body = { ...c.req.valid('form'), ...c.req.valid('json') } as Partial<
        z.infer<typeof TokenRequest>
      >;
      if (!body.grant_type) return fail(c, 400, 'invalid_request', 'grant_type is required');
      if (body.grant_type !== 'client_credentials') {
        return fail(
          c,
          400,
          'unsupported_grant_type',
          'Only grant_type=client_credentials is supported',
        );
      }

      const basic = basicCredentials(c.req.header('authorization'));
      if (basic === null)
        return fail(c, 400, 'invalid_request', 'Malformed Basic authorization header');
      if (basic && (body.client_id !== undefined || body.client_secret !== undefined)) {
        return fail(
          c,
          400,
          'invalid_request',
          'Send the client credentials once: Basic or body, not both',
        );
      }
      const clientId = basic?.id ?? body.client_id;
      const clientSecret = basic?.secret ?? body.client_secret;
      if (!clientId || !clientSecret) {
        return fail(c, 401, 'invalid_client', 'client_id and client_secret are required');
      }

      const verified = await verifyClientCredentials(database.db, { clientId, clientSecret });
      if (!verified) return fail(c, 401, 'invalid_client', 'Unknown client or wrong client_secret');
      const issued = await issueAccessToken(database.db, verified, config.tokenTtlMs);
      c.header('Cache-Control', 'no-store');
      c.header('Pragma', 'no-cache');
      return c.json(
        {
          access_token: issued.accessToken,
          token_type: 'Bearer' as const,
          expires_in: issued.expiresInSeconds,
        },
        200,
      );
    },
    (result, c) => {
      if (!result.success) {
        const description = result.error.issues
          .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
          .join('; ');
        return fail(c, 400, 'invalid_request', description);
      }
    },
  );
}
