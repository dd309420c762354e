import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems;
  }
}

describe('loadConfig', () => {
  it('has a default for every setting', () => {
    expect(loadConfig({})).toEqual({
      host: '127.0.0.1',
      port: 8787,
      databaseUrl: undefined,
      dataDir: '.verihook/relay',
      environmentId: undefined,
      clientId: undefined,
      clientSecret: undefined,
      tokenTtlMs: 3_600_000,
      dnsServers: [],
      dnsTimeoutMs: 5_000,
      checkScheduleMs: [10_000, 30_000, 60_000, 300_000, 900_000, 1_800_000, 3_600_000],
      verificationWindowMs: 259_200_000,
      retryScheduleMs: [
        0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
      ],
      requestTimeoutMs: 15_000,
      disableAfterMs: 432_000_000,
      allowPrivateEndpoints: false,
      rotationGraceMs: 86_400_000,
      portalLinkTtlMs: 60_000,
      portalSessionTtlMs: 21_600_000,
      portalFrameAncestors: [],
      publicUrl: undefined,
      workers: true,
      logLevel: 'info',
    });
  });

  it('reads every setting from the environment', () => {
    const config = loadConfig({
      HOST: '0.0.0.0',
      PORT: '9000',
      DATABASE_URL: 'postgres://relay@db.internal:5432/relay',
      VERIHOOK_DATA_DIR: '/var/lib/verihook',
      VERIHOOK_ENVIRONMENT_ID: 'env_production',
      VERIHOOK_CLIENT_ID: 'platform',
      VERIHOOK_CLIENT_SECRET: 'a-long-enough-secret',
      VERIHOOK_TOKEN_TTL: '15m',
      VERIHOOK_DNS_SERVERS: '127.0.0.1:5353, [::1]:53,10.0.0.2',
      VERIHOOK_DNS_TIMEOUT: '2s',
      VERIHOOK_CHECK_SCHEDULE: '1s,2s',
      VERIHOOK_VERIFICATION_WINDOW: '10s',
      VERIHOOK_RETRY_SCHEDULE: '0,1s',
      VERIHOOK_REQUEST_TIMEOUT: '500ms',
      VERIHOOK_DISABLE_AFTER: '1d',
      VERIHOOK_ALLOW_PRIVATE_ENDPOINTS: 'true',
      VERIHOOK_ROTATION_GRACE: '1h',
      VERIHOOK_PORTAL_LINK_TTL: '30s',
      VERIHOOK_PORTAL_SESSION_TTL: '2h',
      VERIHOOK_PORTAL_FRAME_ANCESTORS: 'https://app.example.com https://admin.example.com',
      VERIHOOK_PUBLIC_URL: 'https://relay.example.com/',
      VERIHOOK_WORKERS: 'false',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      databaseUrl: 'postgres://relay@db.internal:5432/relay',
      dataDir: '/var/lib/verihook',
      environmentId: 'env_production',
      clientId: 'platform',
      clientSecret: 'a-long-enough-secret',
      tokenTtlMs: 900_000,
      dnsServers: ['127.0.0.1:5353', '[::1]:53', '10.0.0.2'],
      dnsTimeoutMs: 2_000,
      checkScheduleMs: [1_000, 2_000],
      verificationWindowMs: 10_000,
      retryScheduleMs: [0, 1_000],
      requestTimeoutMs: 500,
      disableAfterMs: 86_400_000,
      allowPrivateEndpoints: true,
      rotationGraceMs: 3_600_000,
      portalLinkTtlMs: 30_000,
      portalSessionTtlMs: 7_200_000,
      portalFrameAncestors: ['https://app.example.com', 'https://admin.example.com'],
      publicUrl: 'https://relay.example.com',
      workers: false,
      logLevel: 'debug',
    });
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' })).toMatchObject({
      port: 8787,
      databaseUrl: undefined,
    });
  });

  it('accepts memory:// as the database', () => {
    expect(loadConfig({ DATABASE_URL: 'memory://' }).databaseUrl).toBe('memory://');
  });

  it('gives one line per bad value, naming the variable', () => {
    expect(
      problems({
        PORT: 'abc',
        VERIHOOK_VERIFICATION_WINDOW: 'forever',
        VERIHOOK_CHECK_SCHEDULE: '10s,soon',
        VERIHOOK_ALLOW_PRIVATE_ENDPOINTS: 'maybe',
        DATABASE_URL: 'mysql://x',
        VERIHOOK_DNS_SERVERS: '127.0.0.1:5353,dns.example.com',
        LOG_LEVEL: 'loud',
      }),
    ).toEqual([
      'PORT: "abc" is not a port number (0 to 65535)',
      'DATABASE_URL: must be a postgres:// or postgresql:// URL, or memory:// for an in-memory database',
      'VERIHOOK_DNS_SERVERS: "dns.example.com" is not an IP address with an optional port, like 127.0.0.1:5353',
      'VERIHOOK_CHECK_SCHEDULE: "10s,soon" is not a comma-separated list of durations like 0,5s,5m,2h',
      'VERIHOOK_VERIFICATION_WINDOW: "forever" is not a duration like 30s, 5m, 2h or 3d',
      'VERIHOOK_ALLOW_PRIVATE_ENDPOINTS: "maybe" is not a boolean (true or false)',
      'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent',
    ]);
  });

  it('accepts only origins and self as portal frame ancestors', () => {
    const ok = loadConfig({ VERIHOOK_PORTAL_FRAME_ANCESTORS: "'self' https://*.example.com" });

    expect(ok.portalFrameAncestors).toEqual(["'self'", 'https://*.example.com']);
    expect(
      problems({ VERIHOOK_PORTAL_FRAME_ANCESTORS: 'https://a.example.com; script-src *' }),
    ).toEqual([
      `VERIHOOK_PORTAL_FRAME_ANCESTORS: "https://a.example.com;" is not 'self' or an origin like https://app.example.com`,
    ]);
  });

  it('refuses a check schedule whose repeating last step is 0', () => {
    expect(problems({ VERIHOOK_CHECK_SCHEDULE: '10s,0' })).toEqual([
      'VERIHOOK_CHECK_SCHEDULE: must end with a step longer than 0, since the last step repeats',
    ]);
  });

  it('rejects ports out of range and zero-length windows', () => {
    expect(problems({ PORT: '70000', VERIHOOK_TOKEN_TTL: '0' })).toEqual([
      'PORT: "70000" is not a port number (0 to 65535)',
      'VERIHOOK_TOKEN_TTL: must be longer than 0',
    ]);
  });

  it('needs the bootstrap client id and secret together, and never prints the secret', () => {
    expect(problems({ VERIHOOK_CLIENT_ID: 'platform' })).toEqual([
      'VERIHOOK_CLIENT_SECRET: must be set together with VERIHOOK_CLIENT_ID',
    ]);
    const short = problems({ VERIHOOK_CLIENT_ID: 'platform', VERIHOOK_CLIENT_SECRET: 'hunter2' });
    expect(short).toEqual(['VERIHOOK_CLIENT_SECRET: must be at least 16 characters']);
    expect(short.join()).not.toContain('hunter2');
  });

  it('checks the shape of ids and URLs', () => {
    expect(
      problems({
        VERIHOOK_ENVIRONMENT_ID: 'prod',
        VERIHOOK_CLIENT_ID: 'a b',
        VERIHOOK_CLIENT_SECRET: 'x'.repeat(16),
        VERIHOOK_PUBLIC_URL: 'relay.example.com',
      }),
    ).toEqual([
      'VERIHOOK_ENVIRONMENT_ID: must be env_ followed by up to 28 letters, digits, _ or -',
      'VERIHOOK_CLIENT_ID: must be 1 to 128 letters, digits, or . _ ~ -',
      'VERIHOOK_PUBLIC_URL: must be an http:// or https:// URL',
    ]);
  });
});
