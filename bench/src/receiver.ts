// A webhook receiver in its own process (forked by receiver-client.ts): node:http on 127.0.0.1,
// every request verified with svix as a real consumer would, counted, and its receipt timed.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Webhook } from 'svix';

interface Counts {
  received: number;
  verified: number;
  failed: number;
}

interface Waiter {
  count: number;
  resolve(): void;
}

const ENDPOINT_PATH = /^\/endpoints\/(\d+)$/;
const MAX_WAIT_MS = 600_000;

const secrets = JSON.parse(process.env.RECEIVER_SECRETS ?? '[]') as string[];
const webhooks = secrets.map((secret) => new Webhook(secret));
const state = freshState();

function freshState() {
  return {
    total: counts(),
    byEndpoint: secrets.map(counts),
    receipts: new Map<string, number>(),
    duplicates: 0,
    firstReceiptAt: null as number | null,
    lastReceiptAt: null as number | null,
    /** When each handled (verified or failed) request was answered, in order. */
    handledAt: [] as number[],
    waiters: [] as Waiter[],
  };
}

function counts(): Counts {
  return { received: 0, verified: 0, failed: 0 };
}

const server = createServer((request, response) => {
  const url = request.url ?? '/';
  if (url.startsWith('/_control/')) {
    control(request, response, new URL(url, 'http://receiver')).catch((error: Error) => {
      response.writeHead(500).end(error.message);
    });
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => receive(url, Buffer.concat(chunks).toString('utf8'), request, response));
});
server.keepAliveTimeout = 30_000;

function receive(url: string, body: string, request: IncomingMessage, response: ServerResponse) {
  const at = performance.timeOrigin + performance.now();
  const index = Number(ENDPOINT_PATH.exec(url)?.[1] ?? -1);
  const webhook = webhooks[index];
  const endpoint = state.byEndpoint[index];
  state.total.received += 1;
  if (endpoint) endpoint.received += 1;
  state.firstReceiptAt ??= at;
  state.lastReceiptAt = at;
  if (!webhook || !endpoint) return answer(response, 404, state.total, undefined, at);

  try {
    webhook.verify(body, request.headers as Record<string, string>);
    JSON.parse(body);
  } catch {
    return answer(response, 401, state.total, endpoint, at);
  }
  const id = String(request.headers['webhook-id']);
  if (state.receipts.has(id)) state.duplicates += 1;
  else state.receipts.set(id, at);
  answer(response, 204, state.total, endpoint, at);
}

function answer(
  response: ServerResponse,
  status: number,
  total: Counts,
  endpoint: Counts | undefined,
  at: number,
) {
  const key = status === 204 ? 'verified' : 'failed';
  total[key] += 1;
  if (endpoint) endpoint[key] += 1;
  response.writeHead(status).end();
  state.handledAt.push(at);
  settleWaiters();
}

function settleWaiters() {
  if (state.waiters.length === 0) return;
  const handled = state.handledAt.length;
  for (const waiter of state.waiters.filter((candidate) => handled >= candidate.count)) {
    waiter.resolve();
  }
}

async function control(request: IncomingMessage, response: ServerResponse, url: URL) {
  const route = `${request.method} ${url.pathname}`;
  if (route === 'GET /_control/stats') return json(response, stats());
  if (route === 'GET /_control/receipts') return json(response, [...state.receipts]);
  if (route === 'GET /_control/wait') return json(response, await waitFor(url));
  if (route === 'POST /_control/reset') {
    for (const waiter of state.waiters) waiter.resolve();
    Object.assign(state, freshState());
    return json(response, stats());
  }
  response.writeHead(404).end();
}

function waitFor(url: URL) {
  const count = Number(url.searchParams.get('count'));
  const timeoutMs = Math.min(Number(url.searchParams.get('timeoutMs') ?? 10_000), MAX_WAIT_MS);
  if (!Number.isInteger(count) || count < 1) throw new Error('count must be a positive integer');
  const result = () => {
    const reachedAt = state.handledAt[count - 1];
    return { reached: reachedAt !== undefined, reachedAt: reachedAt ?? null, ...stats() };
  };
  if (state.handledAt.length >= count) return Promise.resolve(result());

  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(), timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      state.waiters = state.waiters.filter((waiter) => waiter !== entry);
      resolve(result());
    };
    const entry: Waiter = { count, resolve: finish };
    state.waiters.push(entry);
  });
}

function stats() {
  const cpu = process.cpuUsage();
  return {
    ...state.total,
    duplicates: state.duplicates,
    byEndpoint: state.byEndpoint,
    firstReceiptAt: state.firstReceiptAt,
    lastReceiptAt: state.lastReceiptAt,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

function json(response: ServerResponse, value: unknown) {
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

function shutdown() {
  server.close();
  server.closeAllConnections();
  process.exit(0);
}

process.on('SIGTERM', shutdown);
process.on('disconnect', shutdown);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.send?.({ type: 'ready', port });
});
