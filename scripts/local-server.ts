import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, relative, resolve, sep } from 'node:path';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { handleMailPage, type MailCatcher } from './mail-catcher.js';

/**
 * A small stand-in for `vercel dev` (which needs a login): serves every api/ file the way Vercel
 * routes it — file path = route, `[id]` segments passed as query parameters, `index.ts` for the
 * folder, vercel.json rewrites — calls its Web-form method export with a `Request`, and serves
 * public/ as the static root. Dev and benchmarks only.
 */

type WebHandler = (request: Request) => Promise<Response>;

interface ApiRoute {
  file: string;
  pattern: RegExp;
  params: string[];
  /** Static segments rank before dynamic ones, as on Vercel. */
  rank: number[];
}

interface Rewrite {
  source: RegExp;
  params: string[];
  destination: string;
}

const root = resolve(import.meta.dirname, '..');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** api/orders/[id].ts → /api/orders/:id ; api/orders/index.ts → /api/orders */
export function discoverRoutes(apiDir: string): ApiRoute[] {
  const routes = walk(apiDir)
    .filter((file) => /\.(ts|js|mjs)$/.test(file) && !/\.(test|spec|d)\.[a-z]+$/.test(file))
    .filter(
      (file) =>
        !relative(apiDir, file)
          .split(sep)
          .some((part) => part.startsWith('_')),
    )
    .map((file) => {
      const segments = relative(apiDir, file)
        .replace(/\.(ts|js|mjs)$/, '')
        .split(sep);
      if (segments.at(-1) === 'index') segments.pop();
      const params: string[] = [];
      const regex = segments
        .map((segment) => {
          const dynamic = /^\[(\w+)\]$/.exec(segment);
          if (dynamic?.[1]) {
            params.push(dynamic[1]);
            return '/([^/]+)';
          }
          return `/${segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
        })
        .join('');
      return {
        file,
        pattern: new RegExp(`^/api${regex}/?$`),
        params,
        rank: segments.map((segment) => (segment.startsWith('[') ? 1 : 0)),
      };
    });
  return routes.sort((a, b) => {
    for (let i = 0; i < Math.max(a.rank.length, b.rank.length); i++) {
      const diff = (a.rank[i] ?? -1) - (b.rank[i] ?? -1);
      if (diff !== 0) return diff;
    }
    return 0;
  });
}

/** vercel.json rewrites with `:name` and `:name*` parameters (the forms this project uses). */
export function loadRewrites(vercelJsonPath: string): Rewrite[] {
  if (!existsSync(vercelJsonPath)) return [];
  const config = JSON.parse(readFileSync(vercelJsonPath, 'utf8')) as { rewrites?: { source: string; destination: string }[] };
  return (config.rewrites ?? []).map(({ source, destination }) => {
    const params: string[] = [];
    const regex = source.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:(\w+)(\*)?/g, (_, name: string, star?: string) => {
      params.push(name);
      return star ? '(.*)' : '([^/]+)';
    });
    return { source: new RegExp(`^${regex}$`), params, destination };
  });
}

interface HeaderRule {
  source: RegExp;
  headers: { key: string; value: string }[];
}

/**
 * A vercel.json `source` (path-to-regexp: `:name`, `:name*`, raw groups such as `(.*)`) as an anchored RegExp.
 * As Vercel compiles it (path-to-regexp 6, strict): `/:name*` is optional with its slash, so `/docs/:path*` matches
 * `/docs` and `/docs/a/b` but not `/docs/`; `(.*)` is a raw group (`/docs(.*)` matches all three).
 */
export function sourcePattern(source: string): RegExp {
  const parts = source.split(/(\([^)]*\))/);
  const regex = parts
    .map((part) =>
      part.startsWith('(')
        ? part
        : part
            .replace(/[.+?^${}|[\]\\]/g, '\\$&')
            .replace(/(\/?):(\w+)(\*)?/g, (_, slash: string, _name: string, star?: string) =>
              star ? `(?:${slash}([^/]+(?:/[^/]+)*))?` : `${slash}([^/]+)`,
            ),
    )
    .join('');
  return new RegExp(`^${regex}$`);
}

/** vercel.json `headers`: every matching rule's headers go on the response (static files and functions alike), as on Vercel. */
export function loadHeaderRules(vercelJsonPath: string): HeaderRule[] {
  if (!existsSync(vercelJsonPath)) return [];
  const config = JSON.parse(readFileSync(vercelJsonPath, 'utf8')) as {
    headers?: { source: string; headers: { key: string; value: string }[] }[];
  };
  return (config.headers ?? []).map(({ source, headers }) => ({ source: sourcePattern(source), headers }));
}

function applyRewrites(pathname: string, rewrites: Rewrite[]): { pathname: string; query: URLSearchParams } {
  for (const rewrite of rewrites) {
    const match = rewrite.source.exec(pathname);
    if (!match) continue;
    let destination = rewrite.destination;
    rewrite.params.forEach((name, index) => {
      destination = destination.replaceAll(`:${name}`, match[index + 1] ?? '');
    });
    const url = new URL(destination, 'http://local');
    return { pathname: url.pathname, query: url.searchParams };
  }
  return { pathname, query: new URLSearchParams() };
}

/**
 * The client address the functions see, as on Vercel: x-forwarded-for is overwritten with the address
 * of the connection, so a caller cannot choose its address by sending the header (the abuse limits
 * count per address). `trustForwardedFor` keeps a client-sent header instead: only for load
 * generators on this machine that play many buyers (npm run bench), never for npm run dev.
 */
async function toRequest(req: IncomingMessage, url: URL, trustForwardedFor: boolean): Promise<Request> {
  const headers = new Headers();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(key, item);
  }
  if (!(trustForwardedFor && headers.has('x-forwarded-for'))) {
    headers.delete('x-forwarded-for');
    if (req.socket.remoteAddress) headers.set('x-forwarded-for', req.socket.remoteAddress);
  }
  const method = req.method ?? 'GET';
  let body: Buffer | undefined;
  if (method !== 'GET' && method !== 'HEAD') {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    body = Buffer.concat(chunks);
  }
  return new Request(url, { method, headers, body: body && body.length > 0 ? (body as Uint8Array<ArrayBuffer>) : undefined });
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  if (!response.body) {
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  const reader = response.body.getReader();
  try {
    // A body of one chunk (every JSON answer) goes out in one write, with its content-length: one
    // packet, no chunked framing (as Vercel answers a buffered body). A longer one (a CSV export)
    // streams chunk by chunk, waiting for 'drain' when the socket is full.
    const first = await reader.read();
    const second = first.done ? first : await reader.read();
    if (second.done) {
      const body = first.done ? Buffer.alloc(0) : first.value;
      headers['content-length'] = String(body.byteLength);
      res.writeHead(response.status, headers);
      await new Promise<void>((resolvePromise) => res.end(body, resolvePromise));
      return;
    }
    res.writeHead(response.status, headers);
    if (!res.write(first.value)) await once(res, 'drain');
    for (let chunk: ReadableStreamReadResult<Uint8Array> = second; !chunk.done; chunk = await reader.read()) {
      if (!res.write(chunk.value)) await once(res, 'drain');
    }
  } catch (error) {
    // Before the headers went out the caller still answers 500; after, the cut connection says it.
    if (res.headersSent) res.destroy(error instanceof Error ? error : new Error(String(error)));
    throw error;
  } finally {
    reader.releaseLock();
  }
  await new Promise<void>((resolvePromise) => res.end(resolvePromise));
}

function serveStatic(res: ServerResponse, publicDir: string, pathname: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return false;
  }
  let file = resolve(publicDir, `.${decoded}`);
  if (!file.startsWith(publicDir)) return false;
  if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
  if (!existsSync(file) || !statSync(file).isFile()) return false;
  res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' });
  res.end(readFileSync(file));
  return true;
}

export interface LocalServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

export async function startLocalServer(
  options: {
    port?: number;
    host?: string;
    projectDir?: string;
    /** The local mail catcher whose messages /dev/mail shows (npm run dev). Never part of a deployment. */
    mailCatcher?: MailCatcher;
    /** Keep a client-sent x-forwarded-for (load generators playing many buyers); default: overwrite it, as Vercel does. */
    trustForwardedFor?: boolean;
  } = {},
): Promise<LocalServer> {
  const projectDir = options.projectDir ?? root;
  const apiDir = join(projectDir, 'api');
  const publicDir = join(projectDir, 'public');
  const routes = discoverRoutes(apiDir);
  const rewrites = loadRewrites(join(projectDir, 'vercel.json'));
  const headerRules = loadHeaderRules(join(projectDir, 'vercel.json'));
  const modules = new Map<string, Promise<Record<string, unknown>>>();

  const server = createServer(async (req, res) => {
    try {
      const incoming = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
      if (options.mailCatcher && handleMailPage(options.mailCatcher, req, res, incoming)) return;
      for (const rule of headerRules) {
        if (rule.source.test(incoming.pathname)) for (const { key, value } of rule.headers) res.setHeader(key, value);
      }
      const rewritten = applyRewrites(incoming.pathname, rewrites);
      const pathname = rewritten.pathname;
      if (pathname.startsWith('/api/') || pathname === '/api') {
        const route = routes.find((candidate) => candidate.pattern.test(pathname));
        if (!route) {
          await send(
            res,
            Response.json({ error: { code: 'NOT_FOUND', message: 'No such API route', requestId: '' } }, { status: 404 }),
          );
          return;
        }
        const match = route.pattern.exec(pathname);
        const url = new URL(incoming);
        url.pathname = pathname;
        rewritten.query.forEach((value, key) => {
          url.searchParams.set(key, value);
        });
        route.params.forEach((name, index) => {
          url.searchParams.set(name, decodeURIComponent(match?.[index + 1] ?? ''));
        });
        if (!modules.has(route.file)) modules.set(route.file, import(pathToFileURL(route.file).href));
        const mod = await (modules.get(route.file) as Promise<Record<string, unknown>>);
        const method = (req.method ?? 'GET').toUpperCase();
        const handler = mod[method] as WebHandler | undefined;
        if (typeof handler !== 'function') {
          res.writeHead(405, {
            allow: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].filter((m) => typeof mod[m] === 'function').join(', '),
          });
          res.end();
          return;
        }
        await send(res, await handler(await toRequest(req, url, options.trustForwardedFor === true)));
        return;
      }
      if (req.method === 'GET' || req.method === 'HEAD') {
        if (serveStatic(res, publicDir, pathname)) return;
      }
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Not found');
    } catch (error) {
      // A handler that throws past defineRoute is a bug; answer like Vercel would, without details.
      console.error('[local-server] unhandled error', error);
      if (res.destroyed) return; // a body that failed mid-stream: the connection is cut, the client sees it truncated
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Internal Server Error');
    }
  });
  server.keepAliveTimeout = 65_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, host, () => resolvePromise());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 3000);
  return {
    url: `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolvePromise) => {
        server.closeAllConnections();
        server.close(() => resolvePromise());
      }),
  };
}
