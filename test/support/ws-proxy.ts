import { createServer, type IncomingMessage } from 'node:http';
import { connect as tcpConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

/**
 * A local WebSocket-to-TCP proxy speaking the protocol @neondatabase/serverless (under
 * @vercel/postgres) expects, so the vercel-postgres driver can run against an ordinary local
 * PostgreSQL.
 *
 * What the client sends (read from @neondatabase/serverless 0.9.5, `Socket.connect`): it opens
 * `ws://` + `${wsProxy}?address=${host}:${port}` when `wsProxy` is a string (or whatever a
 * `wsProxy(host, port)` function returns), host and port being those of the connection string.
 * After the upgrade every WebSocket message is raw Postgres wire protocol in binary frames, both
 * ways; there is no extra framing. So: read `address` from the query string (any path is
 * accepted), open a TCP socket to it, and pipe bytes.
 *
 * Only loopback targets are allowed (127.0.0.1, ::1, localhost); the server itself listens on
 * 127.0.0.1 only.
 */
export interface WsProxy {
  /** The port the proxy listens on (127.0.0.1). */
  port: number;
  /** `ws://127.0.0.1:<port>/v1`, for humans and logs. */
  url: string;
  /** The same without the protocol: the form neonConfig.wsProxy (and our driver's `wsProxy`) takes. */
  wsProxy: string;
  /** How many tunnels (WebSocket + TCP pairs) were opened so far: proof that traffic went through here. */
  readonly tunnelsOpened: number;
  /** Tunnels currently open. */
  readonly tunnelsOpen: number;
  /** Stops listening, drops every open tunnel and waits until the server is closed. */
  close(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** `host:port` from `?address=`; the host may be a bare IPv6 literal, so split on the last colon. */
function parseTarget(request: IncomingMessage): { host: string; port: number } | { error: string; status: number } {
  const address = new URL(request.url ?? '/', 'http://proxy.invalid').searchParams.get('address');
  if (!address) return { status: 400, error: 'missing ?address=host:port' };
  const colon = address.lastIndexOf(':');
  const rawHost = colon > 0 ? address.slice(0, colon) : '';
  const port = Number(address.slice(colon + 1));
  if (!rawHost || !Number.isInteger(port) || port < 1 || port > 65535) {
    return { status: 400, error: `bad address ${JSON.stringify(address)}` };
  }
  if (!LOOPBACK_HOSTS.has(rawHost.toLowerCase())) {
    return { status: 403, error: `target ${rawHost} is not a loopback address` };
  }
  const host = rawHost === '[::1]' ? '::1' : rawHost;
  return { host, port };
}

function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const reason = status === 403 ? 'Forbidden' : 'Bad Request';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`,
  );
}

/** Ties one WebSocket to one TCP connection until either side goes away. */
function tunnel(ws: WebSocket, host: string, port: number, open: Set<Socket>): void {
  const tcp = tcpConnect({ host, port, autoSelectFamily: true });
  open.add(tcp);
  tcp.setNoDelay(true);

  // Client -> Postgres. net.Socket buffers writes made before the TCP connection is up.
  ws.on('message', (data: RawData) => {
    const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (!tcp.write(chunk)) {
      ws.pause();
      tcp.once('drain', () => ws.resume());
    }
  });
  // Postgres -> client.
  tcp.on('data', (chunk: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(chunk, { binary: true });
    if (ws.bufferedAmount > 1 << 20) {
      tcp.pause();
      const resumeWhenDrained = () => {
        if (ws.readyState !== ws.OPEN) return;
        if (ws.bufferedAmount > 1 << 18) setImmediate(resumeWhenDrained);
        else tcp.resume();
      };
      setImmediate(resumeWhenDrained);
    }
  });

  tcp.on('error', () => {
    // Refused or reset: the client sees the WebSocket close, like a dropped TCP connection.
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1011, 'upstream error');
  });
  tcp.on('close', () => {
    open.delete(tcp);
    if (ws.readyState === ws.OPEN) ws.close(1000, 'upstream closed');
  });
  ws.on('close', () => tcp.end());
  ws.on('error', () => tcp.destroy());
}

export async function startWsProxy(opts: { port?: number } = {}): Promise<WsProxy> {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const tcpSockets = new Set<Socket>();
  let tunnelsOpened = 0;
  const server = createServer((_req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain', Connection: 'close' });
    res.end('WebSocket upgrade required');
  });

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const target = parseTarget(request);
    if ('error' in target) {
      refuseUpgrade(socket, target.status, target.error);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      tunnelsOpened += 1;
      tunnel(ws, target.host, target.port, tcpSockets);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('ws-proxy: no TCP address');
  const port = address.port;

  let closing: Promise<void> | undefined;
  return {
    port,
    url: `ws://127.0.0.1:${port}/v1`,
    wsProxy: `127.0.0.1:${port}/v1`,
    get tunnelsOpened() {
      return tunnelsOpened;
    },
    get tunnelsOpen() {
      return tcpSockets.size;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        for (const tcp of tcpSockets) tcp.destroy();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
