import { isIP, isIPv4 } from 'node:net';

/**
 * The client address, as the platform reports it, and the key abuse limits count it under.
 *
 * Trusted headers (README "Abuse limits"): CLIENT_IP_HEADER (default `x-forwarded-for`). On Vercel the
 * edge overwrites x-forwarded-for with the address it saw, so a client cannot spoof it there. Behind
 * another proxy or CDN that appends to the header, TRUSTED_PROXY_HOPS says how many entries at the
 * right end were added by our own proxies after the one that saw the client: we take the entry just
 * left of those (never the left-most, which the client writes). Behind a CDN that sets its own header
 * (Cloudflare `cf-connecting-ip`), name that header. Anything that is not an IP address is ignored.
 */

export interface ClientAddressConfig {
  clientIpHeader: string;
  trustedProxyHops: number;
}

function clean(value: string | undefined): string | undefined {
  if (!value) return undefined;
  let text = value.trim();
  if (text.startsWith('[') && text.includes(']')) text = text.slice(1, text.indexOf(']'));
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(text)) text = text.slice(0, text.lastIndexOf(':'));
  return text.length <= 64 && isIP(text) !== 0 ? text.toLowerCase() : undefined;
}

export function platformClientIp(headers: Headers, config: ClientAddressConfig): string | undefined {
  const header = headers.get(config.clientIpHeader);
  if (header !== null) {
    const entries = header.split(',');
    const index = Math.max(0, entries.length - 1 - config.trustedProxyHops);
    return clean(entries[index]);
  }
  // Vercel sets x-real-ip to the same address; only consulted with the default header.
  return config.clientIpHeader === 'x-forwarded-for' ? clean(headers.get('x-real-ip') ?? undefined) : undefined;
}

function expandIPv6(ip: string): number[] | undefined {
  let text = ip.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  // A dotted IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const [a, b, c, d] = dotted[1].split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -dotted[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? left.length !== 8 : missing < 0) return undefined;
  const groups = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right].map((g) =>
    Number.parseInt(g, 16),
  );
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

/**
 * What abuse limits count an address as: IPv4 as itself (IPv4-mapped IPv6 `::ffff:a.b.c.d` too: it is
 * the same client), IPv6 by its /64 (one subscriber usually gets a whole /64).
 */
export function clientKey(ip: string | undefined): string | undefined {
  if (!ip) return undefined;
  if (isIPv4(ip)) return ip;
  const groups = expandIPv6(ip);
  if (!groups) return undefined;
  const isMapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isMapped) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}
