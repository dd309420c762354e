// Real relay processes for the crash-safety tests: `node --import tsx src/index.ts`, spawned
// directly so that signals reach the relay itself, on a database the test prepared.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type Receiver, type TestDatabase } from '@verihook/testing';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../../src/config.ts';
import { type Database, openDatabase, queryRows } from '../../src/db/index.ts';
import { createEndpoint, getEndpointSecret } from '../../src/endpoints/service.ts';

const RELAY_DIR = fileURLToPath(new URL('../..', import.meta.url));

export interface RelayProcess {
  child: ChildProcess;
  /** Every JSON log line so far. */
  lines: Record<string, unknown>[];
  /** Resolves with the first log line `match` accepts. */
  waitForLine(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  exited: Promise<number | string>;
}

/** A relay process on `databaseUrl` with loopback endpoints allowed and short timeouts. */
export function spawnRelay(databaseUrl: string, env: Record<string, string> = {}): RelayProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: RELAY_DIR,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      HOST: '127.0.0.1',
      PORT: '0',
      VERIHOOK_CLIENT_ID: 'crash-test',
      VERIHOOK_CLIENT_SECRET: 'crash-test-secret-0123456789',
      VERIHOOK_ALLOW_PRIVATE_ENDPOINTS: 'true',
      VERIHOOK_REQUEST_TIMEOUT: '1s',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const watchers = new Set<() => void>();
  let buffered = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const complete = buffered.split('\n');
    buffered = complete.pop() ?? '';
    for (const text of complete) {
      if (text.startsWith('{')) lines.push(JSON.parse(text) as Record<string, unknown>);
    }
    for (const watch of watchers) watch();
  });
  child.stderr?.resume();
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });

  return {
    child,
    lines,
    exited,
    waitForLine(match, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`no matching log line in ${timeoutMs} ms`));
        }, timeoutMs);
        const check = () => {
          if (!lines.some(match)) return;
          clearTimeout(timer);
          watchers.delete(check);
          resolve();
        };
        watchers.add(check);
        check();
      });
    },
  };
}

export const workerStarted = (line: Record<string, unknown>) =>
  line.msg === 'delivery worker started';

/** Kills every process still running; for `afterEach`. */
export async function killAll(processes: RelayProcess[]): Promise<void> {
  for (const relay of processes.splice(0)) {
    if (relay.child.exitCode === null && relay.child.signalCode === null)
      relay.child.kill('SIGKILL');
    await relay.exited;
  }
}

export interface PreparedDatabase {
  testDatabase: TestDatabase;
  database: Database;
  endpointId: string;
  close(): Promise<void>;
}

/** A migrated test database with one endpoint for `receiver`, whose secret it learns. */
export async function prepareDatabase(
  label: string,
  receiver: Receiver,
): Promise<PreparedDatabase> {
  const testDatabase = await createTestDatabase(label);
  const config = loadConfig({ DATABASE_URL: testDatabase.url });
  const database = await openDatabase(config);
  const endpoint = await createEndpoint(
    database.db,
    { url: receiver.url },
    { allowPrivateEndpoints: true },
  );
  receiver.setSecrets([await getEndpointSecret(database.db, endpoint.id)]);
  return {
    testDatabase,
    database,
    endpointId: endpoint.id,
    async close() {
      await database.close();
      await testDatabase.drop();
    },
  };
}

export async function messageStatusCounts(database: Database): Promise<Record<string, number>> {
  const rows = await queryRows<{ status: string; count: number }>(
    database.db,
    sql`select status, count(*)::int as count from messages group by status order by status`,
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.count]));
}

/** How many requests and how many distinct webhook-ids a receiver has seen. */
export function deliveryCounts(receiver: Receiver) {
  const requests = receiver.requests.length;
  const distinct = new Set(receiver.requests.map((request) => request.headers['webhook-id'])).size;
  return { requests, distinct, duplicates: requests - distinct };
}
