// organization.domain_deleted: the domain is gone; it stops routing for good.
import type { DomainDeletedEvent } from '@verihook/events';
import { applyDomainSnapshot } from '../db/domains.ts';
import type { Tx } from '../db/index.ts';

export async function handleDomainDeleted(tx: Tx, event: DomainDeletedEvent): Promise<void> {
  await applyDomainSnapshot(tx, event.data, { eventId: event.id, deleted: true });
  // Your reaction goes here, writing through `tx` so it commits with the message id.
}
