// Test builders: configurations, signed requests made with svix, and fresh databases.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { Webhook } from 'svix';
import type { Config } from '../src/config.ts';
import { type Database, openDatabase } from '../src/db/index.ts';

/** A fresh Verihook-style secret: whsec_ and base64 of 32 random bytes. */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    port: 0,
    host: '127.0.0.1',
    webhookSecrets: [newSecret()],
    databaseUrl: 'memory://',
    maxBodyBytes: 1024 * 1024,
    toleranceSeconds: 300,
    ...overrides,
  };
}

let messageCounter = 0;

/** A message id like the relay's, unique within the test run. */
export function newMessageId(): string {
  messageCounter += 1;
  return `msg_test${messageCounter}${randomBytes(4).toString('hex')}`;
}

export interface SignOptions {
  secrets: string[];
  messageId?: string;
  timestampSeconds?: number;
}

/** The headers the relay sends for `body`: one v1 signature per secret, space-separated. */
export function signatureHeaders(body: string | Uint8Array, options: SignOptions) {
  const messageId = options.messageId ?? newMessageId();
  const seconds = options.timestampSeconds ?? Math.floor(Date.now() / 1000);
  const payload = typeof body === 'string' ? body : Buffer.from(body);
  const signatures = options.secrets.map((secret) =>
    new Webhook(secret).sign(messageId, new Date(seconds * 1000), payload),
  );
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(seconds),
    'webhook-signature': signatures.join(' '),
    'content-type': 'application/json',
  };
}

/** A POST /webhooks request as the relay would send it, ready for `app.request`. */
export function webhookRequest(body: string | Uint8Array, options: SignOptions): RequestInit {
  return { method: 'POST', headers: signatureHeaders(body, options), body };
}

/** The PostgreSQL server for tests; under CI=true its absence is an error, never a skip. */
export function postgresServerUrl(): string | undefined {
  const url = process.env.DATABASE_URL;
  if (url?.startsWith('postgres')) return url;
  if (process.env.CI === 'true') {
    throw new Error('DATABASE_URL is not set: under CI=true the PostgreSQL tests must run');
  }
  return undefined;
}

/** A new, empty, migrated database on the test server, dropped again by `close()`. */
export async function openFreshPostgres(serverUrl: string): Promise<Database> {
  const name = `consumer_test_${randomBytes(5).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE "${name}"`);

  const dropDatabase = async () => {
    await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  };

  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase(url.toString()).catch(async (error: unknown) => {
    await dropDatabase();
    throw error;
  });
  return {
    ...database,
    async close() {
      await database.close();
      await dropDatabase();
    },
  };
}

export interface Driver {
  name: 'pglite' | 'postgres';
  /** Set when the driver cannot run here: skip locally, or, under CI=true, fail with this error. */
  unavailable?: { skip: true } | { skip: false; error: Error };
  open(): Promise<Database>;
}

/** Both storage drivers; PostgreSQL needs DATABASE_URL, and under CI=true its absence fails. */
export function drivers(): Driver[] {
  const pglite: Driver = { name: 'pglite', open: () => openDatabase('memory://') };
  try {
    const serverUrl = postgresServerUrl();
    if (!serverUrl) return [pglite, { name: 'postgres', unavailable: { skip: true }, open: never }];
    return [pglite, { name: 'postgres', open: () => openFreshPostgres(serverUrl) }];
  } catch (error) {
    const unavailable = { skip: false as const, error: error as Error };
    return [pglite, { name: 'postgres', unavailable, open: never }];
  }
}

function never(): Promise<Database> {
  return Promise.reject(new Error('this driver is unavailable'));
}
