// One log line per request, and a request id on every response (`X-Request-Id`).
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../context.ts';
import { newId } from '../ids.ts';
import type { Logger } from '../logger.ts';
import { httpRequests } from '../metrics.ts';

const INCOMING_ID = /^[0-9A-Za-z._:-]{1,128}$/;

/** Sets `requestId` and the request's `logger`, echoes the id, logs the outcome. */
export function requestLog(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && INCOMING_ID.test(incoming) ? incoming : newId('req');
    c.set('requestId', requestId);
    c.set('logger', logger.child({ request_id: requestId }));
    c.header('X-Request-Id', requestId);

    await next();

    c.res.headers.set('X-Request-Id', requestId);
    const durationMs = performance.now() - started;
    httpRequests.observe({ method: c.req.method, status: c.res.status }, durationMs / 1000);
    logger.info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        duration_ms: Math.round(durationMs * 10) / 10,
        request_id: requestId,
      },
      'request',
    );
  };
}
