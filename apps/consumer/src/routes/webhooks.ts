// POST /webhooks: read the raw body once, verify it, parse it, apply it exactly once.
import { Hono } from 'hono';
import type { Config } from '../config.ts';
import type { Db } from '../db/index.ts';
import { HttpError } from '../errors.ts';
import type { Handlers } from '../handlers/index.ts';
import { errorText, type Log } from '../log.ts';
import { parseEventBody, processEvent } from '../process.ts';
import { readRawBody, WebhookVerifier } from '../verify.ts';

export function webhookRoutes(deps: { db: Db; config: Config; handlers: Handlers; log: Log }) {
  const verifier = new WebhookVerifier(deps.config.webhookSecrets, {
    toleranceSeconds: deps.config.toleranceSeconds,
  });

  return new Hono().post('/webhooks', async (c) => {
    const body = await readRawBody(c.req.raw, deps.config.maxBodyBytes);
    const messageId = verifier.verify(body, c.req.raw.headers);
    // A signed empty body (a ping) is valid Standard Webhooks but carries no event: acknowledge it.
    if (body.length === 0) return c.json({ received: true, ignored: 'empty_body' });

    const event = parseEventBody(body);
    const context = { message_id: messageId, event_id: event.id, type: event.type };
    try {
      const outcome = await processEvent(deps.db, messageId, event, deps.handlers);
      deps.log({ msg: 'webhook', ...context, outcome });
      return c.json({ received: true, duplicate: outcome === 'duplicate' });
    } catch (cause) {
      deps.log({ msg: 'webhook failed', ...context, error: errorText(cause) });
      // Nothing was committed: a 5xx makes the relay deliver the message again later.
      throw new HttpError(500, 'processing_failed', 'The event was not applied; send it again.', {
        cause,
      });
    }
  });
}
