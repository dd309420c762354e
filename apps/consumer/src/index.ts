// Starts the consumer: read the configuration, open and migrate the database, listen.
import { serve } from '@hono/node-server';
import { createApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { openDatabase } from './db/index.ts';
import { jsonLog } from './log.ts';

async function main() {
  const config = loadConfig();
  const database = await openDatabase(config.databaseUrl);
  const app = createApp({ db: database.db, config, log: jsonLog });

  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
    const url = `http://${info.family === 'IPv6' ? `[${info.address}]` : info.address}:${info.port}`;
    jsonLog({
      msg: 'listening',
      url,
      driver: database.driver,
      secrets: config.webhookSecrets.length,
    });
  });

  const stop = () => {
    server.close(async () => {
      await database.close();
      process.exit(0);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exit(1);
});
