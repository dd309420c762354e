import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBootstrapClient, verifyClientCredentials } from '../src/auth/clients.ts';
import { checkReadiness, notifyInTransaction, queryRows } from '../src/db/index.ts';
import { apiClients } from '../src/db/schema/index.ts';
import {
  BACKENDS,
  backendAvailable,
  buildApp,
  openTestBackend,
  readJson,
  type TestBackend,
} from './helpers.ts';

const until = async (check: () => boolean, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe.each(BACKENDS)('database on %s', (backend) => {
  let testBackend: TestBackend;

  beforeAll(async () => {
    if (!backendAvailable(backend)) return;
    testBackend = await openTestBackend(backend, 'database');
  });
  afterAll(async () => testBackend?.dispose());

  describe.skipIf(!backendAvailable(backend))('LISTEN / NOTIFY', () => {
    it('delivers a notification with its payload, until unlisten', async () => {
      const received: string[] = [];
      const unlisten = await testBackend.database.listen('vh_test_wakeup', (payload) =>
        received.push(payload),
      );

      await testBackend.database.notify('vh_test_wakeup', 'first');
      await until(() => received.length === 1);
      await unlisten();
      await testBackend.database.notify('vh_test_wakeup', 'second');
      await new Promise((resolve) => setTimeout(resolve, 100));

      expect(received).toEqual(['first']);
    });

    it('delivers a notification queued in a transaction only when it commits', async () => {
      const received: string[] = [];
      const unlisten = await testBackend.database.listen('vh_test_commit', (payload) =>
        received.push(payload),
      );

      await expect(
        testBackend.database.db.transaction(async (tx) => {
          await notifyInTransaction(tx, 'vh_test_commit', 'rolled back');
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      await testBackend.database.db.transaction(async (tx) => {
        await notifyInTransaction(tx, 'vh_test_commit', 'committed');
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(received).toEqual([]);
      });
      await until(() => received.length === 1);
      await unlisten();

      expect(received).toEqual(['committed']);
    });

    it('refuses channel names that would need quoting', async () => {
      await expect(testBackend.database.notify('Bad-Channel')).rejects.toThrow(
        '"Bad-Channel" is not a lower-case channel name',
      );
    });
  });

  describe.skipIf(!backendAvailable(backend))('readiness', () => {
    it('is ready once migrated, and says so on /readyz', async () => {
      const response = await buildApp(testBackend.database).request('/readyz');

      expect(await checkReadiness(testBackend.database.db)).toEqual({ ready: true });
      expect(response.status).toBe(200);
      expect(await readJson(response)).toEqual({ status: 'ready', database: backend });
    });

    it('reports migrations_pending when the database lacks a migration', async () => {
      const db = testBackend.database.db;
      const [latest] = await queryRows<{ id: number; hash: string; created_at: string }>(
        db,
        sql`select id, hash, created_at::text as created_at from drizzle.__drizzle_migrations order by created_at desc limit 1`,
      );
      await db.execute(sql`delete from drizzle.__drizzle_migrations where id = ${latest?.id}`);

      const response = await buildApp(testBackend.database).request('/readyz');
      await db.execute(
        sql`insert into drizzle.__drizzle_migrations (id, hash, created_at) values (${latest?.id}, ${latest?.hash}, ${latest?.created_at})`,
      );

      expect(response.status).toBe(503);
      expect((await readJson(response)).error).toEqual({
        code: 'migrations_pending',
        message: 'The database lacks migrations this relay needs',
        request_id: expect.any(String),
      });
      expect(await checkReadiness(db)).toEqual({ ready: true });
    });

    it('reports database_unreachable once the database is closed', async () => {
      const own = await openTestBackend(backend, 'closed');
      await own.database.close();

      const response = await buildApp(own.database).request('/readyz');

      expect(response.status).toBe(503);
      expect((await readJson(response)).error.code).toBe('database_unreachable');
      if (backend === 'postgres') await own.dispose().catch(() => {});
    });
  });

  describe.skipIf(!backendAvailable(backend))('environment and first client', () => {
    it('keeps one environment id per database', async () => {
      const [row] = await queryRows<{ id: string }>(
        testBackend.database.db,
        sql`select id from environment`,
      );

      expect(testBackend.database.environmentId).toMatch(/^env_[0-9A-Z]{26}$/);
      expect(row?.id).toBe(testBackend.database.environmentId);
    });

    it('generates a first client once, and never again', async () => {
      const db = testBackend.database.db;
      await db.delete(apiClients);
      const first = await ensureBootstrapClient(db, {
        clientId: undefined,
        clientSecret: undefined,
      });
      const second = await ensureBootstrapClient(db, {
        clientId: undefined,
        clientSecret: undefined,
      });

      expect(first.generated?.clientId).toMatch(/^cli_[0-9A-Z]{26}$/);
      expect(first.generated?.clientSecret).toMatch(/^vh_cs_[A-Za-z0-9_-]{43}$/);
      expect(second.generated).toBeUndefined();
      expect(
        await verifyClientCredentials(db, first.generated ?? { clientId: '', clientSecret: '' }),
      ).toBe(first.generated?.clientId);
      expect(await db.select({ id: apiClients.id }).from(apiClients)).toEqual([
        { id: first.generated?.clientId },
      ]);
    });

    it('stores the configured client, and follows a changed secret', async () => {
      const db = testBackend.database.db;
      const old = { clientId: 'platform', clientSecret: 'first-secret-0123456789' };
      const rotated = { clientId: 'platform', clientSecret: 'second-secret-0123456789' };

      expect((await ensureBootstrapClient(db, old)).generated).toBeUndefined();
      expect(await verifyClientCredentials(db, old)).toBe('platform');
      await ensureBootstrapClient(db, rotated);

      expect(await verifyClientCredentials(db, old)).toBeUndefined();
      expect(await verifyClientCredentials(db, rotated)).toBe('platform');
    });
  });
});
