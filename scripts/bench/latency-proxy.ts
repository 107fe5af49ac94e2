import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A small TCP proxy that delays every chunk of data by `delayMs`, in both directions, keeping the order:
 * `npm run bench -- checkout --db-latency-ms 5` puts it between the app and PostgreSQL (standing in for
 * Vercel → Neon), so one database round trip costs about 2 × delayMs more. Bandwidth is not limited and
 * chunks are not merged; a chunk that arrives while earlier ones wait is sent `delayMs` after its own arrival.
 */

export interface LatencyProxy {
  /** `postgres://…` of the target with host and port replaced by the proxy's. */
  url(targetUrl: string): string;
  readonly port: number;
  close(): Promise<void>;
}

/** Forwards `from` → `to`, each chunk `delayMs` after it arrived (FIFO). */
function delayedPipe(from: Socket, to: Socket, delayMs: number): void {
  const queue: { at: number; chunk: Buffer }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const flush = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && (queue[0]?.at ?? 0) <= now) {
      const next = queue.shift();
      if (next && !to.destroyed) to.write(next.chunk);
    }
    if (queue.length > 0) {
      timer = setTimeout(flush, Math.max(0, (queue[0]?.at ?? now) - now));
    } else if (ended) {
      to.end();
    }
  };
  from.on('data', (chunk: Buffer) => {
    queue.push({ at: performance.now() + delayMs, chunk });
    if (!timer) timer = setTimeout(flush, delayMs);
  });
  from.on('end', () => {
    ended = true;
    if (!timer && queue.length === 0) to.end();
  });
}

export async function startLatencyProxy(options: { targetUrl: string; delayMs: number }): Promise<LatencyProxy> {
  const target = new URL(options.targetUrl);
  const targetHost = target.hostname || '127.0.0.1';
  const targetPort = Number(target.port || 5432);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: targetHost, port: targetPort });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    delayedPipe(client, upstream, options.delayMs);
    delayedPipe(upstream, client, options.delayMs);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('latency proxy has no port');
  const port = address.port;
  return {
    port,
    url(targetUrl: string) {
      const url = new URL(targetUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
