// A real webhook receiver on 127.0.0.1 that verifies every request with svix and standardwebhooks.
import { createServer, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';

export interface ReceivedRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, decoded as UTF-8. */
  body: string;
  /** Whether svix accepted the request with any of the receiver's secrets. */
  verifiedSvix: boolean;
  /** Whether standardwebhooks accepted the request with any of the receiver's secrets. */
  verifiedStandard: boolean;
  /** The receiver's secrets that both libraries accepted, in the receiver's order. */
  verifiedSecrets: string[];
  receivedAt: Date;
}

export interface ReceiverReply {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Waits this long before answering. */
  delayMs?: number;
}

export interface ReceiverOptions {
  secrets: string[];
  /** Decides each answer; `n` counts requests from 1. Without it every request gets a 204. */
  respond?: (request: ReceivedRequest, n: number) => ReceiverReply | Promise<ReceiverReply>;
}

export interface Receiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Resolves with the requests once at least `n` have arrived; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /** Replaces the secrets that later requests are verified with (for rotation tests). */
  setSecrets(secrets: string[]): void;
  close(): Promise<void>;
}

interface Waiter {
  n: number;
  resolve: (requests: ReceivedRequest[]) => void;
}

/** Starts a receiver on 127.0.0.1 with a free port; its `url` ends in `/webhooks`. */
export async function startReceiver(options: ReceiverOptions): Promise<Receiver> {
  let secrets = [...options.secrets];
  const requests: ReceivedRequest[] = [];
  const waiters = new Set<Waiter>();
  const timers = new Set<NodeJS.Timeout>();
  const respond = options.respond ?? (() => ({ status: 204 }));

  const server = createServer(async (req, res) => {
    const raw = await readBody(req).catch(() => undefined);
    if (!raw) return void res.destroy();
    const request = recordOf(req, raw, secrets);
    requests.push(request);
    for (const waiter of waiters) {
      if (requests.length >= waiter.n) waiter.resolve([...requests]);
    }

    let reply: ReceiverReply;
    try {
      reply = await respond(request, requests.length);
    } catch (error) {
      reply = { status: 500, body: `respond threw: ${(error as Error).message}` };
    }
    const answer = () => {
      if (res.destroyed) return;
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body);
    };
    if (!reply.delayMs) return answer();
    const timer = setTimeout(() => {
      timers.delete(timer);
      answer();
    }, reply.delayMs);
    timers.add(timer);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    port,
    requests,
    waitFor(n, timeoutMs = 5000) {
      if (requests.length >= n) return Promise.resolve([...requests]);
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          n,
          resolve(found) {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(found);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(`the receiver got ${requests.length} of ${n} requests in ${timeoutMs} ms`),
          );
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    setSecrets(next) {
      secrets = [...next];
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function recordOf(req: IncomingMessage, raw: Buffer, secrets: string[]): ReceivedRequest {
  const headers = flatHeaders(req.headers);
  const bySvix = secrets.filter((secret) =>
    accepts(() => new SvixWebhook(secret).verify(raw, headers)),
  );
  const byStandard = secrets.filter((secret) =>
    accepts(() => new StandardWebhook(secret).verify(raw, headers, { jsonParse: false })),
  );
  return {
    method: req.method ?? '',
    path: req.url ?? '',
    headers: req.headers,
    body: raw.toString('utf8'),
    verifiedSvix: bySvix.length > 0,
    verifiedStandard: byStandard.length > 0,
    verifiedSecrets: bySvix.filter((secret) => byStandard.includes(secret)),
    receivedAt: new Date(),
  };
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function accepts(verify: () => unknown): boolean {
  try {
    verify();
    return true;
  } catch {
    return false;
  }
}
