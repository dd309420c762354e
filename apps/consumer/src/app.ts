// Builds the consumer's Hono app without listening, so tests call `app.request` directly.
import { Hono, type MiddlewareHandler } from 'hono';
import type { Config } from './config.ts';
import type { Db } from './db/index.ts';
import { errorResponse, HttpError } from './errors.ts';
import { handlers as defaultHandlers, type Handlers } from './handlers/index.ts';
import { errorText, type Log, silentLog } from './log.ts';
import { lookupRoutes } from './routes/lookup.ts';
import { webhookRoutes } from './routes/webhooks.ts';

export interface AppOptions {
  db: Db;
  config: Config;
  handlers?: Handlers;
  log?: Log;
}

/**
 * Refuses any query parameter holding a NUL character, on every route: PostgreSQL and PGlite text
 * cannot store or compare it, so it would otherwise surface as a 500 from the database driver.
 */
const rejectNulInQuery: MiddlewareHandler = async (c, next) => {
  for (const [name, values] of Object.entries(c.req.queries())) {
    if (name.includes('\0') || values.some((value) => value.includes('\0'))) {
      const shown = name.includes('\0')
        ? 'A query parameter name'
        : `The ${name.slice(0, 100)} query parameter`;
      throw new HttpError(400, 'invalid_parameter', `${shown} contains a NUL character.`);
    }
  }
  await next();
};

export function createApp({ db, config, handlers = defaultHandlers, log = silentLog }: AppOptions) {
  const app = new Hono();

  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    const { method, path } = c.req;
    log({ msg: 'request', method, path, status: c.res.status, duration_ms: durationMs });
  });
  app.use(rejectNulInQuery);

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.route('/', webhookRoutes({ db, config, handlers, log }));
  app.route('/', lookupRoutes({ db }));

  app.notFound((c) => errorResponse(c, new HttpError(404, 'not_found', 'No such route.')));
  app.onError((error, c) => {
    if (error instanceof HttpError) {
      if (error.status < 500) log({ msg: 'rejected', path: c.req.path, code: error.code });
      return errorResponse(c, error);
    }
    log({
      msg: 'unhandled error',
      method: c.req.method,
      path: c.req.path,
      error: errorText(error),
    });
    return errorResponse(c, new HttpError(500, 'internal_error', 'The request failed.'));
  });
  return app;
}
