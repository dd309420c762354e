// A DNS server for a local zone, as its own process, with an HTTP control route on 127.0.0.1:
//   PUT    /records/<name>/txt  {"values":["…"]}  replaces the TXT records at <name>
//   DELETE /records/<name>                        removes every record at <name>
//   GET    /queries                               the queries received so far
// It prints one JSON line {"msg":"listening","url":<control URL>,"dns":"127.0.0.1:<port>"}.
// DNS_PORT picks the DNS port (default: any free one); CONTROL_PORT the control port (same).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDnsServer, type TestDnsServer } from '@verihook/testing';

const MAX_BODY_BYTES = 64 * 1024;

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function reply(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) return void res.writeHead(status).end();
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function txtValues(body: unknown): string[] | undefined {
  const values = (body as { values?: unknown } | null)?.values;
  if (!Array.isArray(values) || !values.every((value) => typeof value === 'string'))
    return undefined;
  return values;
}

async function control(dns: TestDnsServer, req: IncomingMessage, res: ServerResponse) {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const txt = /^\/records\/([^/]+)\/txt$/.exec(path);
  const record = /^\/records\/([^/]+)$/.exec(path);

  if (req.method === 'GET' && path === '/queries') return reply(res, 200, dns.queries());
  if (req.method === 'PUT' && txt?.[1]) {
    const values = txtValues(await readJson(req));
    if (!values) return reply(res, 400, { error: 'send {"values": ["…"]}' });
    dns.setTxt(decodeURIComponent(txt[1]), values);
    return reply(res, 204);
  }
  if (req.method === 'DELETE' && record?.[1]) {
    dns.remove(decodeURIComponent(record[1]));
    return reply(res, 204);
  }
  reply(res, 404, { error: `no route ${req.method} ${path}` });
}

function port(name: string): number {
  const text = process.env[name];
  if (text === undefined || text === '') return 0;
  if (!/^\d+$/.test(text) || Number(text) > 65535) {
    process.stderr.write(`${name}: "${text}" is not a port number (0 to 65535)\n`);
    process.exit(1);
  }
  return Number(text);
}

async function main(): Promise<void> {
  const dns = await startDnsServer({ port: port('DNS_PORT') });
  const server = createServer((req, res) => {
    control(dns, req, res).catch((error: Error) => reply(res, 400, { error: error.message }));
  });
  server.listen(port('CONTROL_PORT'), '127.0.0.1', () => {
    const { port: controlPort } = server.address() as AddressInfo;
    const url = `http://127.0.0.1:${controlPort}`;
    process.stdout.write(`${JSON.stringify({ msg: 'listening', url, dns: dns.address })}\n`);
  });

  const stop = async () => {
    server.closeAllConnections();
    await Promise.all([new Promise((resolve) => server.close(resolve)), dns.close()]);
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

await main();
