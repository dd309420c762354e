// Opens the database the configuration names and brings its schema up to date.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './schema.ts';

/** Either driver's drizzle database: PostgreSQL through postgres.js, or embedded PGlite. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** An open transaction on `Db`; handlers write through it so their effect commits with the message id. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** An open, migrated database and the way to close it. */
export interface Database {
  db: Db;
  driver: 'postgres' | 'pglite';
  close(): Promise<void>;
}

const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));
const DEFAULT_DATA_DIR = '.verihook/consumer';

/**
 * Opens `databaseUrl` (postgres://…), an in-memory PGlite (memory://), or, when it is unset, a
 * PGlite data directory (`.verihook/consumer` under the working directory); then migrates it.
 */
export async function openDatabase(
  databaseUrl: string | undefined,
  options: { dataDir?: string } = {},
): Promise<Database> {
  const database = databaseUrl?.startsWith('postgres')
    ? openPostgres(databaseUrl)
    : openPglite(databaseUrl === undefined ? (options.dataDir ?? DEFAULT_DATA_DIR) : undefined);

  try {
    await database.migrate();
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

function openPostgres(url: string): Database & { migrate(): Promise<void> } {
  const client = postgres(url, { max: 10, onnotice: () => {} });
  const db = drizzlePostgres({ client, schema });
  return {
    db,
    driver: 'postgres',
    migrate: () => migratePostgres(db, { migrationsFolder: MIGRATIONS_FOLDER }),
    close: () => client.end(),
  };
}

function openPglite(dataDir: string | undefined): Database & { migrate(): Promise<void> } {
  if (dataDir) mkdirSync(resolve(dataDir), { recursive: true });
  const client = dataDir ? new PGlite(resolve(dataDir)) : new PGlite();
  const db = drizzlePglite({ client, schema });
  return {
    db,
    driver: 'pglite',
    migrate: () => migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER }),
    close: () => client.close(),
  };
}
