import { isIPv4 } from 'node:net';

// Addresses in Mesos's shapes: the IPv4 address a host name or endpoint URL names (when it is
// a literal; nothing is resolved), and Mesos's uint32 `ip` field (MasterInfo.ip), which holds the
// address in network byte order read as a little-endian integer (127.0.0.1 is 16777343).

/** The IPv4 literal of a host (or "localhost"), else undefined. */
export function ipv4OfHost(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  if (host === 'localhost') return '127.0.0.1';
  return isIPv4(host) ? host : undefined;
}

/** The IPv4 literal an endpoint URL's host is, else undefined. */
export function ipv4OfUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return ipv4OfHost(new URL(url).hostname);
  } catch {
    return undefined;
  }
}

export function mesosIpInt(ip: string): number {
  const [a = 0, b = 0, c = 0, d = 0] = ip.split('.').map(Number);
  return (a + b * 2 ** 8 + c * 2 ** 16 + d * 2 ** 24) >>> 0;
}
