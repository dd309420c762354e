// The story end to end as separate processes: the relay on PostgreSQL, the consumer on its own
// PostgreSQL database, and the DNS server; then the final state of both sides.
import type { VerihookEvent } from '@verihook/events';
import { createTestDatabase, hasPostgres, type TestDatabase } from '@verihook/testing';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelayApiError } from '../src/relay-api.ts';
import { Stack } from '../src/stack.ts';
import { runStory, STORY_STEPS, type StoryResult } from '../src/story.ts';

interface DomainRow {
  domain: string;
  verification_status: string;
  routable: boolean;
  deleted: boolean;
}

const client = { id: 'e2e-client', secret: 'e2e-client-secret-0123456789' };

function summary(event: VerihookEvent) {
  const { domain, verification_status, failure_reason } = event.data;
  return { type: event.type, domain, verification_status, failure_reason };
}

const expectedSequence = [
  {
    type: 'organization.domain_created',
    domain: 'acme.test',
    verification_status: 'PENDING',
    failure_reason: undefined,
  },
  {
    type: 'organization.domain_dns_verification_success',
    domain: 'acme.test',
    verification_status: 'VERIFIED',
    failure_reason: undefined,
  },
  {
    type: 'organization.domain_created',
    domain: 'globex.test',
    verification_status: 'PENDING',
    failure_reason: undefined,
  },
  {
    type: 'organization.domain_dns_verification_failed',
    domain: 'globex.test',
    verification_status: 'FAILED',
    failure_reason: 'verification_window_expired',
  },
  {
    type: 'organization.domain_deleted',
    domain: 'acme.test',
    verification_status: 'VERIFIED',
    failure_reason: undefined,
  },
];

describe.skipIf(!hasPostgres())('the story as separate processes on PostgreSQL', () => {
  const lines: string[] = [];
  let relayDatabase: TestDatabase;
  let consumerDatabase: TestDatabase;
  let stack: Stack;
  let story: StoryResult;

  beforeAll(async () => {
    [relayDatabase, consumerDatabase] = await Promise.all([
      createTestDatabase('e2e_relay'),
      createTestDatabase('e2e_consumer'),
    ]);
    stack = new Stack({
      dns: 'process',
      relayDatabaseUrl: relayDatabase.url,
      consumerDatabaseUrl: consumerDatabase.url,
      checkSchedule: '200ms',
      verificationWindow: '4s',
      client,
    });
    try {
      story = await runStory(stack, (line) => lines.push(line));
    } catch (error) {
      throw new Error(`the story failed:\n${lines.join('\n')}`, { cause: error });
    }
  });

  afterAll(async () => {
    await stack?.stop();
    await Promise.all([relayDatabase?.drop(), consumerDatabase?.drop()]);
  });

  it('runs every step, each on one line', () => {
    expect(lines).toHaveLength(STORY_STEPS);
    lines.forEach((line, index) => {
      expect(line.startsWith(`✔ ${String(index + 1).padStart(2)}/${STORY_STEPS} `)).toBe(true);
    });
    expect(lines[1]).toContain(`on PostgreSQL database ${relayDatabase.name};`);
    expect(lines[4]).toContain(`on PostgreSQL database ${consumerDatabase.name},`);
  });

  it('leaves acme.test deleted and globex.test FAILED on the relay', async () => {
    const { acme, globex, api } = story;
    const acmePath = `/organizations/${acme.organization.id}/domains`;
    const globexPath = `/organizations/${globex.organization.id}/domains/${globex.domain.id}`;

    const missing = await api.call('GET', `${acmePath}/${acme.domain.id}`).catch((error) => error);
    const remaining = await api.call<{ domains: unknown[] }>('GET', acmePath);
    const failed = await api.call<{ domain: Record<string, unknown> }>('GET', globexPath);

    expect(missing).toBeInstanceOf(RelayApiError);
    expect(missing).toMatchObject({ status: 404, code: 'not_found' });
    expect(remaining.domains).toEqual([]);
    expect(failed.domain).toMatchObject({
      domain: 'globex.test',
      verification_status: 'FAILED',
      verification_method: 'DNS',
      failure_reason: 'verification_window_expired',
    });
  });

  it('records exactly five events on the relay, in the order things happened', async () => {
    const events = await story.api.allEvents();

    expect(events.map(summary)).toEqual(expectedSequence);
    expect(events.map((event) => event.organization_id)).toEqual([
      story.acme.organization.id,
      story.acme.organization.id,
      story.globex.organization.id,
      story.globex.organization.id,
      story.acme.organization.id,
    ]);
  });

  it('has the consumer verify and apply the same five events once each', async () => {
    const events = await story.api.allEvents();
    const sql = postgres(consumerDatabase.url, { max: 1, onnotice: () => {} });
    const processed = await sql<{ event_id: string; event_type: string }[]>`
      SELECT event_id, event_type FROM processed_messages`;
    await sql.end();

    const byId = new Map(events.map((event) => [event.id, event]));
    const seen = processed.map(({ event_id }) => byId.get(event_id));
    const inOrder = seen
      .filter((event) => event !== undefined)
      .sort((a, b) => Date.parse(a.data.updated_at) - Date.parse(b.data.updated_at));
    expect(processed).toHaveLength(5);
    expect(processed.map((row) => row.event_type).sort()).toEqual(
      expectedSequence.map((event) => event.type).sort(),
    );
    expect(inOrder.map(summary)).toEqual(expectedSequence);
    expect(story.consumer.rejections).toEqual([]);
    expect(
      story.consumer.webhooks.filter((webhook) => webhook.outcome === 'processed'),
    ).toHaveLength(5);
  });

  it("leaves the consumer's table with no route for either domain", async () => {
    const sql = postgres(consumerDatabase.url, { max: 1, onnotice: () => {} });
    const rows = await sql<DomainRow[]>`
      SELECT domain, verification_status, routable, deleted
      FROM organization_domains ORDER BY domain`;
    await sql.end();
    const hrd = await fetch(`${story.consumer.url}/hrd?email=alice@acme.test`);

    expect(rows).toEqual([
      { domain: 'acme.test', verification_status: 'VERIFIED', routable: false, deleted: true },
      { domain: 'globex.test', verification_status: 'FAILED', routable: false, deleted: false },
    ]);
    expect(hrd.status).toBe(404);
    expect(await hrd.json()).toMatchObject({ error: { code: 'no_route' } });
  });
});
