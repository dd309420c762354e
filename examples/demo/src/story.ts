// The story the demo tells and the end-to-end test checks: two organizations, a domain that
// verifies, one whose window expires, a deletion, and a consumer that hears about each of them.
import type { EventType, VerihookEvent } from '@verihook/events';
import { freePort, ProcessError, seconds, sleep } from './processes.ts';
import {
  type DomainObject,
  type Endpoint,
  type Organization,
  RelayApi,
  RelayApiError,
} from './relay-api.ts';
import { type Consumer, type Dns, describeDatabase, type Service, type Stack } from './stack.ts';
import { type Print, Steps } from './steps.ts';

export const STORY_STEPS = 20;
const POLL_MS = 100;
const DELIVERY_TIMEOUT_MS = 15_000;
const HTTP_TIMEOUT_MS = 10_000;

export interface StoryResult {
  relay: Service;
  consumer: Consumer;
  dns: Dns;
  api: RelayApi;
  endpoint: Endpoint;
  acme: { organization: Organization; domain: DomainObject };
  globex: { organization: Organization; domain: DomainObject };
  /** The relay's events, oldest first, as listed at the end. */
  events: VerihookEvent[];
}

/** Runs the whole story on `stack`, printing one line per step; throws a `StepFailure`. */
export async function runStory(stack: Stack, print: Print): Promise<StoryResult> {
  const steps = new Steps(STORY_STEPS, print, { crashed: () => stack.crashed() });
  const { options } = stack;

  const dns = await steps.run('Start the DNS server', undefined, async () => {
    const dns = await stack.startDns();
    return [dns, `DNS server for the .test zone is listening on ${dns.address} (UDP and TCP)`];
  });

  const relay = await steps.run('Start the relay', undefined, async () => {
    const relay = await stack.startRelay(dns.address);
    const database = describeDatabase(options.relayDatabaseUrl);
    const line =
      `Relay is up at ${relay.url} on ${database}; it checks pending domains every ` +
      `${spaced(options.checkSchedule)} and fails them after ${spaced(options.verificationWindow)} ` +
      '(72 h by default)';
    return [relay, line];
  });

  const api = await steps.run('Get an API token', relay.process, async () => {
    const api = await RelayApi.connect(relay.url, options.client.id, options.client.secret);
    return [
      api,
      `Got an API token for client "${options.client.id}" (OAuth 2.0 client credentials)`,
    ];
  });

  const { endpoint, secret, port } = await steps.run(
    'Register the consumer as a webhook endpoint',
    relay.process,
    async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}/webhooks`;
      const { endpoint } = await api.call<{ endpoint: Endpoint }>('POST', '/webhooks/endpoints', {
        url,
        description: 'Verihook demo consumer',
        event_types: [],
      });
      const path = `/webhooks/endpoints/${endpoint.id}/secret`;
      const { secret } = await api.call<{ secret: string }>('GET', path);
      const line = `Registered ${url} as webhook endpoint ${endpoint.id} for every event type (signing secret ${secret.slice(0, 10)}…)`;
      return [{ endpoint, secret, port }, line];
    },
  );

  const consumer = await steps.run('Start the consumer', undefined, async () => {
    const consumer = await stack.startConsumer(port, secret);
    const database = describeDatabase(options.consumerDatabaseUrl);
    const line = `Consumer is up at ${consumer.url} on ${database}, checking every webhook's signature with that secret`;
    return [consumer, line];
  });

  const deliveries = new Deliveries(api, consumer, relay);

  const organizations = await steps.run('Create the organizations', relay.process, async () => {
    const acme = await createOrganization(api, 'Acme Corp');
    const globex = await createOrganization(api, 'Globex Inc');
    const line = `Created organizations Acme Corp (${acme.id}) and Globex Inc (${globex.id}), both with domain verification on`;
    return [{ acme, globex }, line];
  });
  const acmeOrg = organizations.acme;
  const globexOrg = organizations.globex;

  const acmeAdded = await steps.run('Add acme.test', relay.process, async () => {
    const domain = await addDnsDomain(api, acmeOrg, 'acme.test');
    const record = domain.dns_record;
    const line = `Added acme.test to Acme Corp: PENDING until its admin publishes TXT ${record?.name} "${record?.value}"`;
    return [domain, line];
  });

  await steps.run('Deliver organization.domain_created for acme.test', relay.process, async () =>
    deliveries.expect('organization.domain_created', acmeAdded),
  );

  const publishedAt = await steps.run('Publish the TXT record', dns.process, async () => {
    const record = acmeAdded.dns_record;
    if (!record) throw new Error('the relay gave acme.test no dns_record');
    await dns.publishTxt(record.name, record.value);
    const line = `Published that TXT record in the local DNS server, as Acme's admin would at their DNS host`;
    return [Date.now(), line];
  });

  const acmeVerified = await steps.run('Wait for acme.test to verify', relay.process, async () => {
    const windowMs = timeLeft(acmeAdded);
    const domain = await settled(api, acmeAdded, windowMs + 5_000);
    if (domain.verification_status !== 'VERIFIED') {
      throw new Error(`acme.test turned ${domain.verification_status} (${domain.failure_reason})`);
    }
    const after = seconds(Date.now() - publishedAt);
    return [
      domain,
      `acme.test is VERIFIED: the relay's DNS check found the record ${after} after it was published`,
    ];
  });

  await steps.run(
    'Deliver organization.domain_dns_verification_success for acme.test',
    relay.process,
    async () => deliveries.expect('organization.domain_dns_verification_success', acmeVerified),
  );

  await steps.run('Ask the consumer where alice@acme.test signs in', consumer.process, async () => {
    const { status, body } = await homeRealm(consumer, 'alice@acme.test');
    if (status !== 200 || body.organization_id !== acmeOrg.id) {
      throw new Error(`GET /hrd answered ${status} ${JSON.stringify(body)}, not Acme Corp's route`);
    }
    return [
      undefined,
      `Consumer's GET /hrd routes alice@acme.test to Acme Corp (${acmeOrg.id}), since acme.test is verified`,
    ];
  });

  const globexAdded = await steps.run('Add globex.test', relay.process, async () => {
    const domain = await addDnsDomain(api, globexOrg, 'globex.test');
    return [
      domain,
      `Added globex.test to Globex Inc: PENDING, and nobody will publish its TXT record`,
    ];
  });

  await steps.run('Deliver organization.domain_created for globex.test', relay.process, async () =>
    deliveries.expect('organization.domain_created', globexAdded),
  );

  const globexFailed = await steps.run('Wait for globex.test to fail', relay.process, async () => {
    const domain = await settled(api, globexAdded, timeLeft(globexAdded) + 10_000);
    if (domain.verification_status !== 'FAILED') {
      throw new Error(`globex.test turned ${domain.verification_status}, not FAILED`);
    }
    const after = seconds(Date.parse(domain.updated_at) - Date.parse(globexAdded.updated_at));
    const outcome = domain.last_check_result?.outcome ?? 'none';
    const line = `globex.test is FAILED ${after} after it was added: ${domain.failure_reason} (last DNS check: ${outcome})`;
    return [domain, line];
  });

  await steps.run(
    'Deliver organization.domain_dns_verification_failed for globex.test',
    relay.process,
    async () => deliveries.expect('organization.domain_dns_verification_failed', globexFailed),
  );

  await steps.run('Delete acme.test', relay.process, async () => {
    await api.call('DELETE', `/organizations/${acmeOrg.id}/domains/${acmeAdded.id}`);
    return [undefined, 'Deleted acme.test from Acme Corp'];
  });

  await steps.run('Deliver organization.domain_deleted for acme.test', relay.process, async () =>
    deliveries.expect('organization.domain_deleted', acmeVerified),
  );

  await steps.run('Ask the consumer about alice@acme.test again', consumer.process, async () => {
    const { status, body } = await homeRealm(consumer, 'alice@acme.test');
    const code = (body.error as { code?: string } | undefined)?.code;
    if (status !== 404)
      throw new Error(`GET /hrd answered ${status} ${JSON.stringify(body)}, not 404`);
    return [
      undefined,
      `Consumer's GET /hrd for alice@acme.test now answers 404 ${code}: the route is gone`,
    ];
  });

  const events = await steps.run('Compare the two sides', consumer.process, async () => {
    const events = await api.allEvents();
    deliveries.checkAll(events);
    const line = `Both sides agree: the relay recorded ${events.length} events, and the consumer verified and applied each exactly once, refusing none`;
    return [events, line];
  });

  return {
    relay,
    consumer,
    dns,
    api,
    endpoint,
    acme: { organization: acmeOrg, domain: acmeVerified },
    globex: { organization: globexOrg, domain: globexFailed },
    events,
  };
}

/** `200ms` → `200 ms`, `5s` → `5 s`, as the rest of the output writes durations. */
function spaced(duration: string): string {
  return duration.replace(/^(\d+)([a-z]+)$/, '$1 $2');
}

async function createOrganization(api: RelayApi, displayName: string): Promise<Organization> {
  const { organization } = await api.call<{ organization: Organization }>(
    'POST',
    '/organizations',
    { display_name: displayName },
  );
  await api.call('PATCH', `/organizations/${organization.id}/settings`, {
    features: [{ name: 'domain_verification', enabled: true }],
  });
  return organization;
}

async function addDnsDomain(api: RelayApi, organization: Organization, name: string) {
  const { domain } = await api.call<{ domain: DomainObject }>(
    'POST',
    `/organizations/${organization.id}/domains`,
    { domain: name, verification_method: 'DNS' },
  );
  if (domain.verification_status !== 'PENDING' || !domain.dns_record) {
    throw new Error(
      `${name} was added ${domain.verification_status}, not PENDING with a TXT record`,
    );
  }
  return domain;
}

function timeLeft(domain: DomainObject): number {
  const expiresAt = domain.verification_expires_at;
  return expiresAt ? Math.max(0, Date.parse(expiresAt) - Date.now()) : 0;
}

/** Polls the domain until it is no longer PENDING. */
async function settled(api: RelayApi, domain: DomainObject, timeoutMs: number) {
  const path = `/organizations/${domain.organization_id}/domains/${domain.id}`;
  const deadline = Date.now() + timeoutMs;
  let current = domain;
  while (Date.now() < deadline) {
    current = (await api.call<{ domain: DomainObject }>('GET', path)).domain;
    if (current.verification_status !== 'PENDING') return current;
    await sleep(POLL_MS);
  }
  const outcome = current.last_check_result?.outcome ?? 'none yet';
  throw new Error(
    `${domain.domain} is still PENDING after ${seconds(timeoutMs)} (last check: ${outcome})`,
  );
}

async function homeRealm(consumer: Consumer, email: string) {
  const response = await fetch(`${consumer.url}/hrd?email=${encodeURIComponent(email)}`, {
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Matches what the relay recorded with what the consumer logged as verified and applied. */
class Deliveries {
  constructor(
    private readonly api: RelayApi,
    private readonly consumer: Consumer,
    private readonly relay: Service,
  ) {}

  /** Waits until the consumer has applied the relay's `type` event for `domain`; its step line. */
  async expect(type: EventType, domain: DomainObject): Promise<[VerihookEvent, string]> {
    const event = await this.recorded(type, domain);
    const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
    while (!this.applied(event.id)) {
      if (this.consumer.rejections.length > 0) {
        const codes = this.consumer.rejections.join(', ');
        throw new ProcessError(`the consumer refused webhooks: ${codes}`, this.consumer.process);
      }
      if (Date.now() > deadline) {
        const waited = seconds(DELIVERY_TIMEOUT_MS);
        throw new ProcessError(
          `the consumer did not receive ${event.id} within ${waited}`,
          this.relay.process,
        );
      }
      await sleep(20);
    }
    const status =
      type === 'organization.domain_deleted' ? '' : ` (${event.data.verification_status})`;
    const line = `Consumer received ${type} for ${domain.domain}${status}: signature valid, applied`;
    return [event, line];
  }

  /** Throws unless the consumer applied every one of `events` exactly once and refused nothing. */
  checkAll(events: VerihookEvent[]): void {
    const applied = this.consumer.webhooks.filter((webhook) => webhook.outcome === 'processed');
    const missing = events.filter((event) => !this.applied(event.id)).map((event) => event.id);
    const known = new Set(events.map((event) => event.id));
    const unknown = applied.filter((webhook) => !known.has(webhook.eventId));
    const twice = applied.length - new Set(applied.map((webhook) => webhook.eventId)).size;
    const problems = [
      missing.length > 0 ? `never applied: ${missing.join(', ')}` : '',
      unknown.length > 0 ? `applied events the relay does not list: ${unknown.length}` : '',
      twice > 0 ? `applied ${twice} events twice` : '',
      this.consumer.rejections.length > 0 ? `refused: ${this.consumer.rejections.join(', ')}` : '',
    ].filter(Boolean);
    if (problems.length > 0) throw new Error(problems.join('; '));
  }

  private applied(eventId: string): boolean {
    return this.consumer.webhooks.some(
      (webhook) => webhook.eventId === eventId && webhook.outcome === 'processed',
    );
  }

  private async recorded(type: EventType, domain: DomainObject): Promise<VerihookEvent> {
    const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const events = await this.api.allEvents();
      const event = events.find(
        (candidate) => candidate.type === type && candidate.data.id === domain.id,
      );
      if (event) return event;
      await sleep(POLL_MS);
    }
    throw new RelayApiError(
      404,
      'event_not_found',
      `the relay recorded no ${type} for ${domain.domain}`,
    );
  }
}
