import { describe, expect, it } from 'vitest';
import {
  domainCreatedDnsPending,
  domainDeleted,
  domainDnsVerificationFailedWindowExpired,
  domainDnsVerificationSuccess,
  EXAMPLES,
} from '../src/examples.js';
import {
  assertNever,
  dispatchEvent,
  EVENT_TYPES,
  type EventHandlers,
  EventParseError,
  isEvent,
  parseEvent,
  safeParseEvent,
  type VerihookEvent,
} from '../src/index.js';

function clone<T>(value: T): T {
  return structuredClone(value);
}

function issuesOf(input: unknown) {
  const result = safeParseEvent(input);
  if (result.success) throw new Error('expected the payload to be rejected');
  return result.error.issues.map((issue) => issue.path);
}

describe('parseEvent', () => {
  it.each(Object.entries(EXAMPLES))('accepts the example %s', (_name, example) => {
    expect(parseEvent(example)).toEqual(example);
  });

  it('parses a JSON string and raw UTF-8 bytes the same way', () => {
    const text = JSON.stringify(domainDnsVerificationSuccess);

    expect(parseEvent(text)).toEqual(domainDnsVerificationSuccess);
    expect(parseEvent(new TextEncoder().encode(text))).toEqual(domainDnsVerificationSuccess);
  });

  it('keeps unknown extra fields, in the envelope and in data', () => {
    const input = {
      ...clone(domainDeleted),
      new_field: 1,
      data: { ...domainDeleted.data, tag: 'x' },
    };

    const event = parseEvent(input) as VerihookEvent & { new_field: number };

    expect(event.new_field).toBe(1);
    expect((event.data as { tag?: string }).tag).toBe('x');
  });

  it('names every offending field at once', () => {
    const input = clone(domainCreatedDnsPending) as Record<string, unknown> & {
      data: Record<string, unknown>;
    };
    input.id = 'event_123';
    input.occurred_at = '2026-01-15 10:00:00';
    input.data.organization_id = 'acme';
    input.data.domain_type = 'SOMETHING';
    input.data.updated_at = 12;

    expect(issuesOf(input).sort()).toEqual([
      'data.domain_type',
      'data.organization_id',
      'data.updated_at',
      'id',
      'occurred_at',
    ]);
  });

  it.each([
    ['id', 'dom_123', 'evt_'],
    ['environment_id', 'org_123', 'env_'],
    ['organization_id', 'env_123', 'org_'],
  ])('rejects %s with the wrong prefix', (field, value, prefix) => {
    const input = { ...clone(domainDeleted), [field]: value };

    const result = safeParseEvent(input);

    expect(result.success).toBe(false);
    if (!result.success) {
      expect(result.error.issues).toEqual([
        expect.objectContaining({ path: field, message: `must be an id starting with ${prefix}` }),
      ]);
    }
  });

  it('rejects a data id without the dom_ prefix and ids over 32 characters', () => {
    const badPrefix = { ...clone(domainDeleted), data: { ...domainDeleted.data, id: 'org_1' } };
    const tooLong = { ...clone(domainDeleted), id: `evt_${'a'.repeat(29)}` };

    expect(issuesOf(badPrefix)).toEqual(['data.id']);
    expect(issuesOf(tooLong)).toEqual(['id']);
  });

  it.each([
    ['not a date', 'yesterday'],
    ['an offset instead of UTC', '2026-01-15T10:00:00+02:00'],
    ['an impossible date', '2026-02-30T10:00:00Z'],
    ['a number', 1768471200],
  ])('rejects occurred_at as %s', (_label, value) => {
    expect(issuesOf({ ...clone(domainDeleted), occurred_at: value })).toEqual(['occurred_at']);
  });

  it('rejects an unknown event type, naming the type field', () => {
    const result = safeParseEvent({ ...clone(domainDeleted), type: 'organization.domain_renamed' });

    expect(result.success).toBe(false);
    if (!result.success) {
      expect(result.error.code).toBe('invalid_event');
      expect(result.error.issues.map((issue) => issue.path)).toEqual(['type']);
    }
  });

  it('rejects wrong types and a missing envelope field', () => {
    const input = clone(domainDeleted) as Record<string, unknown>;
    input.spec_version = 1;
    delete input.display_name;

    expect(issuesOf(input).sort()).toEqual(['display_name', 'spec_version']);
  });

  it('holds success and failed events to their verification status and method', () => {
    const success = clone(domainDnsVerificationSuccess) as { data: Record<string, unknown> };
    success.data.verification_status = 'PENDING';
    const failed = clone(domainDnsVerificationFailedWindowExpired) as {
      data: Record<string, unknown>;
    };
    delete failed.data.failure_reason;

    expect(issuesOf(success)).toEqual(['data.verification_status']);
    expect(issuesOf(failed)).toEqual(['data.failure_reason']);
  });

  it('rejects a domain that is not a lower-case A-label', () => {
    for (const domain of ['Acme.com', 'bücher.de', 'acme.com.', 'acme']) {
      const input = { ...clone(domainDeleted), data: { ...domainDeleted.data, domain } };
      expect(issuesOf(input)).toEqual(['data.domain']);
    }
  });

  it('reports invalid JSON and non-UTF-8 bytes as invalid_json', () => {
    const bad = [safeParseEvent('{"type":'), safeParseEvent(new Uint8Array([0x7b, 0xff, 0x7d]))];

    for (const result of bad) {
      expect(result.success).toBe(false);
      if (!result.success) expect(result.error.code).toBe('invalid_json');
    }
  });

  it('throws an EventParseError whose message lists the fields', () => {
    expect(() => parseEvent({ ...clone(domainDeleted), id: 'x' })).toThrow(EventParseError);
    expect(() => parseEvent({ ...clone(domainDeleted), id: 'x' })).toThrow(/id: must be an id/);
  });
});

describe('narrowing', () => {
  it('lists the four event types', () => {
    expect(EVENT_TYPES).toEqual([
      'organization.domain_created',
      'organization.domain_deleted',
      'organization.domain_dns_verification_success',
      'organization.domain_dns_verification_failed',
    ]);
  });

  it('narrows in an exhaustive switch and with isEvent', () => {
    function describeEvent(event: VerihookEvent): string {
      switch (event.type) {
        case 'organization.domain_created':
          return `created ${event.data.verification_status}`;
        case 'organization.domain_deleted':
          return 'deleted';
        case 'organization.domain_dns_verification_success':
          return `verified by ${event.data.verification_method}`;
        case 'organization.domain_dns_verification_failed':
          return `failed: ${event.data.failure_reason}`;
        default:
          return assertNever(event);
      }
    }

    expect(describeEvent(domainDnsVerificationFailedWindowExpired)).toBe(
      'failed: verification_window_expired',
    );
    expect(describeEvent(domainCreatedDnsPending)).toBe('created PENDING');
    expect(isEvent(domainDeleted, 'organization.domain_deleted')).toBe(true);
    expect(isEvent(domainDeleted, 'organization.domain_created')).toBe(false);
  });

  it('dispatches to the handler of each type', () => {
    const handlers: EventHandlers<string> = {
      'organization.domain_created': (event) => `c:${event.data.domain}`,
      'organization.domain_deleted': (event) => `d:${event.data.domain}`,
      'organization.domain_dns_verification_success': (event) => `s:${event.data.domain}`,
      'organization.domain_dns_verification_failed': (event) => `f:${event.data.failure_reason}`,
    };

    expect(Object.values(EXAMPLES).map((event) => dispatchEvent(event, handlers))).toEqual([
      'c:acmecorp.com',
      'c:acme.io',
      'c:acme-contractors.com',
      's:acmecorp.com',
      'f:verification_window_expired',
      'f:verified_by_other_organization',
      'd:acmecorp.com',
    ]);
  });
});
