// Opens the relay's database, PostgreSQL or embedded PGlite, and applies the migrations.
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { type SQL, sql } from 'drizzle-orm';
import type { PgDatabase } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { Config } from '../config.ts';
import { newId } from '../ids.ts';
import * as schema from './schema/index.ts';

export type Schema = typeof schema;

/** One drizzle type for both drivers: postgres.js and PGlite are both a `PgDatabase`. */
// biome-ignore lint/suspicious/noExplicitAny: the two drivers differ only in their query result type
export type Db = PgDatabase<any, Schema>;

/** The handle inside `db.transaction(async (tx) => …)`; it is also a `Db`. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** This deployment's `env_…` id, read from (or first written to) the database. */
  environmentId: string;
  /** Calls `onNotify` for each NOTIFY on `channel`; the returned function stops listening. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  /** Sends a NOTIFY now; inside a transaction use `notifyInTransaction` so it waits for commit. */
  notify(channel: string, payload?: string): Promise<void>;
  close(): Promise<void>;
}

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));
const MIGRATION_LOCK_KEY = 7_246_811_305;
const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

function checkChannel(channel: string): string {
  if (!CHANNEL.test(channel)) throw new Error(`"${channel}" is not a lower-case channel name`);
  return channel;
}

/** Queues a NOTIFY inside a transaction; PostgreSQL delivers it when the transaction commits. */
export async function notifyInTransaction(tx: Db, channel: string, payload = ''): Promise<void> {
  await tx.execute(sql`select pg_notify(${checkChannel(channel)}, ${payload})`);
}

async function ensureEnvironment(db: Db, configured: string | undefined): Promise<string> {
  return db.transaction(async (tx) => {
    await tx
      .insert(schema.environment)
      .values({ id: configured ?? newId('env') })
      .onConflictDoNothing();
    const [row] = await tx.select().from(schema.environment).for('update');
    if (!row) throw new Error('the environment row is missing after its insert');
    if (configured === undefined || row.id === configured) return row.id;
    await tx.update(schema.environment).set({ id: configured });
    return configured;
  });
}

async function openPostgres(url: string): Promise<Omit<Database, 'environmentId'>> {
  const client = postgres(url, { max: 10, connect_timeout: 10, onnotice: () => {} });
  const db = drizzlePostgres(client, { schema });

  // Several relay processes may start at once on one database: migrate one at a time, on one
  // connection of its own (drizzle cannot wrap a reserved postgres.js connection).
  const migrator = postgres(url, { max: 1, connect_timeout: 10, onnotice: () => {} });
  try {
    await migrator`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await migratePostgres(drizzlePostgres(migrator, { schema }), {
      migrationsFolder: MIGRATIONS_FOLDER,
    });
  } finally {
    await migrator`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
    await migrator.end();
  }

  return {
    db,
    kind: 'postgres',
    async listen(channel, onNotify) {
      const subscription = await client.listen(checkChannel(channel), onNotify);
      return () => subscription.unlisten();
    },
    async notify(channel, payload = '') {
      await client.notify(checkChannel(channel), payload);
    },
    close: () => client.end({ timeout: 5 }),
  };
}

async function openPglite(dataDir: string | undefined): Promise<Omit<Database, 'environmentId'>> {
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir);
  const db = drizzlePglite(client, { schema });
  await migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER });

  return {
    db,
    kind: 'pglite',
    async listen(channel, onNotify) {
      const unlisten = await client.listen(checkChannel(channel), onNotify);
      return () => unlisten();
    },
    async notify(channel, payload = '') {
      await client.query('select pg_notify($1, $2)', [checkChannel(channel), payload]);
    },
    close: () => client.close(),
  };
}

/**
 * Opens the database the configuration names (PostgreSQL for a `postgres://` URL, PGlite in
 * memory for `memory://`, PGlite in `dataDir` when unset), applies pending migrations and makes
 * sure the environment row exists.
 */
export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'environmentId'>,
): Promise<Database> {
  const url = config.databaseUrl;
  const opened =
    url === undefined
      ? await openPglite(config.dataDir)
      : url.startsWith('memory://')
        ? await openPglite(undefined)
        : await openPostgres(url);
  try {
    const environmentId = await ensureEnvironment(opened.db, config.environmentId);
    return { ...opened, environmentId };
  } catch (error) {
    await opened.close();
    throw error;
  }
}

/** Runs raw SQL and returns its rows, whichever driver is underneath. */
export async function queryRows<T extends Record<string, unknown>>(
  db: Db,
  query: SQL,
): Promise<T[]> {
  const result: unknown = await db.execute(query);
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

async function latestMigrationMillis(): Promise<number> {
  const journal = JSON.parse(await readFile(`${MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8')) as {
    entries: { when: number }[];
  };
  return Math.max(...journal.entries.map((entry) => entry.when));
}

async function appliedMigrationMillis(db: Db): Promise<number> {
  try {
    const [row] = await queryRows<{ created_at: string | null }>(
      db,
      sql`select max(created_at)::text as created_at from drizzle.__drizzle_migrations`,
    );
    return Number(row?.created_at ?? 0);
  } catch {
    return 0;
  }
}

export type Readiness =
  | { ready: true }
  | { ready: false; reason: 'database_unreachable' | 'migrations_pending' };

/** Whether the database answers and has every migration this build ships with. */
export async function checkReadiness(db: Db): Promise<Readiness> {
  try {
    await db.execute(sql`select 1`);
  } catch {
    return { ready: false, reason: 'database_unreachable' };
  }
  const applied = await appliedMigrationMillis(db);
  return applied >= (await latestMigrationMillis())
    ? { ready: true }
    : { ready: false, reason: 'migrations_pending' };
}
