// The story the demo tells and the end-to-end test checks: two organizations, a domain that
// verifies, one whose window expires, a deletion, and a consumer that hears about each of them.
import type { VerihookEvent } from '@verihook/events';
import { Deliveries } from './deliveries.ts';
import { freePort, seconds, sleep } from './processes.ts';
import { type DomainObject, type Endpoint, type Organization, RelayApi } from './relay-api.ts';
import { type Consumer, type Dns, describeDatabase, type Service, type Stack } from './stack.ts';
import { type Print, Steps } from './steps.ts';

export const STORY_STEPS = 20;
const POLL_MS = 100;
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

interface Parts {
  steps: Steps;
  dns: Dns;
  relay: Service;
  api: RelayApi;
  endpoint: Endpoint;
  consumer: Consumer;
  deliveries: Deliveries;
}

/** Runs the whole story on `stack`, printing one line per step; throws a `StepFailure`. */
export async function runStory(stack: Stack, print: Print): Promise<StoryResult> {
  const steps = new Steps(STORY_STEPS, print, { crashed: () => stack.crashed() });
  const parts = await startParts(steps, stack);
  const organizations = await createOrganizations(parts);
  const acme = await verifyAcme(parts, organizations.acme);
  const globex = await letGlobexExpire(parts, organizations.globex);
  await deleteAcme(parts, acme);
  const events = await compareSides(parts);
  const { dns, relay, api, endpoint, consumer } = parts;
  return {
    dns,
    relay,
    api,
    endpoint,
    consumer,
    events,
    acme: { organization: organizations.acme, domain: acme },
    globex: { organization: organizations.globex, domain: globex },
  };
}

/** Steps 1 to 5: the DNS server, the relay, a token, the endpoint, the consumer with its secret. */
async function startParts(steps: Steps, stack: Stack): Promise<Parts> {
  const { options } = stack;
  const dns = await steps.run('Start the DNS server', undefined, async () => {
    const dns = await stack.startDns();
    return [dns, `DNS server for the .test zone is listening on ${dns.address} (UDP and TCP)`];
  });

  const relay = await steps.run('Start the relay', undefined, async () => {
    const relay = await stack.startRelay(dns.address);
    const line =
      `Relay is up at ${relay.url} on ${describeDatabase(options.relayDatabaseUrl)}; ` +
      `it checks pending domains every ${spaced(options.checkSchedule)} and fails them after ` +
      `${spaced(options.verificationWindow)} (72 h by default)`;
    return [relay, line];
  });

  const api = await steps.run('Get an API token', relay.process, async () => {
    const { id, secret } = options.client;
    const api = await RelayApi.connect(relay.url, id, secret);
    return [api, `Got an API token for client "${id}" (OAuth 2.0 client credentials)`];
  });

  const registered = await steps.run(
    'Register the consumer as an endpoint',
    relay.process,
    async () => {
      const registered = await registerEndpoint(api);
      return [registered, registered.line];
    },
  );

  const consumer = await steps.run('Start the consumer', undefined, async () => {
    const consumer = await stack.startConsumer(registered.port, registered.secret);
    const line =
      `Consumer is up at ${consumer.url} on ${describeDatabase(options.consumerDatabaseUrl)}, ` +
      `checking every webhook's signature with that secret`;
    return [consumer, line];
  });

  const deliveries = new Deliveries(api, consumer, relay);
  return { steps, dns, relay, api, endpoint: registered.endpoint, consumer, deliveries };
}

/** Creates an endpoint for a consumer that is not running yet, on a port free a moment ago. */
async function registerEndpoint(api: RelayApi) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/webhooks`;
  const { endpoint } = await api.call<{ endpoint: Endpoint }>('POST', '/webhooks/endpoints', {
    url,
    description: 'Verihook demo consumer',
    event_types: [],
  });
  const path = `/webhooks/endpoints/${endpoint.id}/secret`;
  const { secret } = await api.call<{ secret: string }>('GET', path);

  const line =
    `Registered ${url} as webhook endpoint ${endpoint.id} for every event type ` +
    `(signing secret ${secret.slice(0, 10)}…)`;
  return { endpoint, secret, port, line };
}

/** Step 6. */
async function createOrganizations({ steps, relay, api }: Parts) {
  return steps.run('Create the organizations', relay.process, async () => {
    const acme = await createOrganization(api, 'Acme Corp');
    const globex = await createOrganization(api, 'Globex Inc');
    const line =
      `Created organizations Acme Corp (${acme.id}) and Globex Inc (${globex.id}), ` +
      'both with domain verification on';
    return [{ acme, globex }, line];
  });
}

/** Steps 7 to 12: acme.test is added, published, verified, and routes on the consumer. */
async function verifyAcme(parts: Parts, organization: Organization): Promise<DomainObject> {
  const { steps, relay, api, dns, consumer, deliveries } = parts;
  const added = await steps.run('Add acme.test', relay.process, async () => {
    const domain = await addDnsDomain(api, organization, 'acme.test');
    const { name, value } = domain.dns_record ?? {};
    const record = `TXT ${name} "${value}"`;
    const line = `Added acme.test to Acme Corp: PENDING until its admin publishes ${record}`;
    return [domain, line];
  });
  await steps.run('Deliver organization.domain_created for acme.test', relay.process, () =>
    deliveries.expect('organization.domain_created', added),
  );

  const publishedAt = await steps.run('Publish the TXT record', dns.process, async () => {
    const record = added.dns_record;
    if (!record) throw new Error('the relay gave acme.test no dns_record');
    await dns.publishTxt(record.name, record.value);
    const line =
      "Published that TXT record in the local DNS server, as Acme's admin would at their DNS host";
    return [Date.now(), line];
  });

  const verified = await steps.run('Wait for acme.test to verify', relay.process, async () => {
    const domain = await settled(api, added, timeLeft(added) + 5_000);
    if (domain.verification_status !== 'VERIFIED') {
      throw new Error(`acme.test turned ${domain.verification_status} (${domain.failure_reason})`);
    }
    const after = seconds(Date.now() - publishedAt);
    const line =
      `acme.test is VERIFIED: the relay's DNS check found the record ${after} ` +
      'after it was published';
    return [domain, line];
  });
  await steps.run('Deliver the verification success for acme.test', relay.process, () =>
    deliveries.expect('organization.domain_dns_verification_success', verified),
  );

  await steps.run('Ask the consumer where alice@acme.test signs in', consumer.process, async () => {
    const { status, body } = await homeRealm(consumer, 'alice@acme.test');
    if (status !== 200 || body.organization_id !== organization.id) {
      throw new Error(`GET /hrd answered ${status} ${JSON.stringify(body)}, not Acme Corp's route`);
    }
    const line =
      `Consumer's GET /hrd routes alice@acme.test to Acme Corp (${organization.id}), ` +
      'since acme.test is verified';
    return [undefined, line];
  });
  return verified;
}

/** Steps 13 to 16: globex.test is added, never published, and fails when its window ends. */
async function letGlobexExpire(parts: Parts, organization: Organization): Promise<DomainObject> {
  const { steps, relay, api, deliveries } = parts;
  const added = await steps.run('Add globex.test', relay.process, async () => {
    const domain = await addDnsDomain(api, organization, 'globex.test');
    const line = 'Added globex.test to Globex Inc: PENDING, and nobody will publish its TXT record';
    return [domain, line];
  });
  await steps.run('Deliver organization.domain_created for globex.test', relay.process, () =>
    deliveries.expect('organization.domain_created', added),
  );

  const failed = await steps.run('Wait for globex.test to fail', relay.process, async () => {
    const domain = await settled(api, added, timeLeft(added) + 10_000);
    if (domain.verification_status !== 'FAILED') {
      throw new Error(`globex.test turned ${domain.verification_status}, not FAILED`);
    }
    const after = seconds(Date.parse(domain.updated_at) - Date.parse(added.updated_at));
    const outcome = domain.last_check_result?.outcome ?? 'none';
    const line =
      `globex.test is FAILED ${after} after it was added: ${domain.failure_reason} ` +
      `(last DNS check: ${outcome})`;
    return [domain, line];
  });
  await steps.run('Deliver the verification failure for globex.test', relay.process, () =>
    deliveries.expect('organization.domain_dns_verification_failed', failed),
  );
  return failed;
}

/** Steps 17 to 19: acme.test is deleted, and the consumer stops routing it. */
async function deleteAcme(parts: Parts, domain: DomainObject): Promise<void> {
  const { steps, relay, api, consumer, deliveries } = parts;
  await steps.run('Delete acme.test', relay.process, async () => {
    await api.call('DELETE', `/organizations/${domain.organization_id}/domains/${domain.id}`);
    return [undefined, 'Deleted acme.test from Acme Corp'];
  });
  await steps.run('Deliver organization.domain_deleted for acme.test', relay.process, () =>
    deliveries.expect('organization.domain_deleted', domain),
  );

  await steps.run('Ask the consumer about alice@acme.test again', consumer.process, async () => {
    const { status, body } = await homeRealm(consumer, 'alice@acme.test');
    if (status !== 404) {
      throw new Error(`GET /hrd answered ${status} ${JSON.stringify(body)}, not 404`);
    }
    const code = (body.error as { code?: string } | undefined)?.code;
    const answer = `404 ${code}`;
    const line = `Consumer's GET /hrd for alice@acme.test now answers ${answer}: the route is gone`;
    return [undefined, line];
  });
}

/** Step 20: every event the relay recorded was applied by the consumer, once. */
async function compareSides({ steps, api, consumer, deliveries }: Parts) {
  return steps.run('Compare the two sides', consumer.process, async () => {
    const events = await api.allEvents();
    deliveries.checkAll(events);
    const line =
      `Both sides agree: the relay recorded ${events.length} events, and the consumer ` +
      'verified and applied each exactly once, refusing none';
    return [events, line];
  });
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
    const status = domain.verification_status;
    throw new Error(`${name} was added ${status}, not PENDING with a TXT record`);
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
  const waited = seconds(timeoutMs);
  throw new Error(`${domain.domain} is still PENDING after ${waited} (last check: ${outcome})`);
}

async function homeRealm(consumer: Consumer, email: string) {
  const response = await fetch(`${consumer.url}/hrd?email=${encodeURIComponent(email)}`, {
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
