// /healthz (the process answers) and /readyz (the database answers and is fully migrated).
import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../context.ts';
import { checkReadiness, type Readiness } from '../db/index.ts';
import { ApiError } from '../errors.ts';
import { registry, renderMetrics } from '../metrics.ts';
import { createRouter, ErrorSchema, jsonResponse } from './shared.ts';

const READINESS_TIMEOUT_MS = 3_000;

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['Operations'],
  summary: 'Liveness',
  responses: { 200: jsonResponse(z.object({ status: z.literal('ok') }), 'The process is alive.') },
});

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['Operations'],
  summary: 'Readiness',
  responses: {
    200: jsonResponse(
      z.object({ status: z.literal('ready'), database: z.enum(['postgres', 'pglite']) }),
      'The database answers and every migration is applied.',
    ),
    503: jsonResponse(ErrorSchema, 'database_unreachable or migrations_pending.'),
  },
});

function withTimeout(readiness: Promise<Readiness>): Promise<Readiness> {
  return new Promise((resolve) => {
    const timer = setTimeout(
      () => resolve({ ready: false, reason: 'database_unreachable' }),
      READINESS_TIMEOUT_MS,
    );
    readiness.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve({ ready: false, reason: 'database_unreachable' });
      },
    );
  });
}

const metrics = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['Operations'],
  summary: 'Prometheus metrics',
  responses: {
    200: {
      description: 'Request, delivery and DNS check counters, and queue depths.',
      content: { 'text/plain': { schema: z.string() } },
    },
  },
});

export function healthRoutes({ database }: AppDeps) {
  return createRouter()
    .openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200))
    .openapi(readyz, async (c) => {
      const readiness = await withTimeout(checkReadiness(database.db));
      if (!readiness.ready) {
        const message =
          readiness.reason === 'migrations_pending'
            ? 'The database lacks migrations this relay needs'
            : 'The database does not answer';
        throw new ApiError(503, readiness.reason, message);
      }
      return c.json({ status: 'ready' as const, database: database.kind }, 200);
    })
    .openapi(metrics, async (c) => {
      const body = await renderMetrics(database.db);
      return c.text(body, 200, { 'content-type': registry.contentType });
    });
}
