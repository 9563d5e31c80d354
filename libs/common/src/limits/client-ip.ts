import * as ipaddr from 'ipaddr.js';

/** An IP as one canonical string (IPv4-mapped IPv6 becomes IPv4), or null when it is not an IP. */
export function canonicalIp(ip: string | undefined): string | null {
  if (!ip || !ipaddr.isValid(ip)) return null;
  return ipaddr.process(ip).toString();
}

/** True when `ip` is inside one of the CIDR ranges (already validated by the configuration). */
export function ipInRanges(ip: string, ranges: readonly string[]): boolean {
  const canonical = canonicalIp(ip);
  if (canonical === null || ranges.length === 0) return false;
  const address = ipaddr.parse(canonical);
  return ranges.some((range) => {
    const [network, bits] = ipaddr.parseCIDR(range);
    return network.kind() === address.kind() && address.match([network, bits]);
  });
}

/** True for 127.0.0.0/8 and ::1 (also as IPv4-mapped IPv6). */
export function isLoopbackIp(ip: string | undefined): boolean {
  const canonical = canonicalIp(ip);
  return canonical !== null && ipaddr.parse(canonical).range() === 'loopback';
}
