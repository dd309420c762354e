// Starts the receiver (receiver.ts) in a child process and talks to its control routes.
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { forkTsx } from './child.ts';

export interface EndpointCounts {
  received: number;
  verified: number;
  failed: number;
}

export interface ReceiverStats extends EndpointCounts {
  /** Verified requests whose webhook-id had been verified before. */
  duplicates: number;
  byEndpoint: EndpointCounts[];
  /** Epoch milliseconds (fractional) of the first and last request since start or reset. */
  firstReceiptAt: number | null;
  lastReceiptAt: number | null;
  /** The receiver process's CPU time since it started. */
  cpuMs: number;
}

export interface WaitResult extends ReceiverStats {
  reached: boolean;
  /** When the receiver answered the count-th request, in epoch milliseconds (fractional). */
  reachedAt: number | null;
}

export interface Receiver {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** `/endpoints/<index>`: requests there are verified with `secrets[index]`. */
  endpointPath(index: number): string;
  pid: number;
  stats(): Promise<ReceiverStats>;
  /** First receipt time (epoch ms, fractional) of every verified webhook-id. */
  receipts(): Promise<Map<string, number>>;
  /** Resolves once `count` requests have been answered (verified or not), or at the timeout. */
  waitFor(count: number, timeoutMs: number): Promise<WaitResult>;
  /** Forgets every count and receipt. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const RECEIVER_MODULE = fileURLToPath(new URL('./receiver.ts', import.meta.url));

/** Forks a receiver that verifies requests to `/endpoints/<i>` with `secrets[i]`. */
export async function startReceiver(options: { secrets: string[] }): Promise<Receiver> {
  const env = { RECEIVER_SECRETS: JSON.stringify(options.secrets) };
  const child = await forkTsx<{ port: number }>(RECEIVER_MODULE, { env });
  const origin = `http://127.0.0.1:${child.ready.port}`;
  const get = async <T>(path: string): Promise<T> => {
    const response = await request(`${origin}${path}`);
    if (response.statusCode !== 200) {
      throw new Error(`receiver ${path}: ${response.statusCode} ${await response.body.text()}`);
    }
    return (await response.body.json()) as T;
  };

  return {
    origin,
    pid: child.pid,
    endpointPath: (index) => `/endpoints/${index}`,
    stats: () => get<ReceiverStats>('/_control/stats'),
    receipts: async () => new Map(await get<Array<[string, number]>>('/_control/receipts')),
    waitFor: (count, timeoutMs) =>
      get<WaitResult>(`/_control/wait?count=${count}&timeoutMs=${timeoutMs}`),
    async reset() {
      const response = await request(`${origin}/_control/reset`, { method: 'POST' });
      await response.body.dump();
    },
    stop: child.stop,
  };
}
