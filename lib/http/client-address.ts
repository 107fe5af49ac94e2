import { isIP } from 'node:net';
import { clientKey } from '../client-key.js';

export { clientKey };

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
