// Verihook webhooks in Express. The one rule that matters: the webhook route gets the raw bytes.
import type { Server } from 'node:http';
import { safeParseEvent } from '@verihook/events';
import express from 'express';
import { Webhook, WebhookVerificationError } from 'svix';

export interface ExampleOptions {
  secret: string;
  maxBodyBytes?: number;
}

export function createExampleApp({
  secret,
  maxBodyBytes = 1024 * 1024,
}: ExampleOptions): express.Express {
  const webhook = new Webhook(secret.trim());
  const seenMessageIds = new Set<string>();
  const verifiedDomains = new Map<string, string>();
  const app = express();

  // express.raw on this route only: a global express.json() would hand svix a parsed object.
  app.post('/webhooks', express.raw({ type: () => true, limit: maxBodyBytes }), (req, res) => {
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const headers = {
      'webhook-id': req.get('webhook-id') ?? req.get('svix-id') ?? '',
      'webhook-timestamp': req.get('webhook-timestamp') ?? req.get('svix-timestamp') ?? '',
      'webhook-signature': req.get('webhook-signature') ?? req.get('svix-signature') ?? '',
    };

    try {
      webhook.verify(body, headers);
    } catch (error) {
      const reason =
        error instanceof WebhookVerificationError ? error.message : 'invalid signature';
      res.status(401).json({ error: reason });
      return;
    }

    const result = safeParseEvent(body);
    if (!result.success) {
      res.status(400).json({ error: result.error.code, issues: result.error.issues });
      return;
    }
    if (seenMessageIds.has(headers['webhook-id'])) {
      res.status(200).json({ duplicate: true });
      return;
    }

    seenMessageIds.add(headers['webhook-id']);
    const { type, data } = result.event;
    if (type === 'organization.domain_dns_verification_success') {
      verifiedDomains.set(data.domain, data.organization_id);
    } else if (
      type === 'organization.domain_deleted' ||
      type === 'organization.domain_dns_verification_failed'
    ) {
      verifiedDomains.delete(data.domain);
    }
    res.status(204).end();
  });

  app.use(express.json());
  app.get('/domains', (_req, res) => {
    res.json({ verified: Object.fromEntries(verifiedDomains) });
  });

  return app;
}

export function listen(app: express.Express, port: number, host = '127.0.0.1'): Promise<Server> {
  return new Promise((resolve) => {
    const server = app.listen(port, host, () => resolve(server));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const secret = process.env.WEBHOOK_SECRET;
  if (!secret) {
    console.error('WEBHOOK_SECRET is required (the endpoint secret, whsec_...)');
    process.exit(1);
  }
  const port = Number(process.env.PORT ?? 3001);
  await listen(createExampleApp({ secret }), port);
  console.log(`Express consumer listening on http://127.0.0.1:${port}/webhooks`);
}
