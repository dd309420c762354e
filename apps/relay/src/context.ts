// What every route and middleware receives: the app's dependencies and the per-request variables.
import type { Config } from './config.ts';
import type { Database } from './db/index.ts';
import type { HostLookup } from './delivery/ssrf.ts';
import type { Logger } from './logger.ts';

export interface AppDeps {
  database: Database;
  config: Config;
  logger: Logger;
  /** Resolves webhook endpoint hosts for the SSRF checks; the system resolver when absent. */
  lookup?: HostLookup;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    /** The request's logger, carrying its `request_id`. */
    logger: Logger;
    /** The API client whose bearer token authorized the request. */
    clientId: string;
  };
}
