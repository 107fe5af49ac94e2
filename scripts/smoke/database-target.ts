/** Which database the smoke CLI may write to (a local one, or a throw-away one with --fresh-db). */

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * The host pg connects to for a connection string (as pg-connection-string reads it): a string starting with
 * `/` or a `socket:` URL is a unix socket path; `?host=` wins over the URL's host; no host at all falls back
 * to PGHOST, then localhost. Brackets of an IPv6 address removed. undefined when it does not parse.
 */
export function databaseHost(databaseUrl: string, env: Record<string, string | undefined> = process.env): string | undefined {
  if (databaseUrl.startsWith('/')) return databaseUrl.split(' ')[0];
  let url: URL;
  try {
    url = new URL(databaseUrl.replace('@/', '@___nohost___/'));
  } catch {
    return undefined;
  }
  if (url.protocol === 'socket:') return decodeURI(url.pathname);
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return undefined;
  const hostname = url.hostname === '___nohost___' ? '' : url.hostname.replace(/^\[(.+)\]$/, '$1');
  let host: string;
  try {
    host = url.searchParams.get('host') || decodeURIComponent(hostname);
  } catch {
    return undefined;
  }
  return host || env.PGHOST || 'localhost';
}

/** localhost, the IPv4 loopback range 127.0.0.0/8, ::1, or a unix socket path. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return (
    h.startsWith('/') || h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
  );
}

/**
 * Whether the CLI may run against DATABASE_URL. Without --fresh-db the smoke writes real rows into that very
 * database (and without --no-seed upserts the demo event), so it only goes ahead on a local one: CI's
 * throw-away database is on 127.0.0.1. Against anything else (a shared or staging server) it refuses; with
 * --fresh-db it only creates and drops a database of its own there. Returns the one-line refusal (exit 2),
 * or undefined when the run may go ahead.
 */
export function databaseTargetRefusal(
  databaseUrl: string,
  opts: { freshDb: boolean; env?: Record<string, string | undefined> },
): string | undefined {
  if (opts.freshDb) return undefined;
  const host = databaseHost(databaseUrl, opts.env);
  if (host !== undefined && isLoopbackHost(host)) return undefined;
  return (
    `vercel smoke: refusing to write to ${host === undefined ? 'a database whose host DATABASE_URL does not tell' : `the database on ${host}`}, ` +
    'not a local one: the smoke creates orders with Stripe and PayPal, signed webhook events and an API key with every ' +
    'scope (valid 30 min), and runs both crons (which re-dispatch failed webhook events); ' +
    'use --fresh-db (a throw-away database on that server, dropped after) or a local database (localhost, 127.0.0.1, ::1 or a unix socket)'
  );
}
