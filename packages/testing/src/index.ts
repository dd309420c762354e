export { createTestDatabase, hasPostgres, postgresUrl, type TestDatabase } from './database.ts';
export {
  type DnsQuery,
  type DnsServerOptions,
  startDnsServer,
  type TestDnsServer,
} from './dns-server.ts';
export { createZone, type Zone, type ZoneAnswer, type ZoneRecord } from './dns-zone.ts';
export {
  type ReceivedRequest,
  type Receiver,
  type ReceiverOptions,
  type ReceiverReply,
  startReceiver,
} from './receiver.ts';
