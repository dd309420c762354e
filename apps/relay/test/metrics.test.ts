import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiClient,
  buildApp,
  openTestBackend,
  type TestApp,
  type TestBackend,
  tokenFor,
} from './helpers.ts';

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  let backend: TestBackend;
  let app: TestApp;

  beforeAll(async () => {
    backend = await openTestBackend('pglite', 'metrics');
    app = buildApp(backend.database);
  });
  afterAll(async () => backend?.dispose());

  it('counts requests and reads queue depths from the database', async () => {
    const api = apiClient(app, await tokenFor(app, backend.database));
    const before = await (await app.request('/metrics')).text();
    const org = await api.post('/api/v1/organizations', { display_name: 'Metrics Inc' });
    await api.post(`/api/v1/organizations/${org.body.organization.id}/domains`, {
      domain: 'metrics-pending.test',
      verification_method: 'DNS',
    });
    await api.get('/api/v1/organizations/org_missing');

    const response = await app.request('/metrics');
    const text = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const created = 'verihook_http_request_duration_seconds_count{method="POST",status="201"}';
    const missing = 'verihook_http_request_duration_seconds_count{method="GET",status="404"}';
    expect((sample(text, created) ?? 0) - (sample(before, created) ?? 0)).toBe(2);
    expect((sample(text, missing) ?? 0) - (sample(before, missing) ?? 0)).toBe(1);
    expect(sample(text, 'verihook_pending_domains')).toBe(1);
    expect(sample(text, 'verihook_messages{status="pending"}')).toBe(0);
    expect(text).toContain('# TYPE verihook_delivery_attempts_total counter');
    expect(text).toContain('# TYPE verihook_domain_checks_total counter');
  });
});
