// A real DNS server on 127.0.0.1 (UDP and TCP on one port) serving a zone that can change while
// it runs: for the relay's verification tests and the demo.
import type { Socket as TcpSocket } from 'node:net';
import dns2 from 'dns2';
import { createZone, type Zone, type ZoneRecord } from './dns-zone.ts';

const { Packet, TCPServer, UDPServer } = dns2;
const HOST = '127.0.0.1';
const PORT_ATTEMPTS = 10;

export interface DnsQuery {
  name: string;
  type: string;
  transport: 'udp' | 'tcp';
}

export interface TestDnsServer extends Omit<Zone, 'answer'> {
  /** `127.0.0.1:<port>`, as a resolver's server list takes it. */
  address: string;
  port: number;
  /** Every query received since the start or the last `clear()`, oldest first. */
  queries(): DnsQuery[];
  /** Removes every record and failure, and forgets the queries. */
  clear(): void;
  close(): Promise<void>;
}

export interface DnsServerOptions {
  /** The port for both UDP and TCP; 0 (the default) picks a free one. */
  port?: number;
}

type DnsRequest = InstanceType<typeof Packet>;
type Send = (response: DnsRequest) => unknown;
type Bound = { udp: InstanceType<typeof UDPServer>; tcp: InstanceType<typeof TCPServer> };

/** Starts a DNS server on 127.0.0.1 answering from an empty zone; unknown names are NXDOMAIN. */
export async function startDnsServer(options: DnsServerOptions = {}): Promise<TestDnsServer> {
  const zone = createZone();
  const queries: DnsQuery[] = [];
  const handle = (transport: DnsQuery['transport']) => (request: DnsRequest, send: Send) =>
    respond(zone, queries, transport, request, send);
  const { udp, tcp } = await bindBoth(options.port ?? 0, handle);
  const port = udp.address().port;
  const connections = trackConnections(tcp);

  let closing: Promise<void> | undefined;
  return {
    setTxt: zone.setTxt,
    setA: zone.setA,
    setCname: zone.setCname,
    setServfail: zone.setServfail,
    setNoAnswer: zone.setNoAnswer,
    remove: zone.remove,
    address: `${HOST}:${port}`,
    port,
    queries: () => queries.map((query) => ({ ...query })),
    clear() {
      zone.clear();
      queries.length = 0;
    },
    close() {
      closing ??= closeBoth(udp, tcp, connections);
      return closing;
    },
  };
}

function respond(
  zone: Zone,
  queries: DnsQuery[],
  transport: DnsQuery['transport'],
  request: DnsRequest,
  send: Send,
): void {
  const question = request.questions[0];
  const response = Packet.createResponseFromRequest(request);
  response.header.aa = 1;
  if (!question) {
    response.header.rcode = Packet.RCODE.FORMERR;
  } else {
    const type = Packet.typeName(question.type);
    queries.push({ name: question.name, type, transport });
    const answer = zone.answer(question.name, type);
    if (answer.kind === 'silence') return;
    response.header.rcode = Packet.RCODE[answer.rcode];
    response.answers = answer.records.map(toResource);
  }
  // The client may be gone (a timed-out query, a closed server); there is no one to tell.
  Promise.resolve()
    .then(() => send(response))
    .catch(() => {});
}

function toResource(record: ZoneRecord) {
  const base = { name: record.name, class: Packet.CLASS.IN, ttl: 0 };
  switch (record.type) {
    case 'TXT':
      return new Packet.Resource({ ...base, type: Packet.TYPE.TXT, data: record.strings });
    case 'A':
      return new Packet.Resource({ ...base, type: Packet.TYPE.A, address: record.address });
    case 'CNAME':
      return new Packet.Resource({ ...base, type: Packet.TYPE.CNAME, domain: record.target });
  }
}

/** Binds UDP, then TCP on the same port (resolvers fall back to TCP on the same server). */
async function bindBoth(
  port: number,
  handle: (transport: DnsQuery['transport']) => (request: DnsRequest, send: Send) => void,
): Promise<Bound> {
  for (let attempt = 1; ; attempt += 1) {
    const udp = new UDPServer({ type: 'udp4' });
    udp.on('request', handle('udp'));
    await listenUdp(udp, port);
    const tcp = new TCPServer();
    tcp.on('request', handle('tcp'));
    try {
      await listenTcp(tcp, udp.address().port);
      return { udp, tcp };
    } catch (error) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      const retry = port === 0 && (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!retry || attempt === PORT_ATTEMPTS) throw error;
    }
  }
}

function listenUdp(udp: InstanceType<typeof UDPServer>, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(port, HOST, () => {
      udp.off('error', reject);
      resolve();
    });
  });
}

function listenTcp(tcp: InstanceType<typeof TCPServer>, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, HOST, () => {
      tcp.off('error', reject);
      resolve();
    });
  });
}

function trackConnections(tcp: InstanceType<typeof TCPServer>): Set<TcpSocket> {
  const connections = new Set<TcpSocket>();
  tcp.on('connection', (socket: TcpSocket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  return connections;
}

async function closeBoth(
  udp: InstanceType<typeof UDPServer>,
  tcp: InstanceType<typeof TCPServer>,
  connections: Set<TcpSocket>,
): Promise<void> {
  for (const socket of connections) socket.destroy();
  await Promise.all([
    new Promise<void>((resolve) => udp.close(() => resolve())),
    new Promise<void>((resolve) => tcp.close(() => resolve())),
  ]);
}
