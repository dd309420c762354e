import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, secretProblem } from '../src/config.ts';

const SECRET = 'whsec_dG9vbGtpdC10ZXN0LWtleS1BLTAxMjM0NTY3ODlhYmM=';
const OTHER = 'whsec_dG9vbGtpdC10ZXN0LWtleS1CLTAxMjM0NTY3ODlhYmM=';

function issuesOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the defaults around a single secret', () => {
    expect(loadConfig({ WEBHOOK_SECRET: SECRET })).toEqual({
      port: 3000,
      host: '127.0.0.1',
      webhookSecrets: [SECRET],
      databaseUrl: undefined,
      maxBodyBytes: 1_048_576,
      toleranceSeconds: 300,
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      WEBHOOK_SECRET: `${OTHER} ${SECRET}`,
      DATABASE_URL: 'postgres://app@db.internal:5432/consumer',
      MAX_BODY_BYTES: '2097152',
      WEBHOOK_TOLERANCE_SECONDS: '120',
    });

    expect(config).toEqual({
      port: 8080,
      host: '0.0.0.0',
      webhookSecrets: [OTHER, SECRET],
      databaseUrl: 'postgres://app@db.internal:5432/consumer',
      maxBodyBytes: 2_097_152,
      toleranceSeconds: 120,
    });
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ WEBHOOK_SECRET: SECRET, PORT: '', DATABASE_URL: '' })).toMatchObject({
      port: 3000,
      databaseUrl: undefined,
    });
  });

  it('accepts memory:// for an in-memory database', () => {
    expect(loadConfig({ WEBHOOK_SECRET: SECRET, DATABASE_URL: 'memory://' }).databaseUrl).toBe(
      'memory://',
    );
  });

  it('lists every bad value at once, naming the variable', () => {
    const issues = issuesOf({
      PORT: 'eighty',
      DATABASE_URL: 'mysql://db/x',
      MAX_BODY_BYTES: '0',
      WEBHOOK_TOLERANCE_SECONDS: '600',
    });

    expect(issues).toEqual([
      'PORT: must be a whole number',
      'WEBHOOK_SECRET: is required: the endpoint secret (whsec_…) from the relay',
      'DATABASE_URL: must start with postgres://, postgresql:// or memory:// (or be unset for PGlite)',
      'MAX_BODY_BYTES: must be at least 1',
      'WEBHOOK_TOLERANCE_SECONDS: must be at most 300',
    ]);
  });

  it('names which secret of a rotation is wrong', () => {
    expect(issuesOf({ WEBHOOK_SECRET: `${SECRET} whsec_short` })).toEqual([
      'WEBHOOK_SECRET: secret 2 of 2 is not valid base64 (its length is not a multiple of 4)',
    ]);
    expect(issuesOf({ WEBHOOK_SECRET: `${SECRET}  ${OTHER}` })).toEqual([
      'WEBHOOK_SECRET: separate the secrets of a rotation by one space',
    ]);
    expect(issuesOf({ WEBHOOK_SECRET: `${SECRET}\t${OTHER}` })).toEqual([
      'WEBHOOK_SECRET: secret must not contain white space',
    ]);
  });

  it('never puts a secret into its message', () => {
    const secrets = [`v1,${SECRET}`, `${SECRET}\n`, ` ${SECRET}`, 'whsec_PolarStyleRawSecret12345'];
    for (const secret of secrets) {
      const error = (() => {
        try {
          loadConfig({ WEBHOOK_SECRET: secret });
        } catch (caught) {
          return caught as Error;
        }
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect(error?.message).not.toContain('dG9vbGtpdC10ZXN0');
      expect(error?.message).not.toContain('PolarStyle');
    }
  });
});

describe('secretProblem', () => {
  it('accepts a whsec_ secret of 24 or more bytes', () => {
    expect(secretProblem(SECRET)).toBeUndefined();
    expect(secretProblem(`whsec_${Buffer.alloc(24, 7).toString('base64')}`)).toBeUndefined();
  });

  it('refuses what is not a Standard Webhooks secret', () => {
    expect(secretProblem('sk_live_abc')).toBe('secret must start with whsec_');
    expect(secretProblem('whsec_abc$def')).toBe(
      'secret must be base64 after whsec_ (A-Z a-z 0-9 + /)',
    );
    expect(secretProblem(`whsec_${Buffer.alloc(23, 7).toString('base64')}`)).toBe(
      'secret decodes to 23 bytes; Verihook secrets are at least 24 (copy it again from the relay)',
    );
  });
});
