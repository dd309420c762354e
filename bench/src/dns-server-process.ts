// The test DNS server (@verihook/testing) in its own process, so that its CPU is not counted
// as the checker's; it publishes the records of DNS_DOMAINS bench domains.
import { startDnsServer } from '@verihook/testing';
import { benchDomain } from './dns-fixture.ts';

const count = Number(process.env.DNS_DOMAINS ?? 0);

async function main() {
  const server = await startDnsServer();
  for (let n = 0; n < count; n += 1) {
    const { domain, txtRecordKey, expectedValue, published } = benchDomain(n);
    if (published) server.setTxt(`${txtRecordKey}.${domain}`, [expectedValue]);
  }
  const shutdown = () => {
    server.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  process.on('disconnect', shutdown);
  process.on('message', (message: { type?: string }) => {
    if (message?.type !== 'stats') return;
    const cpu = process.cpuUsage();
    process.send?.({ type: 'stats', cpuMs: (cpu.user + cpu.system) / 1000 });
  });
  process.send?.({ type: 'ready', address: server.address });
}

main().catch((error: Error) => {
  process.send?.({ type: 'error', message: error.message });
  process.exit(1);
});
