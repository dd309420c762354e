import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessTokens, apiClients } from '../src/db/schema/index.ts';
import {
  apiClient,
  BACKENDS,
  backendAvailable,
  buildApp,
  captureLogs,
  openTestBackend,
  readJson,
  TEST_CLIENT,
  type TestApp,
  type TestBackend,
  tokenFor,
} from './helpers.ts';

describe.each(BACKENDS)('authentication on %s', (backend) => {
  let testBackend: TestBackend;
  let app: TestApp;
  let logs: ReturnType<typeof captureLogs>;

  beforeAll(async () => {
    if (!backendAvailable(backend)) return;
    testBackend = await openTestBackend(backend, 'auth');
    logs = captureLogs();
    app = buildApp(testBackend.database, { logger: logs.logger });
    await tokenFor(app, testBackend.database);
  });
  afterAll(async () => testBackend?.dispose());

  const token = (body: string | Record<string, string>, headers: Record<string, string> = {}) =>
    app.request('/oauth/token', {
      method: 'POST',
      headers: {
        'content-type':
          typeof body === 'string' ? 'application/x-www-form-urlencoded' : 'application/json',
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  describe.skipIf(!backendAvailable(backend))('POST /oauth/token', () => {
    it('issues a bearer token for JSON client credentials', async () => {
      const response = await token({
        grant_type: 'client_credentials',
        client_id: TEST_CLIENT.clientId,
        client_secret: TEST_CLIENT.clientSecret,
      });

      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      const body = await readJson(response);
      expect(body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 3600,
      });
      expect(body.access_token).toMatch(/^vh_at_[A-Za-z0-9_-]{43}$/);
    });

    it('accepts form-encoded credentials', async () => {
      const form = `grant_type=client_credentials&client_id=${TEST_CLIENT.clientId}&client_secret=${TEST_CLIENT.clientSecret}`;
      const response = await token(form);

      expect(response.status).toBe(200);
      expect((await readJson(response)).token_type).toBe('Bearer');
    });

    it('accepts HTTP Basic client authentication', async () => {
      const basic = Buffer.from(`${TEST_CLIENT.clientId}:${TEST_CLIENT.clientSecret}`).toString(
        'base64',
      );
      const response = await token('grant_type=client_credentials', {
        authorization: `Basic ${basic}`,
      });

      expect(response.status).toBe(200);
    });

    it('refuses a wrong secret and an unknown client with invalid_client', async () => {
      const wrong = await token({
        grant_type: 'client_credentials',
        client_id: TEST_CLIENT.clientId,
        client_secret: 'not-the-secret',
      });
      const unknown = await token({
        grant_type: 'client_credentials',
        client_id: 'nobody',
        client_secret: TEST_CLIENT.clientSecret,
      });

      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('www-authenticate')).toBe('Basic realm="verihook"');
      expect(await readJson(wrong)).toEqual({
        error: 'invalid_client',
        error_description: 'Unknown client or wrong client_secret',
      });
      expect(unknown.status).toBe(401);
      expect((await readJson(unknown)).error).toBe('invalid_client');
    });

    it('refuses missing credentials, grants and other grant types', async () => {
      const noSecret = await token({
        grant_type: 'client_credentials',
        client_id: TEST_CLIENT.clientId,
      });
      const noGrant = await token({
        client_id: TEST_CLIENT.clientId,
        client_secret: TEST_CLIENT.clientSecret,
      });
      const password = await token('grant_type=password&username=a&password=b');

      expect(noSecret.status).toBe(401);
      expect(await readJson(noSecret)).toEqual({
        error: 'invalid_client',
        error_description: 'client_id and client_secret are required',
      });
      expect(noGrant.status).toBe(400);
      expect(await readJson(noGrant)).toEqual({
        error: 'invalid_request',
        error_description: 'grant_type is required',
      });
      expect(password.status).toBe(400);
      expect((await readJson(password)).error).toBe('unsupported_grant_type');
    });

    it('refuses credentials sent twice, and a malformed Basic header', async () => {
      const basic = Buffer.from(`${TEST_CLIENT.clientId}:${TEST_CLIENT.clientSecret}`).toString(
        'base64',
      );
      const twice = await token(
        {
          grant_type: 'client_credentials',
          client_id: TEST_CLIENT.clientId,
          client_secret: TEST_CLIENT.clientSecret,
        },
        { authorization: `Basic ${basic}` },
      );
      const malformed = await token('grant_type=client_credentials', {
        authorization: 'Basic !!!',
      });

      expect(twice.status).toBe(400);
      expect((await readJson(twice)).error).toBe('invalid_request');
      expect(malformed.status).toBe(400);
      expect((await readJson(malformed)).error).toBe('invalid_request');
    });

    it('stores only a SHA-256 of each token and a scrypt hash of the client secret', async () => {
      const body = await readJson(
        await token({
          grant_type: 'client_credentials',
          client_id: TEST_CLIENT.clientId,
          client_secret: TEST_CLIENT.clientSecret,
        }),
      );
      const hash = createHash('sha256').update(body.access_token).digest('hex');

      const tokens = await testBackend.database.db
        .select()
        .from(accessTokens)
        .where(eq(accessTokens.tokenHash, hash));
      const [client] = await testBackend.database.db
        .select()
        .from(apiClients)
        .where(eq(apiClients.id, TEST_CLIENT.clientId));

      expect(tokens).toHaveLength(1);
      expect(tokens[0]?.clientId).toBe(TEST_CLIENT.clientId);
      expect(
        JSON.stringify(await testBackend.database.db.select().from(accessTokens)),
      ).not.toContain(body.access_token);
      expect(client?.secretHash).toMatch(
        /^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/,
      );
      expect(client?.secretHash).not.toContain(TEST_CLIENT.clientSecret);
    });
  });

  describe.skipIf(!backendAvailable(backend))('bearer tokens on /api/v1', () => {
    it('answers 401 unauthorized without a token', async () => {
      const response = await apiClient(app, undefined).get('/api/v1/organizations');

      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="verihook"');
      expect(response.body).toEqual({
        error: {
          code: 'unauthorized',
          message: 'Send a bearer token from POST /oauth/token',
          request_id: expect.stringMatching(/^req_/),
        },
      });
    });

    it('answers 401 invalid_token for an unknown token or another scheme', async () => {
      const unknown = await apiClient(app, 'vh_at_not-a-real-token').get('/api/v1/organizations');
      const basic = await apiClient(app, undefined).raw('/api/v1/organizations', {
        headers: { authorization: 'Basic dGVzdDp0ZXN0' },
      });

      expect(unknown.status).toBe(401);
      expect(unknown.body.error.code).toBe('invalid_token');
      expect(unknown.headers.get('www-authenticate')).toBe(
        'Bearer realm="verihook", error="invalid_token"',
      );
      expect(basic.status).toBe(401);
      expect(basic.body.error.code).toBe('invalid_token');
    });

    it('answers 401 for an expired token', async () => {
      const bearer = await tokenFor(app, testBackend.database);
      const before = await apiClient(app, bearer).get('/api/v1/organizations');
      const hash = createHash('sha256').update(bearer).digest('hex');
      await testBackend.database.db
        .update(accessTokens)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(accessTokens.tokenHash, hash));

      const after = await apiClient(app, bearer).get('/api/v1/organizations');

      expect(before.status).toBe(200);
      expect(after.status).toBe(401);
      expect(after.body.error.code).toBe('invalid_token');
    });

    it('honours VERIHOOK_TOKEN_TTL', async () => {
      const { testConfig } = await import('./helpers.ts');
      const shortApp = buildApp(testBackend.database, {
        config: testConfig({ VERIHOOK_TOKEN_TTL: '90s' }),
      });
      const response = await shortApp.request('/oauth/token', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          grant_type: 'client_credentials',
          client_id: TEST_CLIENT.clientId,
          client_secret: TEST_CLIENT.clientSecret,
        }),
      });

      expect((await readJson(response)).expires_in).toBe(90);
    });

    it('protects unknown paths under /api/v1 too, then answers 404', async () => {
      const anonymous = await apiClient(app, undefined).get('/api/v1/nothing-here');
      const authorized = await apiClient(app, await tokenFor(app, testBackend.database)).get(
        '/api/v1/nothing-here',
      );

      expect(anonymous.status).toBe(401);
      expect(authorized.status).toBe(404);
      expect(authorized.body.error).toEqual({
        code: 'not_found',
        message: 'No route for GET /api/v1/nothing-here',
        request_id: expect.any(String),
      });
    });
  });

  describe.skipIf(!backendAvailable(backend))('request logs', () => {
    it('writes one line per request with method, path, status, duration and request id', async () => {
      const response = await app.request('/healthz', {
        headers: { 'x-request-id': 'trace-abc.123' },
      });
      const line = logs.lines().findLast((entry) => entry.msg === 'request');

      expect(response.headers.get('x-request-id')).toBe('trace-abc.123');
      expect(line).toEqual({
        level: 'info',
        time: expect.any(String),
        name: 'verihook-relay',
        method: 'GET',
        path: '/healthz',
        status: 200,
        duration_ms: expect.any(Number),
        request_id: 'trace-abc.123',
        msg: 'request',
      });
    });

    it('replaces an unusable incoming request id with its own', async () => {
      const response = await app.request('/healthz', {
        headers: { 'x-request-id': 'bad id with spaces' },
      });

      expect(response.headers.get('x-request-id')).toMatch(/^req_[0-9A-Z]{26}$/);
    });

    it('never logs tokens or client secrets', () => {
      const text = JSON.stringify(logs.lines());

      expect(text).not.toContain(TEST_CLIENT.clientSecret);
      expect(text).not.toContain('vh_at_');
    });
  });
});
