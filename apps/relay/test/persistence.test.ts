import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, hasPostgres } from '@verihook/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBootstrapClient } from '../src/auth/clients.ts';
import { checkReadiness, openDatabase } from '../src/db/index.ts';
import { apiClient, buildApp, tokenFor } from './helpers.ts';

describe.skipIf(!hasPostgres())('PostgreSQL startup', () => {
  it('lets several relay processes migrate one empty database at once', async () => {
    const testDatabase = await createTestDatabase('parallel_migrate');
    const config = { databaseUrl: testDatabase.url, dataDir: '', environmentId: undefined };

    const opened = await Promise.all([
      openDatabase(config),
      openDatabase(config),
      openDatabase(config),
    ]);

    expect(new Set(opened.map((database) => database.environmentId)).size).toBe(1);
    for (const database of opened)
      expect(await checkReadiness(database.db)).toEqual({ ready: true });
    for (const database of opened) await database.close();
    await testDatabase.drop();
  });

  it('uses VERIHOOK_ENVIRONMENT_ID when it is set', async () => {
    const testDatabase = await createTestDatabase('configured_env');
    const database = await openDatabase({
      databaseUrl: testDatabase.url,
      dataDir: '',
      environmentId: 'env_staging',
    });

    expect(database.environmentId).toBe('env_staging');
    await database.close();
    await testDatabase.drop();
  });
});

describe('PGlite in a data directory', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'verihook-relay-'));
  });
  afterAll(async () => rm(dataDir, { recursive: true, force: true }));

  it('keeps organizations, domains, events, clients and tokens across a restart', async () => {
    const config = {
      databaseUrl: undefined,
      dataDir: join(dataDir, 'relay'),
      environmentId: undefined,
    };
    const first = await openDatabase(config);
    const bootstrap = await ensureBootstrapClient(first.db, {
      clientId: undefined,
      clientSecret: undefined,
    });
    const app = buildApp(first);
    const token = await tokenFor(app, first);
    const api = apiClient(app, token);
    const org = (await api.post('/api/v1/organizations', { display_name: 'Persistent' })).body
      .organization;
    const domain = (
      await api.post(`/api/v1/organizations/${org.id}/domains`, { domain: 'persistent.example' })
    ).body.domain;
    const events = (await api.get('/api/v1/events')).body.events;
    await first.close();

    const second = await openDatabase(config);
    const again = apiClient(buildApp(second), token);
    const rebootstrap = await ensureBootstrapClient(second.db, {
      clientId: undefined,
      clientSecret: undefined,
    });

    expect(first.kind).toBe('pglite');
    expect(second.environmentId).toBe(first.environmentId);
    expect(bootstrap.generated).toBeDefined();
    expect(rebootstrap.generated).toBeUndefined();
    expect((await again.get(`/api/v1/organizations/${org.id}`)).body.organization).toEqual(org);
    expect(
      (await again.get(`/api/v1/organizations/${org.id}/domains/${domain.id}`)).body.domain,
    ).toEqual(domain);
    expect((await again.get('/api/v1/events')).body.events).toEqual(events);
    expect(events).toHaveLength(1);
    await second.close();
  });
});
