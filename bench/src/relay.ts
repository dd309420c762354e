// Verihook's own relay for the delivery stages: a database set up with the relay's code, events
// written through its transactional outbox (so fan-out runs as in production), relay processes.
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@verihook/relay/src/config.ts';
import { type Database, openDatabase, queryRows } from '@verihook/relay/src/db/index.ts';
import {
  domains,
  messages,
  type OrganizationRow,
  organizations as organizationsTable,
} from '@verihook/relay/src/db/schema/index.ts';
import { installFanOut } from '@verihook/relay/src/delivery/fanout.ts';
import {
  createEndpoint,
  disableEndpoint,
  enableEndpoint,
  getEndpointSecret,
  updateEndpoint,
} from '@verihook/relay/src/endpoints/service.ts';
import { recordEvent } from '@verihook/relay/src/events/outbox.ts';
import { newId } from '@verihook/relay/src/ids.ts';
import { createOrganization } from '@verihook/relay/src/organizations/service.ts';
import { inArray, sql } from 'drizzle-orm';
import { request } from 'undici';
import { type CommandChild, freePort, spawnCommand, waitUntilServing } from './child.ts';
import { processCpuMs } from './cpu.ts';
import type { Receiver } from './receiver-client.ts';

const RELAY_DIR = fileURLToPath(new URL('../../apps/relay/', import.meta.url));
const ORGANIZATIONS = 16;
const READY_TIMEOUT_MS = 60_000;
// Never contacted: endpoints point at the receiver before any event exists.
const PLACEHOLDER_URL = 'http://127.0.0.1:9/placeholder';
const POLICY = { allowPrivateEndpoints: true };

/** Where a relay keeps its data: PostgreSQL, or an embedded PGlite data directory. */
export type RelayLocation = { databaseUrl: string } | { dataDir: string };

export interface BenchEndpoint {
  id: string;
  secret: string;
}

/** The relay's database opened in this process, with organizations to add domains to. */
export interface RelayStore {
  database: Database;
  organizations: OrganizationRow[];
  close(): Promise<void>;
}

function relayEnv(location: RelayLocation): Record<string, string> {
  return 'databaseUrl' in location
    ? { DATABASE_URL: location.databaseUrl }
    : { DATABASE_URL: '', VERIHOOK_DATA_DIR: location.dataDir };
}

/** Opens (and migrates) the relay's database and installs the relay's fan-out in this process. */
export async function openRelayStore(location: RelayLocation): Promise<RelayStore> {
  const config = loadConfig(relayEnv(location));
  const database = await openDatabase(config);
  const uninstall = installFanOut(config);
  const [first] = await queryRows<{ count: number }>(
    database.db,
    sql`select count(*)::int as count from organizations`,
  );
  const organizations: OrganizationRow[] = [];
  if ((first?.count ?? 0) === 0) {
    for (let n = 0; n < ORGANIZATIONS; n += 1) {
      organizations.push(await createOrganization(database.db, { display_name: `Bench ${n}` }));
    }
  } else {
    organizations.push(...(await database.db.select().from(organizationsTable)));
  }
  return {
    database,
    organizations,
    async close() {
      uninstall();
      await database.close();
    },
  };
}

/** Creates `count` endpoints with the relay's endpoint service; their URLs are set later. */
export async function createEndpoints(store: RelayStore, count: number): Promise<BenchEndpoint[]> {
  const created: BenchEndpoint[] = [];
  for (let n = 0; n < count; n += 1) {
    const row = await createEndpoint(store.database.db, { url: PLACEHOLDER_URL }, POLICY);
    created.push({ id: row.id, secret: await getEndpointSecret(store.database.db, row.id) });
  }
  return created;
}

/** Points endpoint `i` at the receiver's `/endpoints/<first + i>`. */
export async function pointEndpoints(
  store: RelayStore,
  endpoints: readonly BenchEndpoint[],
  receiver: Receiver,
  first = 0,
) {
  for (const [n, endpoint] of endpoints.entries()) {
    const url = `${receiver.origin}${receiver.endpointPath(first + n)}`;
    await updateEndpoint(store.database.db, endpoint.id, { url }, POLICY);
  }
}

/** Enables exactly `enabled` among `all`: fan-out creates messages for enabled endpoints only. */
export async function enableOnly(
  store: RelayStore,
  all: readonly BenchEndpoint[],
  enabled: readonly BenchEndpoint[],
) {
  for (const endpoint of all) {
    if (enabled.includes(endpoint)) await enableEndpoint(store.database.db, endpoint.id);
    else await disableEndpoint(store.database.db, endpoint.id);
  }
}

function domainRow(organization: OrganizationRow, name: string, now: Date) {
  return {
    id: newId('dom'),
    organizationId: organization.id,
    domain: name,
    domainUnicode: name,
    domainType: 'ORGANIZATION_DOMAIN' as const,
    verificationStatus: 'VERIFIED' as const,
    verificationMethod: 'ADMIN' as const,
    createdAt: now,
    updatedAt: now,
  };
}

function organizationFor(store: RelayStore, n: number): OrganizationRow {
  const organization = store.organizations[n % store.organizations.length];
  if (!organization) throw new Error('the store has no organizations');
  return organization;
}

/**
 * Adds `count` admin-verified domains, `perTransaction` to a transaction: their rows in one
 * insert, then `recordEvent` for each (a domain_created event; the relay's fan-out hook creates
 * its messages inside the same transaction). `producers` transactions run at once.
 */
export async function produceBacklog(
  store: RelayStore,
  options: { tag: string; count: number; perTransaction: number; producers: number },
): Promise<void> {
  const { tag, count, perTransaction } = options;
  let next = 0;
  const producer = async () => {
    while (next < count) {
      const first = next;
      next = Math.min(count, next + perTransaction);
      const last = next;
      await store.database.db.transaction(async (tx) => {
        const now = new Date();
        const values = [];
        for (let n = first; n < last; n += 1) {
          values.push(domainRow(organizationFor(store, n), `${tag}-${n}.example.com`, now));
        }
        const rows = await tx.insert(domains).values(values).returning();
        for (const domain of rows) {
          const organization = store.organizations.find((org) => org.id === domain.organizationId);
          if (!organization) throw new Error(`no organization ${domain.organizationId}`);
          await recordEvent(tx, { type: 'organization.domain_created', organization, domain });
        }
      });
    }
  };
  await Promise.all(Array.from({ length: options.producers }, producer));
}

/** Adds one domain in its own transaction, with its event; answers the event id once committed. */
export async function produceOne(store: RelayStore, tag: string, n: number): Promise<string> {
  const organization = organizationFor(store, n);
  return store.database.db.transaction(async (tx) => {
    const now = new Date();
    const [domain] = await tx
      .insert(domains)
      .values(domainRow(organization, `${tag}-${n}.example.com`, now))
      .returning();
    if (!domain) throw new Error('insert into domains returned no row');
    const event = await recordEvent(tx, {
      type: 'organization.domain_created',
      organization,
      domain,
      occurredAt: now,
    });
    return event.id;
  });
}

/** The message ids fan-out gave these events (one endpoint enabled: one message each). */
export async function messageIdsOf(store: RelayStore, eventIds: string[]) {
  const rows = await store.database.db
    .select({ id: messages.id, eventId: messages.eventId })
    .from(messages)
    .where(inArray(messages.eventId, eventIds));
  return new Map(rows.map((row) => [row.eventId, row.id]));
}

/** Keeps the queue as fan-out wrote it (every message row), under `name`. */
export async function saveQueue(store: RelayStore, name: string): Promise<number> {
  const table = sql.raw(`bench_queue_${name}`);
  await store.database.db.execute(sql`drop table if exists ${table}`);
  await store.database.db.execute(sql`create table ${table} as select * from messages`);
  return countRows(store, `bench_queue_${name}`);
}

/**
 * Empties the queue (messages and their attempts) and puts back the first `limit` messages of
 * the saved queue `name` (all of them by default), then ANALYZEs, as autovacuum would after such
 * an insert. With no name, it only empties the queue.
 */
export async function restoreQueue(store: RelayStore, name?: string, limit?: number) {
  const { db } = store.database;
  await db.execute(sql`truncate attempts, messages`);
  if (name !== undefined) {
    const table = sql.raw(`bench_queue_${name}`);
    const cap = limit === undefined ? sql`` : sql`limit ${limit}`;
    await db.execute(
      sql`insert into messages select * from ${table} order by next_attempt_at, id ${cap}`,
    );
  }
  await db.execute(sql`analyze messages`);
  return countRows(store, 'messages');
}

async function countRows(store: RelayStore, table: string): Promise<number> {
  const [row] = await queryRows<{ count: number }>(
    store.database.db,
    sql`select count(*)::int as count from ${sql.raw(table)}`,
  );
  return row?.count ?? 0;
}

/** Counts of messages by status. */
export async function queueCounts(store: RelayStore): Promise<Record<string, number>> {
  const rows = await queryRows<{ status: string; count: number }>(
    store.database.db,
    sql`select status, count(*)::int as count from messages group by status order by status`,
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.count]));
}

export interface RelayProcess {
  pid: number;
  origin: string;
  /** CPU time of the relay process so far (ms). */
  cpuMs(): number;
  /** The relay's Prometheus metrics, as `GET /metrics` answers them. */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts a relay as it runs in production, `node --import tsx src/index.ts` in apps/relay, on
 * 127.0.0.1 with workers on, loopback endpoints allowed and warn-level logs; resolves once it
 * answers /healthz (its workers start right after it listens).
 */
export async function startRelayProcess(
  location: RelayLocation,
  nodeOptions: string[] = [],
): Promise<RelayProcess> {
  const port = await freePort();
  const args = [...nodeOptions, '--import', 'tsx', 'src/index.ts'];
  const child: CommandChild = spawnCommand(process.execPath, args, {
    cwd: RELAY_DIR,
    env: {
      ...relayEnv(location),
      HOST: '127.0.0.1',
      PORT: String(port),
      VERIHOOK_CLIENT_ID: 'bench',
      VERIHOOK_CLIENT_SECRET: 'bench-client-secret-0123456789',
      VERIHOOK_ALLOW_PRIVATE_ENDPOINTS: 'true',
      LOG_LEVEL: 'warn',
    },
  });
  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(child, `${origin}/healthz`, READY_TIMEOUT_MS, 'relay');
  } catch (error) {
    await child.stop();
    throw error;
  }
  return {
    pid: child.pid,
    origin,
    cpuMs: () => processCpuMs(child.pid) ?? 0,
    async metrics() {
      const response = await request(`${origin}/metrics`);
      return response.body.text();
    },
    stop: child.stop,
  };
}

export interface StepTotals {
  count: number;
  seconds: number;
  messages: number;
}

/** The delivery worker's time split, summed from its Prometheus histograms. */
export interface DeliveryTimings {
  claim: StepTotals;
  record: StepTotals;
  nextDue: StepTotals;
  leaseSweep: StepTotals;
  attempts: { count: number; seconds: number };
}

function series(text: string, name: string, labels = ''): number {
  const line = text
    .split('\n')
    .find((candidate) => candidate.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Reads the delivery worker's step histograms out of a `/metrics` text. */
export function parseDeliveryTimings(text: string): DeliveryTimings {
  const step = (name: string, withSizes: boolean): StepTotals => ({
    count: series(text, 'verihook_delivery_step_duration_seconds_count', `step="${name}"`),
    seconds: series(text, 'verihook_delivery_step_duration_seconds_sum', `step="${name}"`),
    messages: withSizes
      ? series(text, 'verihook_delivery_batch_messages_sum', `step="${name}"`)
      : 0,
  });
  return {
    claim: step('claim', true),
    record: step('record', true),
    nextDue: step('next_due', false),
    leaseSweep: step('lease_sweep', false),
    attempts: {
      count: series(text, 'verihook_delivery_attempt_duration_seconds_count'),
      seconds: series(text, 'verihook_delivery_attempt_duration_seconds_sum'),
    },
  };
}

/** Adds up the timings of several relay processes. */
export function sumTimings(all: DeliveryTimings[]): DeliveryTimings {
  const add = (a: StepTotals, b: StepTotals): StepTotals => ({
    count: a.count + b.count,
    seconds: a.seconds + b.seconds,
    messages: a.messages + b.messages,
  });
  const zero = { count: 0, seconds: 0, messages: 0 };
  return all.reduce(
    (sum, one) => ({
      claim: add(sum.claim, one.claim),
      record: add(sum.record, one.record),
      nextDue: add(sum.nextDue, one.nextDue),
      leaseSweep: add(sum.leaseSweep, one.leaseSweep),
      attempts: {
        count: sum.attempts.count + one.attempts.count,
        seconds: sum.attempts.seconds + one.attempts.seconds,
      },
    }),
    {
      claim: zero,
      record: zero,
      nextDue: zero,
      leaseSweep: zero,
      attempts: { count: 0, seconds: 0 },
    },
  );
}
