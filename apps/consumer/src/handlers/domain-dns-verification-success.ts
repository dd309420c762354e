// organization.domain_dns_verification_success: a DNS check proved ownership; the domain now routes.
import type { DomainDnsVerificationSuccessEvent } from '@verihook/events';
import { applyDomainSnapshot } from '../db/domains.ts';
import type { Tx } from '../db/index.ts';

export async function handleDomainDnsVerificationSuccess(
  tx: Tx,
  event: DomainDnsVerificationSuccessEvent,
): Promise<void> {
  await applyDomainSnapshot(tx, event.data, { eventId: event.id, deleted: false });
  // Your reaction goes here, writing through `tx` so it commits with the message id.
}
