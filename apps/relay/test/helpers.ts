// Small builders for the relay's tests: a database per backend, an app, an authorized client.
import { Writable } from 'node:stream';
import { createTestDatabase, hasPostgres } from '@verihook/testing';
import { asc } from 'drizzle-orm';
import { createApp } from '../src/app.ts';
import { saveApiClient } from '../src/auth/clients.ts';
import { type Config, loadConfig } from '../src/config.ts';
import { type Database, openDatabase } from '../src/db/index.ts';
import { events } from '../src/db/schema/index.ts';
import { createLogger, type Logger } from '../src/logger.ts';

export type Backend = 'postgres' | 'pglite';

/** Both backends, PostgreSQL first; PostgreSQL is skipped locally without DATABASE_URL. */
export const BACKENDS: Backend[] = ['postgres', 'pglite'];

export function backendAvailable(backend: Backend): boolean {
  return backend === 'pglite' || hasPostgres();
}

export interface TestBackend {
  database: Database;
  url: string;
  /** Closes the database and, for PostgreSQL, drops it. */
  dispose(): Promise<void>;
}

/** A fresh, migrated database: its own PostgreSQL database, or PGlite in memory. */
export async function openTestBackend(backend: Backend, label: string): Promise<TestBackend> {
  if (backend === 'pglite') {
    const database = await openDatabase({
      databaseUrl: 'memory://',
      dataDir: '',
      environmentId: undefined,
    });
    return { database, url: 'memory://', dispose: () => database.close() };
  }
  const testDatabase = await createTestDatabase(label);
  const database = await openDatabase({
    databaseUrl: testDatabase.url,
    dataDir: '',
    environmentId: undefined,
  });
  return {
    database,
    url: testDatabase.url,
    async dispose() {
      await database.close();
      await testDatabase.drop();
    },
  };
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ DATABASE_URL: 'memory://', LOG_LEVEL: 'silent', ...env });
}

/** Collects a logger's JSON lines. */
export function captureLogs(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level: 'info' }, stream);
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines };
}

export type TestApp = ReturnType<typeof createApp>;

export function buildApp(
  database: Database,
  options: { config?: Config; logger?: Logger } = {},
): TestApp {
  return createApp({
    database,
    config: options.config ?? testConfig(),
    logger: options.logger ?? createLogger({ level: 'silent' }),
  });
}

export interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are inspected field by field
  body: any;
}

async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    headers: response.headers,
    body: type.includes('json') ? JSON.parse(text) : text,
  };
}

/** Calls the app as an authorized API client: `api.post('/api/v1/organizations', {...})`. */
export function apiClient(app: TestApp, token: string | undefined) {
  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...extra,
  });
  const send = async (method: string, path: string, body?: unknown) =>
    answer(
      await app.request(path, {
        method,
        headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    );
  return {
    get: (path: string) => send('GET', path),
    post: (path: string, body?: unknown) => send('POST', path, body),
    patch: (path: string, body?: unknown) => send('PATCH', path, body),
    delete: (path: string) => send('DELETE', path),
    raw: async (path: string, init: RequestInit) =>
      answer(
        await app.request(path, {
          ...init,
          headers: { ...headers(), ...(init.headers as Record<string, string>) },
        }),
      ),
  };
}

export type ApiClient = ReturnType<typeof apiClient>;

export const TEST_CLIENT = {
  clientId: 'test-client',
  clientSecret: 'test-client-secret-0123456789',
};

/** Stores the test client and returns a bearer token for it, through POST /oauth/token. */
export async function tokenFor(app: TestApp, database: Database): Promise<string> {
  await saveApiClient(database.db, TEST_CLIENT, 'test');
  const response = await app.request('/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'client_credentials',
      client_id: TEST_CLIENT.clientId,
      client_secret: TEST_CLIENT.clientSecret,
    }),
  });
  const body = (await response.json()) as { access_token: string };
  return body.access_token;
}

/** Every event in the outbox, oldest first. */
export async function allEvents(database: Database) {
  return database.db.select().from(events).orderBy(asc(events.sequence));
}

/** A response's JSON body, typed loosely for field-by-field assertions. */
// biome-ignore lint/suspicious/noExplicitAny: test bodies are inspected field by field
export async function readJson(response: Response): Promise<any> {
  return response.json();
}
