// Builders for the delivery tests: a relay on its own PostgreSQL database with an API client, a
// delivery worker, real receivers, and the rows the tests inspect.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { domainCreatedAdminVerified } from '@verihook/events/examples';
import { type Receiver, type ReceiverOptions, startReceiver } from '@verihook/testing';
import { asc, eq } from 'drizzle-orm';
import { createApp } from '../../src/app.ts';
import type { Config } from '../../src/config.ts';
import type { Database } from '../../src/db/index.ts';
import { attempts, endpoints, events, messages } from '../../src/db/schema/index.ts';
import { fanOutEvent } from '../../src/delivery/fanout.ts';
import type { HostLookup } from '../../src/delivery/ssrf.ts';
import { type DeliveryWorkerOptions, startDeliveryWorker } from '../../src/delivery/worker.ts';
import { newId } from '../../src/ids.ts';
import {
  type ApiClient,
  apiClient,
  type Backend,
  captureLogs,
  openTestBackend,
  testConfig,
  tokenFor,
} from '../helpers.ts';

/** Loopback receivers, a three-attempt schedule, a short request timeout. */
export const DELIVERY_ENV = {
  VERIHOOK_ALLOW_PRIVATE_ENDPOINTS: 'true',
  VERIHOOK_RETRY_SCHEDULE: '0,200ms,400ms',
  VERIHOOK_REQUEST_TIMEOUT: '2s',
};

/** The middle of the ±20 % jitter: every delay exactly as scheduled. */
export const NO_JITTER = { random: () => 0.5 };

export interface TestRelay {
  database: Database;
  config: Config;
  api: ApiClient;
  logs: ReturnType<typeof captureLogs>['lines'];
  /** Starts a delivery worker (one at a time); `stopWorker` stops it. */
  startWorker(options?: DeliveryWorkerOptions): Promise<void>;
  stopWorker(): Promise<void>;
  receiver(options?: Partial<ReceiverOptions>): Promise<Receiver>;
  close(): Promise<void>;
}

/** A relay on a fresh database (PostgreSQL unless asked), called through an authorized client. */
export async function openTestRelay(
  label: string,
  options: { env?: Record<string, string>; lookup?: HostLookup; backend?: Backend } = {},
): Promise<TestRelay> {
  const backend = await openTestBackend(options.backend ?? 'postgres', label);
  const config = testConfig({ ...DELIVERY_ENV, ...options.env });
  const { logger, lines } = captureLogs();
  const deps = { database: backend.database, config, logger, lookup: options.lookup };
  const app = createApp(deps);
  const api = apiClient(app, await tokenFor(app, backend.database));
  const receivers: Receiver[] = [];
  let stop: (() => Promise<void>) | undefined;

  const relay: TestRelay = {
    database: backend.database,
    config,
    api,
    logs: lines,
    async startWorker(workerOptions = {}) {
      stop = await startDeliveryWorker(deps, { ...NO_JITTER, ...workerOptions });
    },
    async stopWorker() {
      await stop?.();
      stop = undefined;
    },
    async receiver(receiverOptions = {}) {
      const receiver = await startReceiver({ secrets: [], ...receiverOptions });
      receivers.push(receiver);
      return receiver;
    },
    async close() {
      await relay.stopWorker();
      await Promise.all(receivers.map((receiver) => receiver.close()));
      await backend.dispose();
    },
  };
  return relay;
}

/** Registers an endpoint through the API; the receiver then verifies with its secret. */
export async function registerEndpoint(
  relay: TestRelay,
  receiver: Receiver | string,
  body: Record<string, unknown> = {},
) {
  const url = typeof receiver === 'string' ? receiver : receiver.url;
  const created = await relay.api.post('/api/v1/webhooks/endpoints', { url, ...body });
  if (created.status !== 201)
    throw new Error(`endpoint not created: ${JSON.stringify(created.body)}`);
  const id: string = created.body.endpoint.id;
  const { secret } = (await relay.api.get(`/api/v1/webhooks/endpoints/${id}/secret`)).body;
  if (typeof receiver !== 'string') receiver.setSecrets([secret]);
  return { id, secret: secret as string };
}

let domainCount = 0;

/** Creates an organization and adds a domain through the API: one domain_created event. */
export async function addDomain(relay: TestRelay, organizationId?: string) {
  const orgId =
    organizationId ??
    (await relay.api.post('/api/v1/organizations', { display_name: 'Acme Corp' })).body.organization
      .id;
  domainCount += 1;
  const domain = `acme-${domainCount}-${Date.now().toString(36)}.com`;
  const added = await relay.api.post(`/api/v1/organizations/${orgId}/domains`, { domain });
  if (added.status !== 201) throw new Error(`domain not added: ${JSON.stringify(added.body)}`);
  return { organizationId: orgId as string, domainId: added.body.domain.id as string, domain };
}

export async function messagesOf(database: Database, endpointId: string) {
  return database.db
    .select()
    .from(messages)
    .where(eq(messages.endpointId, endpointId))
    .orderBy(asc(messages.createdAt), asc(messages.id));
}

export async function attemptsOf(database: Database, messageId: string) {
  return database.db
    .select()
    .from(attempts)
    .where(eq(attempts.messageId, messageId))
    .orderBy(asc(attempts.attemptNumber));
}

export async function endpointRow(database: Database, endpointId: string) {
  const [row] = await database.db.select().from(endpoints).where(eq(endpoints.id, endpointId));
  if (!row) throw new Error(`no endpoint ${endpointId}`);
  return row;
}

/** Polls `read` until `done` holds for its value; throws with the last value after `timeoutMs`. */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`still not done after ${timeoutMs} ms: ${JSON.stringify(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A loopback URL on a port that was just closed: connecting is refused. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/webhooks`;
}

/**
 * Records `count` domain_created events (the example payload under fresh ids) and fans each out
 * with the relay's own fan-out, in one transaction; returns the event ids.
 */
export async function seedEvents(database: Database, count: number): Promise<string[]> {
  const batch = Array.from({ length: count }, () => ({
    ...domainCreatedAdminVerified,
    id: newId('evt'),
  }));
  await database.db.transaction(async (tx) => {
    for (let start = 0; start < batch.length; start += 1_000) {
      const rows = batch.slice(start, start + 1_000).map((event) => ({
        id: event.id,
        type: event.type,
        organizationId: event.organization_id,
        payload: event,
        occurredAt: new Date(event.occurred_at),
      }));
      await tx.insert(events).values(rows);
    }
    for (const event of batch) await fanOutEvent(tx, event, { firstAttemptDelayMs: 0 });
  });
  return batch.map((event) => event.id);
}
