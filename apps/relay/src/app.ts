// Builds the relay's HTTP app (without listening): middleware, routes, errors, OpenAPI.
import { createRequire } from 'node:module';
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { AppDeps, AppEnv } from './context.ts';
import { installFanOut } from './delivery/fanout.ts';
import { ApiError, onError, onNotFound, validationHook } from './errors.ts';
import { requireBearerToken } from './middleware/auth.ts';
import { requestLog } from './middleware/request-log.ts';
import { deliveryRoutes } from './routes/deliveries.ts';
import { domainRoutes } from './routes/domains.ts';
import { endpointRoutes } from './routes/endpoints.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { oauthRoutes } from './routes/oauth.ts';
import { registerOpenApiRoutes } from './routes/openapi.ts';
import { organizationRoutes } from './routes/organizations.ts';
import { portalRoutes } from './routes/portal.tsx';
import { portalLinkRoutes } from './routes/portal-links.ts';
import { verificationRoutes } from './routes/verification.ts';

export type { AppDeps, AppEnv } from './context.ts';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
const MAX_BODY_BYTES = 64 * 1024;

/** Routers mounted under /api/v1, behind bearer-token authentication. */
const API_ROUTERS: ((deps: AppDeps) => OpenAPIHono<AppEnv>)[] = [
  organizationRoutes,
  domainRoutes,
  verificationRoutes,
  eventRoutes,
  portalLinkRoutes,
  endpointRoutes,
  deliveryRoutes,
];

/** The relay's app; tests call `app.request`, `index.ts` serves it. */
export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  installFanOut(deps.config);
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.onError(onError);
  app.notFound(onNotFound);
  app.use('*', requestLog(deps.logger));
  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ApiError(
          413,
          'payload_too_large',
          `The request body is over ${MAX_BODY_BYTES} bytes`,
        );
      },
    }),
  );

  app.route('/', healthRoutes(deps));
  app.route('/', oauthRoutes(deps));
  app.route('/', portalRoutes(deps));
  app.use('/api/v1/*', requireBearerToken(deps.database.db));
  for (const router of API_ROUTERS) app.route('/api/v1', router(deps));
  registerOpenApiRoutes(app, { version, serverUrl: deps.config.publicUrl });
  return app;
}
