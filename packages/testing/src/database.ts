// A fresh PostgreSQL database per test file, on the server that DATABASE_URL names.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** The server URL for tests, or undefined; under CI=true a missing DATABASE_URL is an error. */
export function postgresUrl(): string | undefined {
  const url = process.env.DATABASE_URL;
  if (url && !url.startsWith('memory:')) return url;
  if (process.env.CI === 'true') {
    throw new Error(
      'DATABASE_URL is not set: tests that need PostgreSQL must not skip under CI=true',
    );
  }
  return undefined;
}

/** Whether the PostgreSQL tests run here: true with DATABASE_URL, throws under CI without it. */
export function hasPostgres(): boolean {
  return postgresUrl() !== undefined;
}

/** Creates an empty database named after the caller and returns its URL; `drop()` removes it. */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const serverUrl = postgresUrl();
  if (!serverUrl) throw new Error('createTestDatabase needs DATABASE_URL');

  const safeLabel = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 30);
  const name = `vh_${safeLabel}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }

  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const sql = postgres(serverUrl, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await sql.end();
      }
    },
  };
}
