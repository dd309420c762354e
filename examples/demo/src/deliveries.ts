// What the relay recorded, matched with what the consumer logged as verified and applied.
import type { EventType, VerihookEvent } from '@verihook/events';
import { ProcessError, seconds, sleep } from './processes.ts';
import type { DomainObject, RelayApi } from './relay-api.ts';
import type { Consumer, Service } from './stack.ts';

const DELIVERY_TIMEOUT_MS = 15_000;
const POLL_MS = 20;
const EVENT_POLL_MS = 100;

export class Deliveries {
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
        const message = `the consumer did not receive ${event.id} within ${waited}`;
        throw new ProcessError(message, this.relay.process);
      }
      await sleep(POLL_MS);
    }

    const deleted = type === 'organization.domain_deleted';
    const status = deleted ? '' : ` (${event.data.verification_status})`;
    return [
      event,
      `Consumer received ${type} for ${domain.domain}${status}: signature valid, applied`,
    ];
  }

  /** Throws unless the consumer applied every one of `events` exactly once and refused nothing. */
  checkAll(events: VerihookEvent[]): void {
    const applied = this.consumer.webhooks.filter((webhook) => webhook.outcome === 'processed');
    const missing = events.filter((event) => !this.applied(event.id)).map((event) => event.id);
    const known = new Set(events.map((event) => event.id));
    const unknown = applied.filter((webhook) => !known.has(webhook.eventId));
    const twice = applied.length - new Set(applied.map((webhook) => webhook.eventId)).size;
    const { rejections } = this.consumer;

    const problems = [
      missing.length > 0 ? `never applied: ${missing.join(', ')}` : '',
      unknown.length > 0 ? `applied ${unknown.length} events the relay does not list` : '',
      twice > 0 ? `applied ${twice} events twice` : '',
      rejections.length > 0 ? `refused: ${rejections.join(', ')}` : '',
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
      const event = events.find((found) => found.type === type && found.data.id === domain.id);
      if (event) return event;
      await sleep(EVENT_POLL_MS);
    }
    const message = `the relay lists no ${type} event for ${domain.domain}`;
    throw new ProcessError(message, this.relay.process);
  }
}
