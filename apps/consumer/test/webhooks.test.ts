import type { VerihookEvent } from '@verihook/events';
import {
  domainCreatedAdminVerified,
  domainCreatedAllowedEmail,
  domainCreatedDnsPending,
  domainDeleted,
  domainDnsVerificationFailedOtherOrganization,
  domainDnsVerificationFailedWindowExpired,
  domainDnsVerificationSuccess,
} from '@verihook/events/examples';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { getDomain } from '../src/db/domains.ts';
import type { Database } from '../src/db/index.ts';
import { isProcessed } from '../src/db/messages.ts';
import { handleDomainCreated } from '../src/handlers/domain-created.ts';
import { type Handlers, handlers } from '../src/handlers/index.ts';
import { drivers, newMessageId, newSecret, testConfig, webhookRequest } from './support.ts';

const ACME = domainCreatedDnsPending.organization_id;
const GLOBEX = domainDnsVerificationFailedOtherOrganization.organization_id;
const PENDING_ID = domainCreatedDnsPending.data.id;

/** The same event, later: a new event id and `data.updated_at` moved by `seconds`. */
function later<E extends VerihookEvent>(event: E, seconds: number, id: string): E {
  const updatedAt = new Date(Date.parse(event.data.updated_at) + seconds * 1000).toISOString();
  return { ...event, id, occurred_at: updatedAt, data: { ...event.data, updated_at: updatedAt } };
}

for (const driver of drivers()) {
  const unavailable = driver.unavailable;
  if (unavailable && !unavailable.skip) {
    describe(`the consumer on ${driver.name}`, () => {
      it('has a database server to run against', () => {
        throw unavailable.error;
      });
    });
    continue;
  }

  describe.skipIf(unavailable?.skip === true)(`the consumer on ${driver.name}`, () => {
    const secret = newSecret();
    const config = testConfig({ webhookSecrets: [secret] });
    let database: Database;
    let app: ReturnType<typeof createApp>;

    beforeAll(async () => {
      database = await driver.open();
      app = createApp({ db: database.db, config });
    });
    afterAll(async () => {
      await database?.close();
    });
    beforeEach(async () => {
      await database.db.execute(sql`truncate organization_domains, processed_messages`);
    });

    function deliver(event: unknown, options: { messageId?: string; via?: typeof app } = {}) {
      const body = typeof event === 'string' ? event : JSON.stringify(event);
      return (options.via ?? app).request(
        '/webhooks',
        webhookRequest(body, { secrets: [secret], messageId: options.messageId }),
      );
    }

    async function deliverAll(events: VerihookEvent[]) {
      for (const event of events) expect((await deliver(event)).status).toBe(200);
    }

    async function hrd(email: string) {
      const response = await app.request(`/hrd?email=${encodeURIComponent(email)}`);
      return { status: response.status, body: await response.json() };
    }

    async function scimAllowed(organizationId: string, email: string) {
      const query = new URLSearchParams({ organization_id: organizationId, email });
      const response = await app.request(`/scim/allowed?${query}`);
      expect(response.status).toBe(200);
      return ((await response.json()) as { allowed: boolean }).allowed;
    }

    describe('each event type', () => {
      it('stores a DNS-pending domain_created without routing it', async () => {
        const response = await deliver(domainCreatedDnsPending);

        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ received: true, duplicate: false });
        expect(await getDomain(database.db, PENDING_ID)).toMatchObject({
          domain: 'acmecorp.com',
          organizationId: ACME,
          domainType: 'ORGANIZATION_DOMAIN',
          verificationStatus: 'PENDING',
          verificationMethod: 'DNS',
          routable: false,
          deleted: false,
          lastEventId: domainCreatedDnsPending.id,
        });
        expect((await hrd('alice@acmecorp.com')).status).toBe(404);
        expect(await scimAllowed(ACME, 'alice@acmecorp.com')).toBe(false);
      });

      it('routes an admin-verified domain_created at once', async () => {
        await deliverAll([domainCreatedAdminVerified]);

        expect(await hrd('bob@acme.io')).toEqual({
          status: 200,
          body: { organization_id: ACME, domain: 'acme.io' },
        });
        expect(await scimAllowed(ACME, 'bob@acme.io')).toBe(true);
        expect(await scimAllowed(GLOBEX, 'bob@acme.io')).toBe(false);
      });

      it('never routes an ALLOWED_EMAIL_DOMAIN, though it is AUTO_VERIFIED', async () => {
        await deliverAll([domainCreatedAllowedEmail]);

        const stored = await getDomain(database.db, domainCreatedAllowedEmail.data.id);
        expect(stored).toMatchObject({ verificationStatus: 'AUTO_VERIFIED', routable: false });
        expect((await hrd('carol@acme-contractors.com')).status).toBe(404);
        expect(await scimAllowed(ACME, 'carol@acme-contractors.com')).toBe(false);
      });

      it('routes a domain once domain_dns_verification_success arrives', async () => {
        await deliverAll([domainCreatedDnsPending, domainDnsVerificationSuccess]);

        expect(await hrd('alice@acmecorp.com')).toEqual({
          status: 200,
          body: { organization_id: ACME, domain: 'acmecorp.com' },
        });
        expect(await scimAllowed(ACME, 'alice@acmecorp.com')).toBe(true);
        expect(await getDomain(database.db, PENDING_ID)).toMatchObject({
          verificationStatus: 'VERIFIED',
          routable: true,
          updatedAt: expect.stringMatching(/^2026-01-15 10:12:30/),
        });
      });

      it('keeps a failed domain (window expired) out of routing', async () => {
        await deliverAll([domainDnsVerificationFailedWindowExpired]);

        const stored = await getDomain(
          database.db,
          domainDnsVerificationFailedWindowExpired.data.id,
        );
        expect(stored).toMatchObject({ verificationStatus: 'FAILED', routable: false });
        expect((await hrd('dan@globex.com')).status).toBe(404);
        expect(await scimAllowed(GLOBEX, 'dan@globex.com')).toBe(false);
      });

      it('fails the losing claim and keeps routing the winner', async () => {
        await deliverAll([
          domainCreatedDnsPending,
          domainDnsVerificationSuccess,
          domainDnsVerificationFailedOtherOrganization,
        ]);

        expect((await hrd('alice@acmecorp.com')).body).toEqual({
          organization_id: ACME,
          domain: 'acmecorp.com',
        });
        expect(await scimAllowed(GLOBEX, 'alice@acmecorp.com')).toBe(false);
        expect(await scimAllowed(ACME, 'alice@acmecorp.com')).toBe(true);
      });

      it('stops routing a deleted domain and keeps its tombstone', async () => {
        await deliverAll([domainCreatedDnsPending, domainDnsVerificationSuccess, domainDeleted]);

        expect((await hrd('alice@acmecorp.com')).status).toBe(404);
        expect(await scimAllowed(ACME, 'alice@acmecorp.com')).toBe(false);
        expect(await getDomain(database.db, PENDING_ID)).toMatchObject({
          deleted: true,
          routable: false,
          lastEventId: domainDeleted.id,
        });
      });
    });

    describe('out-of-order deliveries', () => {
      it('ignores a created that arrives after the success it precedes', async () => {
        await deliverAll([domainDnsVerificationSuccess, domainCreatedDnsPending]);

        expect(await getDomain(database.db, PENDING_ID)).toMatchObject({
          verificationStatus: 'VERIFIED',
          routable: true,
          lastEventId: domainDnsVerificationSuccess.id,
        });
        expect((await hrd('alice@acmecorp.com')).status).toBe(200);
      });

      it('ignores a success that arrives after the deletion', async () => {
        await deliverAll([domainCreatedDnsPending, domainDeleted, domainDnsVerificationSuccess]);

        expect(await getDomain(database.db, PENDING_ID)).toMatchObject({
          deleted: true,
          routable: false,
        });
        expect((await hrd('alice@acmecorp.com')).status).toBe(404);
      });

      it('never resurrects a deleted domain, even from an event dated later', async () => {
        const resurrecting = later(domainDnsVerificationSuccess, 86_400 * 30, 'evt_after_delete');
        await deliverAll([domainDeleted, domainCreatedDnsPending, resurrecting]);

        expect(await getDomain(database.db, PENDING_ID)).toMatchObject({
          deleted: true,
          lastEventId: domainDeleted.id,
        });
        expect((await hrd('alice@acmecorp.com')).status).toBe(404);
      });

      it('lets a deletion win over another event with the same updated_at', async () => {
        const sameInstant = { ...domainDeleted, data: domainDnsVerificationSuccess.data };
        await deliverAll([domainDnsVerificationSuccess, sameInstant]);

        expect(await getDomain(database.db, PENDING_ID)).toMatchObject({
          deleted: true,
          routable: false,
        });
      });

      it('orders by data.updated_at, not by arrival (DLV-32)', async () => {
        const verified = later(domainCreatedAdminVerified, 60, 'evt_verified_again');
        const stale = {
          ...domainCreatedAdminVerified,
          data: { ...domainCreatedAdminVerified.data },
        };
        stale.data.verification_status = 'PENDING';
        await deliverAll([verified, stale]);

        expect(await getDomain(database.db, verified.data.id)).toMatchObject({
          verificationStatus: 'VERIFIED',
          lastEventId: 'evt_verified_again',
        });
      });

      it('keeps microsecond updated_at precision when comparing', async () => {
        const first = { ...domainCreatedDnsPending };
        first.data = { ...first.data, updated_at: '2026-01-15T10:00:00.000001Z' };
        const second = { ...domainDnsVerificationSuccess };
        second.data = { ...second.data, updated_at: '2026-01-15T10:00:00.000002Z' };
        await deliverAll([second, first]);

        expect(await getDomain(database.db, PENDING_ID)).toMatchObject({
          verificationStatus: 'VERIFIED',
        });
      });
    });

    describe('exactly-once effects', () => {
      it('answers a repeated message id with duplicate: true and does nothing', async () => {
        const messageId = newMessageId();
        const first = await deliver(domainCreatedDnsPending, { messageId });
        // Same id, different (validly signed) body: proves the id alone decides.
        const second = await deliver(domainDnsVerificationSuccess, { messageId });

        expect(first.status).toBe(200);
        expect(second.status).toBe(200);
        expect(await second.json()).toEqual({ received: true, duplicate: true });
        expect(await getDomain(database.db, PENDING_ID)).toMatchObject({
          verificationStatus: 'PENDING',
        });
      });

      it('runs the handler once for a resent message', async () => {
        let calls = 0;
        const counting: Handlers = (tx) => ({
          ...handlers(tx),
          'organization.domain_created': async (event) => {
            calls += 1;
            await handleDomainCreated(tx, event);
          },
        });
        const counted = createApp({ db: database.db, config, handlers: counting });
        const messageId = newMessageId();

        for (let attempt = 0; attempt < 3; attempt++) {
          expect((await deliver(domainCreatedDnsPending, { messageId, via: counted })).status).toBe(
            200,
          );
        }
        expect(calls).toBe(1);
      });

      it('rolls back a throwing handler: 500, nothing recorded, retried later', async () => {
        const failing: Handlers = (tx) => ({
          ...handlers(tx),
          'organization.domain_created': async (event) => {
            await handleDomainCreated(tx, event);
            throw new Error('downstream system unavailable');
          },
        });
        const broken = createApp({ db: database.db, config, handlers: failing });
        const messageId = newMessageId();

        const failed = await deliver(domainCreatedDnsPending, { messageId, via: broken });
        expect(failed.status).toBe(500);
        expect(await failed.json()).toEqual({
          error: {
            code: 'processing_failed',
            message: 'The event was not applied; send it again.',
          },
        });
        expect(await isProcessed(database.db, messageId)).toBe(false);
        expect(await getDomain(database.db, PENDING_ID)).toBeUndefined();

        const retried = await deliver(domainCreatedDnsPending, { messageId });
        expect(await retried.json()).toEqual({ received: true, duplicate: false });
        expect(await isProcessed(database.db, messageId)).toBe(true);
      });

      it('processes concurrent deliveries of one message exactly once', async () => {
        let calls = 0;
        const slow: Handlers = (tx) => ({
          ...handlers(tx),
          'organization.domain_created': async (event) => {
            calls += 1;
            await new Promise((resolve) => setTimeout(resolve, 50));
            await handleDomainCreated(tx, event);
          },
        });
        const slowApp = createApp({ db: database.db, config, handlers: slow });
        const messageId = newMessageId();

        const responses = await Promise.all(
          [1, 2, 3].map(() => deliver(domainCreatedDnsPending, { messageId, via: slowApp })),
        );
        const bodies = await Promise.all(responses.map((response) => response.json()));
        expect(responses.map((response) => response.status)).toEqual([200, 200, 200]);
        expect(bodies.filter((body) => (body as { duplicate: boolean }).duplicate)).toHaveLength(2);
        expect(calls).toBe(1);
      });
    });

    describe('rejections', () => {
      it('401 missing_headers without signature headers', async () => {
        const response = await app.request('/webhooks', {
          method: 'POST',
          body: JSON.stringify(domainCreatedDnsPending),
        });

        expect(response.status).toBe(401);
        expect(await response.json()).toMatchObject({ error: { code: 'missing_headers' } });
      });

      it('401 invalid_message_id for an empty, overlong or non-ASCII webhook-id, storing nothing', async () => {
        const body = JSON.stringify(domainCreatedAdminVerified);
        for (const messageId of ['x'.repeat(10_000), 'x'.repeat(257), 'msg 1', 'msg_é']) {
          const response = await deliver(body, { messageId });
          expect({ length: messageId.length, status: response.status }).toEqual({
            length: messageId.length,
            status: 401,
          });
          expect(await response.json()).toEqual({
            error: {
              code: 'invalid_message_id',
              message:
                'webhook-id must be 1 to 256 printable ASCII characters without spaces, such as msg_2b1c….',
            },
          });
        }
        const stored = await database.db.execute(
          sql`select count(*)::int as n from processed_messages`,
        );
        expect(JSON.parse(JSON.stringify(stored))).toMatchObject(
          driver.name === 'pglite' ? { rows: [{ n: 0 }] } : [{ n: 0 }],
        );
        expect((await hrd('bob@acme.io')).status).toBe(404);

        expect((await deliver(body, { messageId: 'm'.repeat(256) })).status).toBe(200);
      });

      it('401 invalid_timestamp, without Infinity, for a timestamp too long to be seconds', async () => {
        const body = JSON.stringify(domainCreatedDnsPending);
        for (const timestamp of ['999999999999999999999999', '17356896000000', '1'.repeat(400)]) {
          const headers = {
            ...webhookRequest(body, { secrets: [secret] }).headers,
            'webhook-timestamp': timestamp,
          };
          const response = await app.request('/webhooks', { method: 'POST', headers, body });
          expect(response.status).toBe(401);
          expect(await response.json()).toEqual({
            error: {
              code: 'invalid_timestamp',
              message: `webhook-timestamp has ${timestamp.length} digits: it must be whole Unix seconds (10 digits today).`,
            },
          });
        }
      });

      it('401 invalid_signature for a body changed by one byte', async () => {
        const body = JSON.stringify(domainDnsVerificationSuccess);
        const request = webhookRequest(body, { secrets: [secret] });
        const response = await app.request('/webhooks', {
          ...request,
          body: body.replace('"1"', '"2"'),
        });

        expect(response.status).toBe(401);
        expect(await response.json()).toEqual({
          error: { code: 'invalid_signature', message: 'No signature matches this body.' },
        });
        expect((await hrd('alice@acmecorp.com')).status).toBe(404);
      });

      it('401 invalid_signature for a message signed with another secret', async () => {
        const body = JSON.stringify(domainCreatedDnsPending);
        const response = await app.request(
          '/webhooks',
          webhookRequest(body, { secrets: [newSecret()] }),
        );

        expect(response.status).toBe(401);
        expect(await response.json()).toMatchObject({ error: { code: 'invalid_signature' } });
      });

      it('401 timestamp_too_old and timestamp_too_new outside the tolerance', async () => {
        const body = JSON.stringify(domainCreatedDnsPending);
        const now = Math.floor(Date.now() / 1000);
        const old = webhookRequest(body, { secrets: [secret], timestampSeconds: now - 301 });
        const future = webhookRequest(body, { secrets: [secret], timestampSeconds: now + 301 });

        const oldResponse = await app.request('/webhooks', old);
        const futureResponse = await app.request('/webhooks', future);
        expect(oldResponse.status).toBe(401);
        expect(await oldResponse.json()).toMatchObject({ error: { code: 'timestamp_too_old' } });
        expect(futureResponse.status).toBe(401);
        expect(await futureResponse.json()).toMatchObject({ error: { code: 'timestamp_too_new' } });
      });

      it('accepts a timestamp just inside a configured tolerance and refuses it outside', async () => {
        const strict = createApp({ db: database.db, config: { ...config, toleranceSeconds: 60 } });
        const body = JSON.stringify(domainCreatedDnsPending);
        const now = Math.floor(Date.now() / 1000);

        const inside = await strict.request(
          '/webhooks',
          webhookRequest(body, { secrets: [secret], timestampSeconds: now - 50 }),
        );
        const outside = await strict.request(
          '/webhooks',
          webhookRequest(body, { secrets: [secret], timestampSeconds: now - 70 }),
        );
        expect(inside.status).toBe(200);
        expect(outside.status).toBe(401);
        expect(await outside.json()).toMatchObject({ error: { code: 'timestamp_too_old' } });
      });

      it('401 invalid_timestamp for a timestamp that is not whole seconds', async () => {
        const body = JSON.stringify(domainCreatedDnsPending);
        const request = webhookRequest(body, { secrets: [secret] });
        const headers = request.headers as Record<string, string>;
        const seconds = `${headers['webhook-timestamp']}.0`;
        const response = await app.request('/webhooks', {
          ...request,
          headers: { ...headers, 'webhook-timestamp': seconds },
        });

        expect(response.status).toBe(401);
        expect(await response.json()).toEqual({
          error: {
            code: 'invalid_timestamp',
            message: 'webhook-timestamp must be whole Unix seconds.',
          },
        });
      });

      it('401 ambiguous_headers when webhook-* and svix-* sets disagree', async () => {
        const body = JSON.stringify(domainCreatedDnsPending);
        const request = webhookRequest(body, { secrets: [secret] });
        const headers = request.headers as Record<string, string>;
        const response = await app.request('/webhooks', {
          ...request,
          headers: {
            ...headers,
            'svix-id': 'msg_other',
            'svix-timestamp': headers['webhook-timestamp'] ?? '',
            'svix-signature': headers['webhook-signature'] ?? '',
          },
        });

        expect(response.status).toBe(401);
        expect(await response.json()).toMatchObject({ error: { code: 'ambiguous_headers' } });
      });

      it('400 invalid_json for a signed body that is not JSON, or not UTF-8', async () => {
        const notJson = await deliver('{"type": ');
        const notUtf8 = await app.request(
          '/webhooks',
          webhookRequest(new Uint8Array([0x7b, 0xff, 0x7d]), { secrets: [secret] }),
        );

        expect(notJson.status).toBe(400);
        expect(await notJson.json()).toEqual({
          error: { code: 'invalid_json', message: 'The body is not UTF-8 JSON.' },
        });
        expect(notUtf8.status).toBe(400);
        expect(await notUtf8.json()).toMatchObject({ error: { code: 'invalid_json' } });
      });

      it('400 unknown_event for a type Verihook does not send', async () => {
        const response = await deliver({ ...domainCreatedDnsPending, type: 'user.created' });

        expect(response.status).toBe(400);
        expect(await response.json()).toEqual({
          error: { code: 'unknown_event', message: "Not a Verihook event type: 'user.created'." },
        });
      });

      it('400 invalid_event naming the offending fields', async () => {
        const { id: _id, ...dataWithoutId } = domainCreatedDnsPending.data;
        const response = await deliver({ ...domainCreatedDnsPending, data: dataWithoutId });

        expect(response.status).toBe(400);
        const body = (await response.json()) as { error: { code: string; issues: unknown[] } };
        expect(body.error.code).toBe('invalid_event');
        expect(body.error.issues).toEqual([
          { path: 'data.id', code: 'invalid_type', message: expect.any(String) },
        ]);
      });

      it('accepts unknown extra fields (additive changes within spec_version 1)', async () => {
        const extended = {
          ...domainCreatedAdminVerified,
          region: 'eu',
          data: { ...domainCreatedAdminVerified.data, tier: 'gold' },
        };
        const response = await deliver(extended);

        expect(response.status).toBe(200);
        expect((await hrd('bob@acme.io')).status).toBe(200);
      });

      it('200 ignored for a signed empty body, recording nothing', async () => {
        const messageId = newMessageId();
        const response = await deliver('', { messageId });

        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ received: true, ignored: 'empty_body' });
        expect(await isProcessed(database.db, messageId)).toBe(false);
      });

      it('413 payload_too_large past MAX_BODY_BYTES, before checking the signature', async () => {
        const small = createApp({ db: database.db, config: { ...config, maxBodyBytes: 100 } });
        const response = await small.request('/webhooks', {
          method: 'POST',
          body: 'x'.repeat(101),
        });

        expect(response.status).toBe(413);
        expect(await response.json()).toEqual({
          error: { code: 'payload_too_large', message: 'The body is larger than 100 bytes.' },
        });
      });

      it('404 for routes it does not have', async () => {
        const response = await app.request('/webhook', { method: 'POST' });

        expect(response.status).toBe(404);
        expect(await response.json()).toEqual({
          error: { code: 'not_found', message: 'No such route.' },
        });
      });
    });

    describe('secret rotation', () => {
      it('accepts either active secret and refuses a retired one', async () => {
        const next = newSecret();
        const rotating = createApp({
          db: database.db,
          config: { ...config, webhookSecrets: [next, secret] },
        });
        const body = JSON.stringify(domainCreatedDnsPending);

        const both = await rotating.request(
          '/webhooks',
          webhookRequest(body, { secrets: [next, secret] }),
        );
        const onlyNew = await rotating.request(
          '/webhooks',
          webhookRequest(body, { secrets: [next] }),
        );
        const onlyOld = await rotating.request(
          '/webhooks',
          webhookRequest(body, { secrets: [secret] }),
        );
        const retired = await rotating.request(
          '/webhooks',
          webhookRequest(body, { secrets: [newSecret()] }),
        );

        expect([both.status, onlyNew.status, onlyOld.status, retired.status]).toEqual([
          200, 200, 200, 401,
        ]);
      });
    });

    describe('GET /hrd and GET /scim/allowed', () => {
      it('matches the email domain case-insensitively and as an IDNA A-label', async () => {
        const idn = {
          ...domainCreatedAdminVerified,
          data: {
            ...domainCreatedAdminVerified.data,
            id: 'dom_idn',
            domain: 'xn--bcher-kva.example',
          },
        };
        await deliverAll([domainCreatedAdminVerified, idn]);

        expect((await hrd('Bob@ACME.IO')).body).toEqual({
          organization_id: ACME,
          domain: 'acme.io',
        });
        expect((await hrd('anna@bücher.example')).body).toEqual({
          organization_id: ACME,
          domain: 'xn--bcher-kva.example',
        });
        expect(await scimAllowed(ACME, 'anna@BÜCHER.example')).toBe(true);
      });

      it('does not route subdomains of a verified domain', async () => {
        await deliverAll([domainCreatedAdminVerified]);

        expect(await hrd('bob@eu.acme.io')).toEqual({
          status: 404,
          body: {
            error: { code: 'no_route', message: 'No verified organization domain matches.' },
          },
        });
      });

      it('400 for a missing or malformed email', async () => {
        const missing = await app.request('/hrd');
        const malformed = await app.request('/hrd?email=not-an-email');
        const scimMissing = await app.request('/scim/allowed?email=a@acme.io');

        expect(missing.status).toBe(400);
        expect(await missing.json()).toMatchObject({ error: { code: 'missing_parameter' } });
        expect(malformed.status).toBe(400);
        expect(await malformed.json()).toMatchObject({ error: { code: 'invalid_email' } });
        expect(scimMissing.status).toBe(400);
        expect(await scimMissing.json()).toMatchObject({ error: { code: 'missing_parameter' } });
      });

      async function refusal(path: string) {
        const response = await app.request(path);
        const body = (await response.json()) as { error: { code: string; message: string } };
        return { status: response.status, body };
      }

      it('400 invalid_parameter for a NUL in any query parameter, before the database', async () => {
        const nul = {
          status: 400,
          body: {
            error: {
              code: 'invalid_parameter',
              message: 'The organization_id query parameter contains a NUL character.',
            },
          },
        };
        expect(await refusal('/scim/allowed?organization_id=%00&email=a@example.com')).toEqual(nul);
        expect(await refusal(`/scim/allowed?organization_id=${ACME}%00x&email=a@acme.io`)).toEqual(
          nul,
        );
        const inEmail = await refusal('/hrd?email=a%00@example.com');
        expect(inEmail.status).toBe(400);
        expect(inEmail.body.error.code).toBe('invalid_parameter');
        expect(
          (await refusal('/scim/allowed?organization_id=org_1&email=a@acme.io%00')).status,
        ).toBe(400);
        expect((await refusal('/hrd?email=a@acme.io&x%00=1')).body.error).toEqual({
          code: 'invalid_parameter',
          message: 'A query parameter name contains a NUL character.',
        });
        expect((await refusal('/hrd?email=a@acme.io&extra=%00')).body.error.code).toBe(
          'invalid_parameter',
        );
      });

      it('400 invalid_email for several @, an empty local part or an invalid domain', async () => {
        await deliverAll([domainCreatedAdminVerified]);
        for (const email of [
          'a@b@acme.io',
          'a@evil.com@acme.io',
          '@acme.io',
          'a@',
          'a@acme',
          'a@.acme.io',
          'a@acme..io',
          'a@-acme.io',
          'a@acme_corp.io',
          'a@acme.io/x',
          'a@evil.com/acme.io',
          'a@acme.io?x',
          'a@acme.io#x',
          'a@acme.io\\x',
          'a@acme.io:443',
          'a b@acme.io',
          `${'a'.repeat(65)}@acme.io`,
          `a@${'b'.repeat(64)}.io`,
        ]) {
          const query = encodeURIComponent(email);
          const invalid = { code: 'invalid_email', message: expect.any(String) };
          expect({ email, ...(await refusal(`/hrd?email=${query}`)) }).toEqual({
            email,
            status: 400,
            body: { error: invalid },
          });
          const scim = await refusal(`/scim/allowed?organization_id=${ACME}&email=${query}`);
          expect({ email, ...scim }).toEqual({ email, status: 400, body: { error: invalid } });
        }
        expect(await hrd(`${'a'.repeat(64)}@acme.io.`)).toEqual({
          status: 200,
          body: { organization_id: ACME, domain: 'acme.io' },
        });
      });

      it('answers /healthz', async () => {
        const response = await app.request('/healthz');

        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ status: 'ok' });
      });
    });
  });
}
