// One handler per event type. `EventHandlers` makes the compiler refuse a map that misses one.
import type { EventHandlers } from '@verihook/events';
import type { Tx } from '../db/index.ts';
import { handleDomainCreated } from './domain-created.ts';
import { handleDomainDeleted } from './domain-deleted.ts';
import { handleDomainDnsVerificationFailed } from './domain-dns-verification-failed.ts';
import { handleDomainDnsVerificationSuccess } from './domain-dns-verification-success.ts';

/** Builds the handlers for one transaction; whatever they write commits with the message id. */
export type Handlers = (tx: Tx) => EventHandlers<Promise<void>>;

/** The starter's reactions: keep the organization domains table current. */
export const handlers: Handlers = (tx) => ({
  'organization.domain_created': (event) => handleDomainCreated(tx, event),
  'organization.domain_deleted': (event) => handleDomainDeleted(tx, event),
  'organization.domain_dns_verification_success': (event) =>
    handleDomainDnsVerificationSuccess(tx, event),
  'organization.domain_dns_verification_failed': (event) =>
    handleDomainDnsVerificationFailed(tx, event),
});
