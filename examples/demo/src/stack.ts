// The three parts of the story on 127.0.0.1: a DNS server, the relay and the consumer. The demo and
// the end-to-end test start them through here and differ only in the options.
import { fileURLToPath } from 'node:url';
import { startDnsServer } from '@verihook/testing';
import {
  jsonLine,
  ManagedProcess,
  ProcessError,
  waitForHealth,
  waitForListening,
} from './processes.ts';

const RELAY_DIR = fileURLToPath(new URL('../../../apps/relay/', import.meta.url));
const CONSUMER_DIR = fileURLToPath(new URL('../../../apps/consumer/', import.meta.url));
const DEMO_DIR = fileURLToPath(new URL('../', import.meta.url));
// PGlite's first start (initdb in WebAssembly) takes seconds, more on a busy machine.
const START_TIMEOUT_MS = 60_000;
// Settings of the shell this runs in that must not leak into the relay's or the consumer's.
const CONFIG_VARIABLE =
  /^(VERIHOOK_|DATABASE_URL$|PORT$|HOST$|LOG_LEVEL$|WEBHOOK_|MAX_BODY_BYTES$)/;

export interface StackOptions {
  /** `in-process` serves the zone from this process; `process` runs `src/dns-server.ts`. */
  dns: 'in-process' | 'process';
  /** `memory://` or a `postgres://` URL. */
  relayDatabaseUrl: string;
  consumerDatabaseUrl: string;
  /** The relay's `VERIHOOK_CHECK_SCHEDULE`. */
  checkSchedule: string;
  /** The relay's `VERIHOOK_VERIFICATION_WINDOW`. */
  verificationWindow: string;
  client: { id: string; secret: string };
}

export interface Dns {
  /** `127.0.0.1:<port>`, as `VERIHOOK_DNS_SERVERS` takes it. */
  address: string;
  publishTxt(name: string, value: string): Promise<void>;
  /** The log that explains a failure; undefined for the in-process server. */
  process: ManagedProcess | undefined;
}

export interface Service {
  url: string;
  process: ManagedProcess;
}

/** What the consumer logged for one webhook it verified (`processed` or `duplicate`). */
export interface ConsumerWebhook {
  messageId: string;
  eventId: string;
  type: string;
  outcome: string;
}

export interface Consumer extends Service {
  /** Every webhook that passed the signature check, in arrival order. */
  webhooks: ConsumerWebhook[];
  /** Every request the consumer refused (a bad signature, an unparseable event), by error code. */
  rejections: string[];
}

/** Starts and stops the parts; `stop()` ends everything started, the last started first. */
export class Stack {
  private readonly stops: { name: string; stop: () => Promise<unknown> }[] = [];
  private readonly processes: ManagedProcess[] = [];
  private stopping: Promise<string[]> | undefined;

  constructor(readonly options: StackOptions) {}

  /** A process that ended without being asked to, if any. */
  crashed(): ManagedProcess | undefined {
    return this.processes.find((child) => child.crashed);
  }

  async startDns(): Promise<Dns> {
    this.refuseWhenStopping();
    if (this.options.dns === 'in-process') {
      const server = await startDnsServer();
      this.stops.push({ name: 'the DNS server', stop: () => server.close() });
      const publishTxt = async (name: string, value: string) => server.setTxt(name, [value]);
      return { address: server.address, publishTxt, process: undefined };
    }

    const child = this.spawn('DNS server', DEMO_DIR, ['src/dns-server.ts'], {});
    const control = await waitForListening(child, START_TIMEOUT_MS);
    const address = await child.waitForLine(
      (line) => jsonLine(line)?.dns as string | undefined,
      START_TIMEOUT_MS,
      'DNS address',
    );
    const publishTxt = async (name: string, value: string) => {
      const response = await fetch(`${control}/records/${encodeURIComponent(name)}/txt`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ values: [value] }),
      });
      if (response.status !== 204) {
        throw new ProcessError(`publishing ${name} answered ${response.status}`, child);
      }
    };
    return { address, publishTxt, process: child };
  }

  /** Starts the relay on a free port, with `dnsAddress` as its only DNS server. */
  async startRelay(dnsAddress: string): Promise<Service> {
    const { options } = this;
    const child = this.spawn('relay', RELAY_DIR, ['src/index.ts'], {
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: options.relayDatabaseUrl,
      VERIHOOK_CLIENT_ID: options.client.id,
      VERIHOOK_CLIENT_SECRET: options.client.secret,
      VERIHOOK_DNS_SERVERS: dnsAddress,
      VERIHOOK_DNS_TIMEOUT: '1s',
      VERIHOOK_CHECK_SCHEDULE: options.checkSchedule,
      VERIHOOK_VERIFICATION_WINDOW: options.verificationWindow,
      VERIHOOK_RETRY_SCHEDULE: '0,200ms,500ms,1s,2s,5s',
      VERIHOOK_REQUEST_TIMEOUT: '5s',
      VERIHOOK_ALLOW_PRIVATE_ENDPOINTS: 'true',
      LOG_LEVEL: 'info',
    });
    const url = await waitForListening(child, START_TIMEOUT_MS);
    await waitForHealth(url, child, START_TIMEOUT_MS);
    return { url, process: child };
  }

  /** Starts the consumer on `port`, verifying webhooks with `webhookSecret`. */
  async startConsumer(port: number, webhookSecret: string): Promise<Consumer> {
    const child = this.spawn('consumer', CONSUMER_DIR, ['src/index.ts'], {
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: this.options.consumerDatabaseUrl,
      WEBHOOK_SECRET: webhookSecret,
    });
    const consumer: Consumer = { url: '', process: child, webhooks: [], rejections: [] };
    child.onLine((line) => collectWebhook(consumer, jsonLine(line)));
    consumer.url = await waitForListening(child, START_TIMEOUT_MS);
    if (consumer.url !== `http://127.0.0.1:${port}`) {
      throw new ProcessError(`listens on ${consumer.url}, not on port ${port}`, child);
    }
    await waitForHealth(consumer.url, child, START_TIMEOUT_MS);
    return consumer;
  }

  /** Stops everything started, the last started first; resolves with what was stopped. */
  stop(): Promise<string[]> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<string[]> {
    for (const child of this.processes) child.expectExit();
    const stopped: string[] = [];
    for (const entry of this.stops.splice(0).reverse()) {
      await entry.stop().catch(() => {});
      stopped.push(entry.name);
    }
    return stopped;
  }

  private refuseWhenStopping(): void {
    if (this.stopping) throw new Error('the demo is stopping; nothing new starts');
  }

  private spawn(name: string, cwd: string, args: string[], env: NodeJS.ProcessEnv) {
    this.refuseWhenStopping();
    const child = new ManagedProcess({
      name,
      cwd,
      args: ['--import', 'tsx', ...args],
      env: { ...inheritedEnvironment(), ...env },
    });
    this.processes.push(child);
    this.stops.push({ name: `the ${name}`, stop: () => child.stop() });
    return child;
  }
}

function collectWebhook(consumer: Consumer, entry: Record<string, unknown> | undefined): void {
  if (entry?.msg === 'webhook') {
    consumer.webhooks.push({
      messageId: String(entry.message_id),
      eventId: String(entry.event_id),
      type: String(entry.type),
      outcome: String(entry.outcome),
    });
  }
  if (entry?.msg === 'rejected' && entry.path === '/webhooks') {
    consumer.rejections.push(String(entry.code));
  }
  if (entry?.msg === 'webhook failed') consumer.rejections.push('processing_failed');
}

function inheritedEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !CONFIG_VARIABLE.test(name)),
  );
}

/** Describes a database URL for a person: `an in-memory database`, `PostgreSQL database vh_x`. */
export function describeDatabase(url: string): string {
  if (url.startsWith('memory:')) return 'an in-memory database';
  return `PostgreSQL database ${new URL(url).pathname.slice(1)}`;
}
