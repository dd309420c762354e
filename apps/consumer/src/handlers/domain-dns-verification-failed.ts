// organization.domain_dns_verification_failed: the window expired or another organization won the name.
import type { DomainDnsVerificationFailedEvent } from '@verihook/events';
import { applyDomainSnapshot } from '../db/domains.ts';
import type { Tx } from '../db/index.ts';

export async function handleDomainDnsVerificationFailed(
  tx: Tx,
  event: DomainDnsVerificationFailedEvent,
): Promise<void> {
  await applyDomainSnapshot(tx, event.data, { eventId: event.id, deleted: false });
  // Your reaction goes here (event.data.failure_reason says why), writing through `tx`.
}
