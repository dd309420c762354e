// Keeps webhook deliveries away from loopback, private, link-local and metadata addresses.
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector } from 'undici';

export type BlockReason =
  | 'invalid_ip'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'carrier_grade_nat'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'documentation'
  | 'unique_local'
  | 'site_local'
  | 'metadata'
  | 'not_global_unicast';

export type EmbeddingKind =
  | 'ipv4_mapped'
  | 'ipv4_translated'
  | 'ipv4_compatible'
  | 'nat64'
  | '6to4'
  | 'teredo';

export interface AddressVerdict {
  allowed: boolean;
  reason?: BlockReason;
  /** Set when an IPv6 address was judged by the IPv4 address inside it. */
  via?: EmbeddingKind;
  embeddedIpv4?: string;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has; tests pass a stub, production uses node:dns. */
export type HostLookup = (hostname: string) => Promise<ResolvedAddress[]>;

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;

const ALLOWED: AddressVerdict = { allowed: true };

const METADATA_ADDRESSES = new Set([
  '169.254.169.254',
  '169.254.170.2',
  '100.100.100.200',
  '192.0.0.192',
  'fd00:ec2::254',
]);

const IPV4_RANGE_REASONS: Record<string, BlockReason> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link_local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier_grade_nat',
  private: 'private',
};

const IPV6_RANGE_REASONS: Record<string, BlockReason> = {
  unspecified: 'unspecified',
  loopback: 'loopback',
  linkLocal: 'link_local',
  multicast: 'multicast',
  uniqueLocal: 'unique_local',
  deprecatedSiteLocal: 'site_local',
};

const DOCUMENTATION_RANGES = [
  '192.0.2.0/24',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '2001:db8::/32',
  '3fff::/20',
].map((cidr) => ipaddr.parseCIDR(cidr));

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');

/** Whether a delivery may connect to this address; IPv6 that embeds IPv4 is judged by the IPv4. */
export function checkAddress(ip: string): AddressVerdict {
  const address = parseAddress(ip);
  if (!address) return { allowed: false, reason: 'invalid_ip' };
  return address.kind() === 'ipv4' ? checkIpv4(address as IPv4) : checkIpv6(address as IPv6);
}

function parseAddress(ip: string): IPv4 | IPv6 | undefined {
  const unbracketed = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const spelled = unbracketed.includes(':') ? hexIpv4Tail(unbracketed) : unbracketed;
  if (!ipaddr.isValid(spelled)) return undefined;
  return ipaddr.parse(spelled);
}

// ipaddr.js reads every dotted tail as IPv4-mapped (`::10.0.0.1` as `::ffff:a00:1`).
function hexIpv4Tail(ipv6: string): string {
  const match = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(%.*)?$/.exec(ipv6);
  if (!match) return ipv6;
  const octets = match.slice(2, 6).map(Number);
  if (octets.some((octet) => octet > 255)) return ipv6;
  const [a = 0, b = 0, c = 0, d = 0] = octets;
  const hex = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  return `${match[1]}${hex}${match[6] ?? ''}`;
}

function checkIpv4(address: IPv4): AddressVerdict {
  if (METADATA_ADDRESSES.has(address.toString())) return { allowed: false, reason: 'metadata' };
  const range = address.range();
  if (range === 'unicast') return ALLOWED;
  if (isDocumentation(address)) return { allowed: false, reason: 'documentation' };
  return { allowed: false, reason: IPV4_RANGE_REASONS[range] ?? 'reserved' };
}

function checkIpv6(address: IPv6): AddressVerdict {
  const withoutZone = new ipaddr.IPv6(address.parts);
  if (METADATA_ADDRESSES.has(withoutZone.toString())) return { allowed: false, reason: 'metadata' };
  const range = withoutZone.range();
  if (range === 'unspecified' || range === 'loopback') return { allowed: false, reason: range };

  const embedded = embeddedIpv4(withoutZone);
  if (embedded) return checkEmbedded(embedded.via, embedded.addresses);

  if (isDocumentation(withoutZone)) return { allowed: false, reason: 'documentation' };
  if (range !== 'unicast') {
    return { allowed: false, reason: IPV6_RANGE_REASONS[range] ?? 'reserved' };
  }
  if (!withoutZone.match(GLOBAL_UNICAST_V6)) {
    return { allowed: false, reason: 'not_global_unicast' };
  }
  return ALLOWED;
}

function checkEmbedded(via: EmbeddingKind, addresses: IPv4[]): AddressVerdict {
  for (const address of addresses) {
    const verdict = checkIpv4(address);
    if (!verdict.allowed) return { ...verdict, via, embeddedIpv4: address.toString() };
  }
  return ALLOWED;
}

// RFC 4291 §2.5.5 (mapped, compatible), RFC 6145 (translated), RFC 6052 (NAT64),
// RFC 3056 (6to4) and RFC 4380 §4 (Teredo: server in bits 32-63, client inverted in the last 32).
function embeddedIpv4(address: IPv6): { via: EmbeddingKind; addresses: IPv4[] } | undefined {
  const bytes = address.toByteArray();
  const zeros = (from: number, to: number) => bytes.slice(from, to).every((byte) => byte === 0);
  const ipv4At = (offset: number, mask = 0) =>
    new ipaddr.IPv4(bytes.slice(offset, offset + 4).map((byte) => byte ^ mask));

  if (zeros(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return { via: 'ipv4_mapped', addresses: [ipv4At(12)] };
  }
  if (zeros(0, 8) && bytes[8] === 0xff && bytes[9] === 0xff && zeros(10, 12)) {
    return { via: 'ipv4_translated', addresses: [ipv4At(12)] };
  }
  if (zeros(0, 12)) return { via: 'ipv4_compatible', addresses: [ipv4At(12)] };
  if (address.match(NAT64_WELL_KNOWN)) {
    return { via: 'nat64', addresses: [ipv4At(12)] };
  }
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return { via: '6to4', addresses: [ipv4At(2)] };
  if (bytes[0] === 0x20 && bytes[1] === 0x01 && zeros(2, 4)) {
    return { via: 'teredo', addresses: [ipv4At(4), ipv4At(12, 0xff)] };
  }
  return undefined;
}

function isDocumentation(address: IPv4 | IPv6): boolean {
  return DOCUMENTATION_RANGES.some(
    ([network, bits]) => network.kind() === address.kind() && address.match(network, bits),
  );
}

/** RFC 6761 §6.3: `localhost` and every name under it are loopback, whatever DNS says. */
export function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/** Every address a name resolves to, through the operating system's resolver. */
export const systemLookup: HostLookup = async (hostname) => {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true });
  return answers.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

export type EndpointUrlErrorCode =
  | 'invalid_url'
  | 'unsupported_scheme'
  | 'https_required'
  | 'credentials_in_url'
  | 'blocked_address'
  | 'unresolvable_host';

export type EndpointUrlCheck =
  | { ok: true; url: URL }
  | { ok: false; code: EndpointUrlErrorCode; message: string };

export interface EndpointUrlOptions {
  /** VERIHOOK_ALLOW_PRIVATE_ENDPOINTS: any address, and plain http, for local development. */
  allowPrivate: boolean;
  /** Plain http to public addresses. */
  allowHttp: boolean;
  lookup?: HostLookup;
}

/** Checks an endpoint URL when it is saved: scheme, credentials and every address of its host. */
export async function validateEndpointUrl(
  input: string,
  options: EndpointUrlOptions,
): Promise<EndpointUrlCheck> {
  const url = URL.canParse(input) ? new URL(input) : undefined;
  if (!url) return failure('invalid_url', 'the endpoint URL is not a valid absolute URL');
  const schemeProblem = checkScheme(url, options);
  if (schemeProblem) return schemeProblem;
  if (url.username || url.password) {
    return failure(
      'credentials_in_url',
      'the endpoint URL must not contain a user name or password',
    );
  }
  if (options.allowPrivate) return { ok: true, url };

  const hostProblem = await checkHost(url.hostname, options.lookup ?? systemLookup);
  return hostProblem ?? { ok: true, url };
}

function checkScheme(url: URL, options: EndpointUrlOptions): EndpointUrlCheck | undefined {
  if (url.protocol === 'https:') return undefined;
  if (url.protocol !== 'http:') {
    return failure('unsupported_scheme', `the endpoint URL must use https, not ${url.protocol}`);
  }
  if (options.allowPrivate || options.allowHttp) return undefined;
  return failure('https_required', 'the endpoint URL must use https');
}

// The WHATWG URL parser has already turned decimal, hex, octal and short IPv4 forms into
// dotted quads and compressed IPv6, so a literal here is in its canonical spelling.
async function checkHost(hostname: string, lookup: HostLookup) {
  if (isLocalhostName(hostname)) {
    return failure('blocked_address', `${hostname} is a loopback name`);
  }
  const literal = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  if (isIP(literal)) return blockedAddressFailure(hostname, literal);

  let addresses: ResolvedAddress[];
  try {
    addresses = await lookup(hostname);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'an error';
    return failure('unresolvable_host', `${hostname} could not be resolved (${code})`);
  }
  if (addresses.length === 0) {
    return failure('unresolvable_host', `${hostname} has no addresses`);
  }
  for (const { address } of addresses) {
    const problem = blockedAddressFailure(hostname, address);
    if (problem) return problem;
  }
  return undefined;
}

function blockedAddressFailure(hostname: string, address: string) {
  const verdict = checkAddress(address);
  if (verdict.allowed) return undefined;
  return failure('blocked_address', describeBlock(hostname, address, verdict));
}

function describeBlock(hostname: string, address: string, verdict: AddressVerdict): string {
  const target =
    hostname === address || hostname === `[${address}]` ? hostname : `${hostname} (${address})`;
  const embedded = verdict.via ? ` via ${verdict.via} ${verdict.embeddedIpv4}` : '';
  return `${target} is not a public address: ${verdict.reason}${embedded}`;
}

function failure(code: EndpointUrlErrorCode, message: string): EndpointUrlCheck {
  return { ok: false, code, message };
}

/** Thrown at connect time when a host is, or resolves to, an address deliveries must not reach. */
export class SsrfBlockedError extends Error {
  readonly code = 'ERR_SSRF_BLOCKED';
  readonly hostname: string;
  readonly address: string;
  readonly verdict: AddressVerdict;

  constructor(hostname: string, address: string, verdict: AddressVerdict) {
    super(`refusing to connect: ${describeBlock(hostname, address, verdict)}`);
    this.name = 'SsrfBlockedError';
    this.hostname = hostname;
    this.address = address;
    this.verdict = verdict;
  }
}

export interface GuardedDispatcherOptions {
  allowPrivate: boolean;
  lookup?: HostLookup;
  connectTimeoutMs?: number;
  connections?: number;
  keepAliveTimeoutMs?: number;
}

/**
 * An undici Agent that resolves each host itself, refuses the connection when any address is
 * blocked (DNS rebinding), and connects only to the addresses it vetted.
 */
export function createGuardedDispatcher(options: GuardedDispatcherOptions): Agent {
  const vet: HostLookup = (hostname) => resolveVettedAddresses(hostname, options);
  const connector = buildConnector({
    lookup: netLookup(vet),
    timeout: options.connectTimeoutMs ?? 10_000,
  });
  return new Agent({
    connections: options.connections ?? null,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 4_000,
    connect(connectOptions, callback) {
      const refusal = refuseLiteral(connectOptions.hostname, options.allowPrivate);
      if (refusal) {
        callback(refusal, null);
        return;
      }
      connector(connectOptions, callback);
    },
  });
}

// net.connect skips the lookup function for IP literals, so they are checked before connecting.
function refuseLiteral(hostname: string, allowPrivate: boolean): SsrfBlockedError | undefined {
  if (allowPrivate) return undefined;
  if (isLocalhostName(hostname)) {
    return new SsrfBlockedError(hostname, hostname, { allowed: false, reason: 'loopback' });
  }
  const literal = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  if (!isIP(literal)) return undefined;
  const verdict = checkAddress(literal);
  return verdict.allowed ? undefined : new SsrfBlockedError(hostname, literal, verdict);
}

/**
 * Every address of a host, resolved now, when all of them may be reached; otherwise it throws
 * SsrfBlockedError. The guarded dispatcher connects only to what this returns.
 */
export async function resolveVettedAddresses(
  hostname: string,
  options: { allowPrivate: boolean; lookup?: HostLookup },
): Promise<ResolvedAddress[]> {
  const addresses = await (options.lookup ?? systemLookup)(hostname);
  if (addresses.length === 0) throw notFound(`${hostname} has no addresses`);
  if (options.allowPrivate) return addresses;
  for (const { address } of addresses) {
    const verdict = checkAddress(address);
    if (!verdict.allowed) throw new SsrfBlockedError(hostname, address, verdict);
  }
  return addresses;
}

// net.connect calls lookup with `all: true` when it races address families (autoSelectFamily).
function netLookup(vet: HostLookup): LookupFunction {
  return (hostname, lookupOptions, callback) => {
    const family = familyNumber(lookupOptions.family);
    const answer = (addresses: ResolvedAddress[]) => {
      const usable = family ? addresses.filter((a) => a.family === family) : addresses;
      const first = usable[0];
      if (!first) callback(notFound(`${hostname} has no IPv${family} address`), '', 0);
      else if (lookupOptions.all) callback(null, usable, 0);
      else callback(null, first.address, first.family);
    };
    vet(hostname).then(answer, (error: NodeJS.ErrnoException) => callback(error, '', 0));
  };
}

function familyNumber(family: number | 'IPv4' | 'IPv6' | undefined): 0 | 4 | 6 {
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return 0;
}

function notFound(message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code: 'ENOTFOUND' });
}
