// API clients: created from the configuration, or generated once on an empty database.
import { eq, sql } from 'drizzle-orm';
import type { Config } from '../config.ts';
import type { Db } from '../db/index.ts';
import { apiClients, environment } from '../db/schema/index.ts';
import { newId } from '../ids.ts';
import { hashSecret, randomSecret, verifySecret } from './secrets.ts';

// Verifying an unknown client costs the same scrypt work as a known one.
let dummyHash: Promise<string> | undefined;

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** Stores a client with its secret hashed, or replaces the secret of the client with that id. */
export async function saveApiClient(
  db: Db,
  credentials: ClientCredentials,
  name: string,
): Promise<void> {
  const secretHash = await hashSecret(credentials.clientSecret);
  await db
    .insert(apiClients)
    .values({ id: credentials.clientId, name, secretHash })
    .onConflictDoUpdate({ target: apiClients.id, set: { secretHash } });
}

/** The client id when the id and secret match a stored client, otherwise undefined. */
export async function verifyClientCredentials(
  db: Db,
  credentials: ClientCredentials,
): Promise<string | undefined> {
  const [client] = await db
    .select({ id: apiClients.id, secretHash: apiClients.secretHash })
    .from(apiClients)
    .where(eq(apiClients.id, credentials.clientId));
  dummyHash ??= hashSecret(randomSecret(''));
  const matches = await verifySecret(
    credentials.clientSecret,
    client?.secretHash ?? (await dummyHash),
  );
  return client && matches ? client.id : undefined;
}

/**
 * Makes sure the first API client exists. With `VERIHOOK_CLIENT_ID`/`_SECRET` that client is
 * stored (its secret updated if it changed); without them, a client is generated when the
 * database has none, and its credentials are returned so that the caller can show them once.
 */
export async function ensureBootstrapClient(
  db: Db,
  config: Pick<Config, 'clientId' | 'clientSecret'>,
): Promise<{ generated: ClientCredentials | undefined }> {
  const { clientId, clientSecret } = config;
  if (clientId !== undefined && clientSecret !== undefined) {
    if ((await verifyClientCredentials(db, { clientId, clientSecret })) === undefined) {
      await saveApiClient(db, { clientId, clientSecret }, 'configured');
    }
    return { generated: undefined };
  }

  return db.transaction(async (tx) => {
    // The environment row serializes relay processes starting together on one database.
    await tx.select().from(environment).for('update');
    const [existing] = await tx.select({ count: sql<number>`count(*)::int` }).from(apiClients);
    if ((existing?.count ?? 0) > 0) return { generated: undefined };
    const generated = { clientId: newId('cli'), clientSecret: randomSecret('vh_cs_') };
    await saveApiClient(tx, generated, 'bootstrap');
    return { generated };
  });
}
