// A host lookup through a real DNS server on 127.0.0.1, for the SSRF tests.
import { Resolver } from 'node:dns/promises';
import type { HostLookup } from '../../src/delivery/ssrf.ts';

/** Resolves names with a real DNS server on 127.0.0.1 (the test DNS server's port). */
export function resolverLookup(port: number): HostLookup {
  const resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  return async (hostname) => {
    const [v4, v6] = await Promise.allSettled([
      resolver.resolve4(hostname),
      resolver.resolve6(hostname),
    ]);
    const found = [
      ...(v4.status === 'fulfilled'
        ? v4.value.map((address) => ({ address, family: 4 as const }))
        : []),
      ...(v6.status === 'fulfilled'
        ? v6.value.map((address) => ({ address, family: 6 as const }))
        : []),
    ];
    if (found.length === 0 && v4.status === 'rejected') throw v4.reason;
    return found;
  };
}
