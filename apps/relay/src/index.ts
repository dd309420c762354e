// Starts the relay: configuration, database, first API client, HTTP server, background workers.
import { serve } from '@hono/node-server';
import { createApp } from './app.ts';
import { ensureBootstrapClient } from './auth/clients.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import type { AppDeps } from './context.ts';
import { type Database, openDatabase } from './db/index.ts';
import { startDeliveryWorker } from './delivery/worker.ts';
import { createLogger, type Logger } from './logger.ts';
import { startVerificationWorker } from './verification/scheduler.ts';

/** A background worker started with the server; the function it returns stops it. */
export type BackgroundWorker = (deps: AppDeps) => Promise<() => Promise<void>>;

/** Workers this process runs when `VERIHOOK_WORKERS` is true (verification, delivery). */
const BACKGROUND_WORKERS: BackgroundWorker[] = [startVerificationWorker, startDeliveryWorker];

async function startBackground(deps: AppDeps): Promise<(() => Promise<void>)[]> {
  if (!deps.config.workers) return [];
  const stops: (() => Promise<void>)[] = [];
  for (const start of BACKGROUND_WORKERS) stops.push(await start(deps));
  return stops;
}

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems)
      process.stderr.write(`Invalid configuration: ${problem}\n`);
    process.exit(1);
  }
}

async function openOrExit(config: Config, logger: Logger): Promise<Database> {
  try {
    return await openDatabase(config);
  } catch (error) {
    logger.fatal({ err: error }, 'could not open the database');
    process.exit(1);
  }
}

// stdout is a pipe under a supervisor: lines still buffered at process.exit would be lost.
function exitAfterFlush(logger: Logger, code: number): void {
  const timer = setTimeout(() => process.exit(code), 2_000);
  logger.flush(() => {
    clearTimeout(timer);
    process.exit(code);
  });
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger({ level: config.logLevel });
  const database = await openOrExit(config, logger);
  const deps: AppDeps = { database, config, logger };

  const { generated } = await ensureBootstrapClient(database.db, config);
  if (generated) {
    process.stdout.write(
      `Created the first API client; its secret is shown only now: ` +
        `VERIHOOK_CLIENT_ID=${generated.clientId} VERIHOOK_CLIENT_SECRET=${generated.clientSecret}\n`,
    );
  }

  const app = createApp(deps);
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (info) => {
    const url = `http://${info.family === 'IPv6' ? `[${info.address}]` : info.address}:${info.port}`;
    logger.info(
      { url, database: database.kind, environment_id: database.environmentId },
      'listening',
    );
  });
  server.on('error', (error) => {
    logger.fatal({ err: error }, 'the HTTP server failed');
    exitAfterFlush(logger, 1);
  });
  const stops = await startBackground(deps);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      if ('closeIdleConnections' in server) server.closeIdleConnections();
    });
    for (const stop of stops) await stop();
    await database.close();
    logger.info('stopped');
    exitAfterFlush(logger, 0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

await main();
