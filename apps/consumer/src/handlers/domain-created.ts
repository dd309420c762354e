// organization.domain_created: a domain was added, PENDING (DNS), VERIFIED (admin) or an allowed email domain.
import type { DomainCreatedEvent } from '@verihook/events';
import { applyDomainSnapshot } from '../db/domains.ts';
import type { Tx } from '../db/index.ts';

export async function handleDomainCreated(tx: Tx, event: DomainCreatedEvent): Promise<void> {
  await applyDomainSnapshot(tx, event.data, { eventId: event.id, deleted: false });
  // Your reaction goes here, writing through `tx` so it commits with the message id.
}
