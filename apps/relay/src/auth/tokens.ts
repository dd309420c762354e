// Short-lived bearer tokens for the client-credentials grant; only their hashes are stored.
import { and, eq, gt, lte } from 'drizzle-orm';
import type { Db } from '../db/index.ts';
import { accessTokens } from '../db/schema/index.ts';
import { hashToken, randomSecret } from './secrets.ts';

export interface IssuedToken {
  accessToken: string;
  expiresInSeconds: number;
}

/** Issues a token for `clientId` valid for `ttlMs`, and clears tokens that have expired. */
export async function issueAccessToken(
  db: Db,
  clientId: string,
  ttlMs: number,
): Promise<IssuedToken> {
  const now = new Date();
  const accessToken = randomSecret('vh_at_');
  await db.delete(accessTokens).where(lte(accessTokens.expiresAt, now));
  await db.insert(accessTokens).values({
    tokenHash: hashToken(accessToken),
    clientId,
    expiresAt: new Date(now.getTime() + ttlMs),
  });
  return { accessToken, expiresInSeconds: Math.floor(ttlMs / 1000) };
}

/** The client id a valid, unexpired token was issued to, otherwise undefined. */
export async function authenticateAccessToken(db: Db, token: string): Promise<string | undefined> {
  const [row] = await db
    .select({ clientId: accessTokens.clientId })
    .from(accessTokens)
    .where(
      and(eq(accessTokens.tokenHash, hashToken(token)), gt(accessTokens.expiresAt, new Date())),
    );
  return row?.clientId;
}
