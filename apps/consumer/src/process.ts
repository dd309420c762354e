// Turns verified bytes into an event and applies it exactly once.
import { dispatchEvent, isEventType, safeParseEvent, type VerihookEvent } from '@verihook/events';
import type { Db } from './db/index.ts';
import { recordMessage } from './db/messages.ts';
import { HttpError } from './errors.ts';
import type { Handlers } from './handlers/index.ts';

/** Parses a verified body into a Verihook event, or throws a 400 saying what is wrong with it. */
export function parseEventBody(body: Uint8Array): VerihookEvent {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw new HttpError(400, 'invalid_json', 'The body is not UTF-8 JSON.');
  }

  const type = (value as { type?: unknown } | null)?.type;
  if (!isEventType(type)) {
    const seen = typeof type === 'string' ? `'${type.slice(0, 100)}'` : 'none';
    throw new HttpError(400, 'unknown_event', `Not a Verihook event type: ${seen}.`);
  }
  const result = safeParseEvent(value);
  if (!result.success) {
    throw new HttpError(400, 'invalid_event', result.error.message, {
      issues: result.error.issues,
    });
  }
  return result.event;
}

/**
 * Records the message id and runs the event's handler in one transaction: the effect happens at
 * most once however often the relay delivers it, and a handler that throws leaves no trace.
 */
export async function processEvent(
  db: Db,
  messageId: string,
  event: VerihookEvent,
  handlers: Handlers,
): Promise<'processed' | 'duplicate'> {
  return db.transaction(async (tx) => {
    if (!(await recordMessage(tx, messageId, event))) return 'duplicate';
    await dispatchEvent(event, handlers(tx));
    return 'processed';
  });
}
