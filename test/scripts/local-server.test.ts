import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../scripts/local-server.js';

/** The local stand-in for `vercel dev` routes like Vercel: file paths, [id] segments, index files, rewrites, public/. */

let project: string;
let server: LocalServer;

function write(path: string, content: string) {
  mkdirSync(join(project, path, '..'), { recursive: true });
  writeFileSync(join(project, path), content);
}

const echo = (name: string) =>
  `export async function GET(request) { const u = new URL(request.url); return Response.json({ route: '${name}', path: u.pathname, query: Object.fromEntries(u.searchParams), ip: request.headers.get('x-forwarded-for') }); }
export async function POST(request) { return Response.json({ route: '${name}', body: await request.text() }, { status: 201 }); }`;

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'bf-local-server-'));
  write('api/health.mjs', echo('health'));
  write('api/orders/index.mjs', echo('orders-index'));
  write('api/orders/[id].mjs', echo('order-by-id'));
  write('api/orders/export.mjs', echo('orders-export'));
  write('api/admin/events/[id]/replay.mjs', echo('replay'));
  write('api/_lib/helper.mjs', echo('private'));
  // Bodies: one chunk, three chunks (streamed), and a stream that fails at once / after its first chunk.
  write(
    'api/bodies/[kind].mjs',
    `export async function GET(request) {
      const kind = new URL(request.url).searchParams.get('kind');
      if (kind === 'one') return Response.json({ one: true });
      let sent = 0;
      const stream = new ReadableStream({
        async pull(controller) {
          if (kind === 'fail-at-once' || (kind === 'fail-later' && sent === 2)) return controller.error(new Error('broken'));
          if (kind === 'three' && sent === 3) return controller.close();
          sent += 1;
          controller.enqueue(new TextEncoder().encode('line ' + sent + '\\n'));
          await new Promise((resolve) => setTimeout(resolve, 5));
        },
      });
      return new Response(stream, { headers: { 'content-type': 'text/csv' } });
    }`,
  );
  write(
    'vercel.json',
    JSON.stringify({
      rewrites: [
        { source: '/healthz', destination: '/api/health' },
        { source: '/o/:id', destination: '/api/orders/:id' },
      ],
      headers: [
        {
          source: '/(.*)',
          headers: [
            { key: 'x-policy', value: 'strict' },
            { key: 'x-site', value: 'yes' },
          ],
        },
        { source: '/css/:path*', headers: [{ key: 'x-policy', value: 'relaxed' }] },
      ],
    }),
  );
  write('public/index.html', '<h1>festival</h1>');
  write('public/css/site.css', 'body{}');
  write('secret.txt', 'not public');
  server = await startLocalServer({ port: 0, projectDir: project });
});

afterAll(async () => {
  await server.close();
});

const get = async (path: string, init?: RequestInit) => {
  const res = await fetch(`${server.url}${path}`, init);
  const text = await res.text();
  return {
    status: res.status,
    text,
    json: (() => {
      try {
        return JSON.parse(text);
      } catch {
        return undefined;
      }
    })(),
    headers: res.headers,
  };
};

describe('local server', () => {
  it('sends a one-chunk body in one piece with its content-length; streams a longer one chunked; a broken body is a 500 before the headers, a cut connection after', async () => {
    const one = await get('/api/bodies/one');
    expect(one.json).toEqual({ one: true });
    expect(one.headers.get('content-length')).toBe(String(one.text.length));
    expect(one.headers.get('transfer-encoding')).toBeNull();
    const three = await get('/api/bodies/three');
    expect(three.text).toBe('line 1\nline 2\nline 3\n');
    expect(three.headers.get('transfer-encoding')).toBe('chunked');
    expect(three.headers.get('content-length')).toBeNull();
    const atOnce = await get('/api/bodies/fail-at-once');
    expect(atOnce.status).toBe(500);
    expect(atOnce.text).toBe('Internal Server Error');
    await expect(get('/api/bodies/fail-later')).rejects.toThrow();
  });

  it('routes a file path, an index file and a dynamic segment passed as a query parameter', async () => {
    expect((await get('/api/health')).json.route).toBe('health');
    expect((await get('/api/orders')).json.route).toBe('orders-index');
    const byId = await get('/api/orders/abc-123?x=1');
    expect(byId.json).toMatchObject({ route: 'order-by-id', query: { id: 'abc-123', x: '1' } });
    expect(byId.json.ip).toBe('127.0.0.1');
  });

  it('overwrites a client-sent x-forwarded-for with the connection address, as Vercel does (no address of your choosing)', async () => {
    const spoofed = await get('/api/health', { headers: { 'x-forwarded-for': '203.0.113.9, 198.51.100.7' } });
    expect(spoofed.json.ip).toBe('127.0.0.1');
  });

  it('prefers a static segment over a dynamic one, and handles nested dynamic folders', async () => {
    expect((await get('/api/orders/export')).json.route).toBe('orders-export');
    expect((await get('/api/admin/events/evt_9/replay')).json).toMatchObject({ route: 'replay', query: { id: 'evt_9' } });
  });

  it('honours vercel.json rewrites', async () => {
    expect((await get('/healthz')).json.route).toBe('health');
    expect((await get('/o/xyz')).json).toMatchObject({ route: 'order-by-id', query: { id: 'xyz' } });
  });

  it('passes the method and raw body through', async () => {
    const res = await get('/api/orders', { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(201);
    expect(res.json.body).toBe('{"a":1}');
  });

  it('answers 405 for a method the file does not export, 404 for unknown and private routes', async () => {
    expect((await get('/api/health', { method: 'DELETE' })).status).toBe(405);
    expect((await get('/api/nope')).status).toBe(404);
    expect((await get('/api/_lib/helper')).status).toBe(404);
  });

  it('serves only public/ as static files', async () => {
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(index.text).toContain('festival');
    expect(index.headers.get('content-type')).toContain('text/html');
    expect((await get('/css/site.css')).status).toBe(200);
    expect((await get('/secret.txt')).status).toBe(404);
    expect((await get('/vercel.json')).status).toBe(404);
    expect((await get('/..%2fsecret.txt')).status).toBe(404);
    expect((await get('/api/../secret.txt')).status).toBe(404);
  });

  it('applies every matching vercel.json header rule in order: a later rule replaces an earlier value', async () => {
    const headersOf = async (path: string) => (await fetch(`${server.url}${path}`)).headers;
    for (const path of ['/css', '/css/site.css', '/css/a/b']) {
      expect((await headersOf(path)).get('x-policy'), path).toBe('relaxed');
      expect((await headersOf(path)).get('x-site'), path).toBe('yes');
    }
    // As Vercel compiles `/css/:path*`: the bare `/css/` is not matched.
    for (const path of ['/', '/css/', '/cssx', '/api/health'])
      expect((await headersOf(path)).get('x-policy'), path).toBe('strict');
  });
});
