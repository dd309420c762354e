export { createTestDatabase, hasPostgres, postgresUrl, type TestDatabase } from './database.ts';
export {
  type ReceivedRequest,
  type Receiver,
  type ReceiverOptions,
  type ReceiverReply,
  startReceiver,
} from './receiver.ts';
