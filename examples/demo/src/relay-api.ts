// A small client for the relay's HTTP API, and the shapes the demo reads from it.
import type { VerihookEvent } from '@verihook/events';

const HTTP_TIMEOUT_MS = 10_000;

export interface DomainObject {
  id: string;
  organization_id: string;
  domain: string;
  verification_status: 'PENDING' | 'VERIFIED' | 'FAILED' | 'AUTO_VERIFIED';
  verification_method: string;
  dns_record?: { type: 'TXT'; name: string; value: string };
  verification_expires_at: string | null;
  last_check_result: { outcome?: string } | null;
  failure_reason: string | null;
  updated_at: string;
}

export interface Organization {
  id: string;
  display_name: string;
}

export interface Endpoint {
  id: string;
  url: string;
}

/** An answer other than 2xx: the status and the relay's stable error code. */
export class RelayApiError extends Error {
  override readonly name = 'RelayApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class RelayApi {
  private constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** Exchanges client credentials for a bearer token (OAuth 2.0 client credentials grant). */
  static async connect(baseUrl: string, clientId: string, clientSecret: string) {
    const response = await fetch(`${baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
      }),
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: string;
      error?: string;
    };
    if (!response.ok || !body.access_token) {
      const code = body.error ?? 'no_token';
      throw new RelayApiError(
        response.status,
        code,
        `POST /oauth/token: ${response.status} ${code}`,
      );
    }
    return new RelayApi(baseUrl, body.access_token);
  }

  /** Calls `/api/v1<path>`; resolves with the JSON body (undefined for 204), throws on non-2xx. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    if (response.status === 204) return undefined as T;
    const json = (await response.json().catch(() => ({}))) as T & {
      error?: { code?: string; message?: string };
    };
    if (!response.ok) {
      const code = json.error?.code ?? 'unknown_error';
      const detail = json.error?.message ?? '';
      const message = `${method} /api/v1${path}: ${response.status} ${code}: ${detail}`;
      throw new RelayApiError(response.status, code, message.trim());
    }
    return json;
  }

  /** Every event the relay has recorded, oldest first (the API lists newest first, 100 a page). */
  async allEvents(): Promise<VerihookEvent[]> {
    const events: VerihookEvent[] = [];
    let after: string | undefined;
    do {
      const query = new URLSearchParams({ page_size: '100', ...(after ? { after } : {}) });
      const page = await this.call<{
        events: VerihookEvent[];
        list_metadata: { after: string | null };
      }>('GET', `/events?${query}`);
      events.push(...page.events);
      after = page.list_metadata.after ?? undefined;
    } while (after);
    return events.reverse();
  }
}
