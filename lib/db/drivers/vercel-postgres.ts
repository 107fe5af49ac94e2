import { createPool, types as neonTypes, VercelClient, type VercelPool } from '@vercel/postgres';
import WebSocket from 'ws';
import { type DbPool, type PoolSettings, pgPoolOptions } from './types.js';

/**
 * The opt-in driver (DATABASE_DRIVER=vercel-postgres): @vercel/postgres 0.10's pool, which is
 * @neondatabase/serverless 0.9.5's Pool (node-postgres over a WebSocket to Neon's proxy).
 *
 * What the library checks, read from node_modules (not from docs):
 * - createPool() refuses any connection string that neither contains "-pooler." (Neon's pooled
 *   host) nor has the hostname exactly "localhost" (`new URL(s.replace(/^postgresql:\/\//,
 *   'https://')).hostname === 'localhost'`). 127.0.0.1 and ::1 are refused with
 *   "invalid_connection_string ... meant to be used with a direct connection". The sanctioned way
 *   to pass a local database is therefore a `localhost` URL; with a local `wsProxy` we rewrite a
 *   loopback IP host to `localhost` before calling createPool (same machine, and the proxy only
 *   dials loopback anyway). Production URLs are passed through untouched, so a non-pooled Neon URL
 *   still fails loudly there.
 * - Node 20 has no global WebSocket. The package's "node" entry sets the global
 *   `neonConfig.webSocketConstructor = ws` on import; we also set it per client so the driver does
 *   not depend on which entry a bundler picked.
 * - neonConfig is a global, but each Client exposes its own overrides as `client.neonConfig`
 *   (its socket shim). The pool builds clients with `new pool.Client(options)`, so we swap in a
 *   subclass that configures each new client, and never touch the global config.
 * - With a local proxy (our test/support/ws-proxy.ts, or Neon's wsproxy): `wsProxy` "host:port/path"
 *   (no protocol; the client appends `?address=<db host>:<db port>`), `useSecureWebSocket=false`
 *   (plain ws://), `pipelineTLS=false` and `pipelineConnect=false`. The default
 *   pipelineConnect "password" sends the password message before the server asks for it, which
 *   only works with cleartext-password auth; trust, md5 and SCRAM servers need it off.
 *   forceDisablePgSSL stays at its default true (no Postgres-level TLS inside the tunnel).
 *
 * statement_timeout: passed as node-postgres' `statement_timeout` option, i.e. a startup
 * parameter, so the server applies it to the whole session from the first statement, the same
 * way the pg driver does. Verified against local PostgreSQL through the proxy (57014).
 * Caveat for real Neon: its proxy/pooler does not honour timeout startup parameters (reported as
 * silently dropped, neondatabase/neon#12856; `options=-c ...` is rejected by the pooler as an
 * "unsupported startup parameter"), and a `SET` on connect is unreliable behind a
 * transaction-mode pooler. There the timeout belongs on the role:
 * `ALTER ROLE <app role> SET statement_timeout = '<n>ms'`.
 */

export interface VercelPostgresOptions {
  /**
   * Local/test only: a WebSocket-to-TCP proxy, "host:port" or "host:port/path" (a leading
   * "ws://" is accepted and dropped). Switches to insecure, non-pipelined WebSockets.
   */
  wsProxy?: string | undefined;
}

/** int8 (COUNT(*), SUM over integers) as a JS number, as in the pg driver; amounts stay far below 2^53. */
const INT8_OID = 20;
type PoolConfig = NonNullable<Parameters<typeof createPool>[0]>;
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (value: string) => Number(value);
    return format === 'binary' ? neonTypes.getTypeParser(oid, 'binary') : neonTypes.getTypeParser(oid, 'text');
  },
  // The bundled @types/pg types getTypeParser as the overloaded pg-types function; ours is the
  // same at runtime (node-postgres only calls getTypeParser(oid, format)).
} as unknown as PoolConfig['types'];

const LOOPBACK_IP_HOSTS = new Set(['127.0.0.1', '[::1]']);

/** A loopback-IP connection string with its host spelled `localhost`, the only local form createPool accepts. */
export function withLocalhostHost(connectionString: string): string {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return connectionString;
  }
  if (!LOOPBACK_IP_HOSTS.has(url.hostname)) return connectionString;
  url.hostname = 'localhost';
  return url.toString();
}

function normalizeWsProxy(wsProxy: string): string {
  const trimmed = wsProxy.trim().replace(/^ws:\/\//i, '');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    throw new Error(`vercel-postgres wsProxy must be "host:port[/path]" (plain ws only), got ${JSON.stringify(wsProxy)}`);
  }
  return trimmed.replace(/\/+$/, '');
}

type ClientConfig = ConstructorParameters<typeof VercelClient>[0];

function clientClass(wsProxy: string | undefined): typeof VercelClient {
  return class ConfiguredVercelClient extends VercelClient {
    constructor(config?: ClientConfig) {
      super(config);
      this.neonConfig.webSocketConstructor = WebSocket;
      if (wsProxy !== undefined) {
        this.neonConfig.wsProxy = wsProxy;
        this.neonConfig.useSecureWebSocket = false;
        this.neonConfig.pipelineTLS = false;
        this.neonConfig.pipelineConnect = false;
      }
    }
  };
}

export function createVercelPostgresPool(settings: PoolSettings, options: VercelPostgresOptions = {}): DbPool & VercelPool {
  const wsProxy = options.wsProxy ? normalizeWsProxy(options.wsProxy) : undefined;
  const connectionString = wsProxy !== undefined ? withLocalhostHost(settings.connectionString) : settings.connectionString;

  const pool = createPool({
    ...pgPoolOptions(settings),
    connectionString,
    types: typeParsers,
  });
  pool.Client = clientClass(wsProxy);
  // An idle client that loses its WebSocket emits 'error' on the pool; without a listener the
  // process would crash. The next checkout opens a new connection. (Only non-'error' listeners
  // affect neon's poolQueryViaFetch, which stays off.)
  pool.on('error', () => undefined);
  return pool;
}
