/**
 * Local dev: run the WebSocket-to-TCP proxy the vercel-postgres driver needs against a local
 * PostgreSQL.
 *
 *   npx tsx scripts/ws-proxy.ts [--port 5433]
 *   DATABASE_DRIVER=vercel-postgres VERCEL_POSTGRES_WS_PROXY=127.0.0.1:5433/v1 DATABASE_URL=postgres://...@localhost:5432/db ...
 *
 * Listens on 127.0.0.1 only and tunnels only to loopback databases.
 */
import { parseArgs } from 'node:util';
import { startWsProxy } from '../test/support/ws-proxy.js';

const { values } = parseArgs({ options: { port: { type: 'string', default: '5433' } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`ws-proxy: bad --port ${values.port}`);
  process.exit(2);
}

const proxy = await startWsProxy({ port });
console.log(`ws-proxy listening on ${proxy.url} (wsProxy setting: ${proxy.wsProxy})`);

const stop = () => {
  void proxy.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
