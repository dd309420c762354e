// The processed-messages table: the record that makes each message's effect happen once.
import type { VerihookEvent } from '@verihook/events';
import { eq } from 'drizzle-orm';
import type { Db, Tx } from './index.ts';
import { processedMessages } from './schema.ts';

/**
 * Records the message id inside the effect's transaction; false when it is already there. On
 * PostgreSQL a concurrent delivery of the same id waits here for the first one to commit or roll back.
 */
export async function recordMessage(tx: Tx, messageId: string, event: VerihookEvent) {
  const inserted = await tx
    .insert(processedMessages)
    .values({ messageId, eventId: event.id, eventType: event.type })
    .onConflictDoNothing()
    .returning({ messageId: processedMessages.messageId });
  return inserted.length > 0;
}

/** Whether a message id has been processed. */
export async function isProcessed(db: Db, messageId: string) {
  const [found] = await db
    .select({ messageId: processedMessages.messageId })
    .from(processedMessages)
    .where(eq(processedMessages.messageId, messageId));
  return found !== undefined;
}
