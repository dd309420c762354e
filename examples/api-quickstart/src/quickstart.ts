// Drives a running relay from start to finish with nothing but fetch.
// RELAY_URL, VERIHOOK_CLIENT_ID, VERIHOOK_CLIENT_SECRET; optional DOMAIN, ENDPOINT_URL.

interface ApiErrorBody {
  error?: { code?: string; message?: string };
}

class RelayClient {
  private token = '';

  constructor(private readonly baseUrl: string) {}

  async authenticate(clientId: string, clientSecret: string): Promise<void> {
    const response = await fetch(`${this.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
      }),
    });
    const body = (await response.json()) as { access_token?: string; error?: string };
    if (!response.ok || !body.access_token) {
      throw new Error(`POST /oauth/token: ${response.status} ${body.error ?? ''}`.trim());
    }
    this.token = body.access_token;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 204) return undefined as T;
    const json = (await response.json()) as T & ApiErrorBody;
    if (!response.ok) {
      const { code, message } = json.error ?? {};
      throw new Error(`${method} ${path}: ${response.status} ${code}: ${message}`);
    }
    return json;
  }
}

interface Domain {
  id: string;
  domain: string;
  verification_status: string;
  dns_record?: { type: string; name: string; value: string };
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

async function main(): Promise<void> {
  const relay = new RelayClient(process.env.RELAY_URL ?? 'http://127.0.0.1:8787');
  await relay.authenticate(required('VERIHOOK_CLIENT_ID'), required('VERIHOOK_CLIENT_SECRET'));
  console.log('token: issued');

  const { organization } = await relay.call<{ organization: { id: string } }>(
    'POST',
    '/organizations',
    { display_name: 'Quickstart Inc' },
  );
  await relay.call('PATCH', `/organizations/${organization.id}/settings`, {
    features: [{ name: 'domain_verification', enabled: true }],
  });
  console.log(`organization: ${organization.id} (domain verification on)`);

  const endpointUrl = process.env.ENDPOINT_URL;
  if (endpointUrl) {
    const { endpoint } = await relay.call<{ endpoint: { id: string } }>(
      'POST',
      '/webhooks/endpoints',
      { url: endpointUrl, description: 'quickstart receiver', event_types: [] },
    );
    const { secret } = await relay.call<{ secret: string }>(
      'GET',
      `/webhooks/endpoints/${endpoint.id}/secret`,
    );
    console.log(`endpoint: ${endpoint.id} -> ${endpointUrl} (secret ${secret.slice(0, 10)}…)`);
  }

  const name = process.env.DOMAIN ?? 'quickstart.test';
  const domains = `/organizations/${organization.id}/domains`;
  const { domain } = await relay.call<{ domain: Domain }>('POST', domains, {
    domain: name,
    verification_method: 'DNS',
  });
  const record = domain.dns_record;
  console.log(`domain: ${domain.domain} ${domain.verification_status}`);
  console.log(`publish: ${record?.type} ${record?.name} "${record?.value}"`);

  const verify = await relay.call<{ verified: boolean; check: { outcome: string } | null }>(
    'POST',
    `${domains}/${domain.id}/verify`,
  );
  console.log(`verify now: ${verify.verified ? 'verified' : `not yet (${verify.check?.outcome})`}`);

  const { events } = await relay.call<{ events: { type: string }[] }>(
    'GET',
    `/events?organization_id=${organization.id}`,
  );
  console.log(`events: ${events.map((event) => event.type).join(', ')}`);

  await relay.call('DELETE', `${domains}/${domain.id}`);
  console.log(`deleted: ${domain.domain}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
