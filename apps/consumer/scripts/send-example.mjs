// Sends one example Verihook event to a running consumer, signed with svix as the relay signs it.
//   WEBHOOK_SECRET=whsec_… node scripts/send-example.mjs [--url U] [--event NAME]
//     [--message-id msg_…] [--tamper]   (--tamper changes one byte of the body after signing)
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { EXAMPLES } from '@verihook/events/examples';
import { Webhook } from 'svix';

const { values } = parseArgs({
  // `pnpm run x -- --flag` passes the `--` along; npm does not.
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:3000/webhooks' },
    event: { type: 'string', default: 'domainDnsVerificationSuccess' },
    'message-id': { type: 'string', default: `msg_${randomBytes(12).toString('hex')}` },
    tamper: { type: 'boolean', default: false },
  },
});

const secret = process.env.WEBHOOK_SECRET?.split(' ')[0];
const event = EXAMPLES[values.event];
if (!secret || !event) {
  console.error('Set WEBHOOK_SECRET, and pick --event from:', Object.keys(EXAMPLES).join(', '));
  process.exit(2);
}

const body = JSON.stringify(event);
const messageId = values['message-id'];
const now = new Date();
const headers = {
  'content-type': 'application/json',
  'webhook-id': messageId,
  'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
  'webhook-signature': new Webhook(secret).sign(messageId, now, body),
};
const sent = values.tamper ? body.replace('"spec_version":"1"', '"spec_version":"2"') : body;

const response = await fetch(values.url, { method: 'POST', headers, body: sent }).catch((error) => {
  console.error(`Cannot reach ${values.url}: ${error.cause?.message ?? error.message}`);
  process.exit(2);
});
console.log(`${messageId} ${event.type}: ${response.status} ${await response.text()}`);
process.exit(response.ok ? 0 : 1);
