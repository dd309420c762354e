// Signs and POSTs deliveries through one undici Pool with keep-alive connections.
import { Pool } from 'undici';
import { signHeaders } from './signing.ts';

export interface Sender {
  /** Signs the body for this attempt, POSTs it to `path` and answers the response status. */
  deliver(path: string, key: Buffer, messageId: string, body: string): Promise<number>;
  close(): Promise<void>;
}

export function createSender(origin: string, connections: number): Sender {
  const pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
  return {
    async deliver(path, key, messageId, body) {
      const headers = signHeaders(key, messageId, body);
      const response = await pool.request({ method: 'POST', path, headers: { ...headers }, body });
      await response.body.dump();
      return response.statusCode;
    },
    close: () => pool.close(),
  };
}
