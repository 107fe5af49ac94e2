import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { resetConfigForTests } from '../../lib/config.js';
import { AppError } from '../../lib/errors.js';
import { readJson } from '../../lib/http/body.js';
import { defineRoute } from '../../lib/http/handler.js';
import { json } from '../../lib/http/response.js';
import { call } from '../support/http.js';

const schema = z.strictObject({
  name: z.string().min(1).max(20),
  items: z.array(z.strictObject({ quantity: z.number().int().min(1) })),
});

const route = defineRoute(
  {
    POST: async (ctx) => json({ received: await readJson(ctx, schema), requestId: ctx.requestId, ip: ctx.ip }, { status: 201 }),
    GET: async (ctx) => {
      if (ctx.url.searchParams.get('boom') === 'app') throw new AppError('SOLD_OUT', 'Sold out', { details: { remaining: 0 } });
      throw new Error('database password is hunter2 at /srv/secret.ts:12');
    },
  },
  { cors: 'buyer' },
);

afterEach(() => {
  delete process.env.MAX_BODY_BYTES;
  delete process.env.TRUSTED_PROXY_HOPS;
  resetConfigForTests();
});

describe('defineRoute', () => {
  it('parses and validates a JSON body', async () => {
    // One trusted proxy of ours appended 10.0.0.1; the client is the entry left of it (issue 18:
    // never the left-most entry by default, which the client itself can write).
    process.env.TRUSTED_PROXY_HOPS = '1';
    resetConfigForTests();
    const res = await call(route.POST, {
      method: 'POST',
      body: { name: 'Ana', items: [{ quantity: 2 }] },
      headers: { 'x-forwarded-for': '203.0.113.9, 10.0.0.1' },
    });
    expect(res.status).toBe(201);
    expect(res.body.received).toEqual({ name: 'Ana', items: [{ quantity: 2 }] });
    expect(res.body.ip).toBe('203.0.113.9');
  });

  it('honours a well-formed x-request-id and echoes it in the header and errors', async () => {
    const res = await call(route.POST, {
      method: 'POST',
      rawBody: '{',
      headers: { 'content-type': 'application/json', 'x-request-id': 'client-req-12345' },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-request-id')).toBe('client-req-12345');
    expect(res.body).toEqual({
      error: { code: 'INVALID_JSON', message: 'The request body is not valid JSON', requestId: 'client-req-12345' },
    });
  });

  it('generates a request id when the given one is malformed', async () => {
    const res = await call(route.GET, { headers: { 'x-request-id': 'bad id with spaces' }, query: { boom: 'app' } });
    expect(res.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    expect(res.body.error.requestId).toBe(res.headers.get('x-request-id'));
  });

  it('lists field paths for schema errors and rejects unknown fields', async () => {
    const res = await call(route.POST, { method: 'POST', body: { name: '', items: [{ quantity: 0 }], priceCents: 1 } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    const paths = res.body.error.details.fields.map((f: { path: string }) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'items.0.quantity', '(body)']));
  });

  it('answers 415 for a non-JSON body and 413 for an oversized one', async () => {
    const wrongType = await call(route.POST, {
      method: 'POST',
      rawBody: 'name=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(wrongType.status).toBe(415);
    process.env.MAX_BODY_BYTES = '1024';
    resetConfigForTests();
    const big = await call(route.POST, { method: 'POST', body: { name: 'x'.repeat(2_000), items: [] } });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('maps AppError codes to their status with details', async () => {
    const res = await call(route.GET, { query: { boom: 'app' } });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'SOLD_OUT', message: 'Sold out', details: { remaining: 0 } });
  });

  it('turns an unexpected error into a generic 500 without stack, message or paths', async () => {
    const res = await call(route.GET);
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('INTERNAL_ERROR');
    expect(res.text).not.toContain('hunter2');
    expect(res.text).not.toContain('secret.ts');
    expect(res.text).not.toMatch(/at .*:\d+/);
  });

  it("sets its headers on the handler's own answer, and on a copy when that answer's headers are immutable", async () => {
    const own = json({ ok: true });
    const answers = defineRoute({ GET: async () => own, PUT: async () => Response.redirect('https://example.org/next', 303) });
    const res = await answers.GET(new Request('http://localhost/x', { headers: { 'x-request-id': 'req-own-12345' } }));
    expect(res).toBe(own);
    expect(res.headers.get('x-request-id')).toBe('req-own-12345');
    const redirect = await answers.PUT(new Request('http://localhost/x', { method: 'PUT' }));
    expect(redirect.status).toBe(303);
    expect(redirect.headers.get('location')).toBe('https://example.org/next');
    expect(redirect.headers.get('x-content-type-options')).toBe('nosniff');
    expect(redirect.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('answers 405 with Allow listing the handled methods', async () => {
    const res = await call(route.DELETE, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST, OPTIONS');
  });
});

describe('CORS on buyer routes', () => {
  const allowed = 'https://www.alocubanoboulderfest.org';

  it('answers a preflight from an allowed origin', async () => {
    const res = await call(route.OPTIONS, {
      method: 'OPTIONS',
      headers: { origin: allowed, 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(allowed);
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
    expect(res.headers.get('access-control-allow-headers')).toContain('idempotency-key');
    expect(res.headers.get('vary')).toBe('Origin');
  });

  it('refuses a preflight and a request from any other origin, never answering *', async () => {
    const preflight = await call(route.OPTIONS, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const post = await call(route.POST, {
      method: 'POST',
      body: { name: 'x', items: [] },
      headers: { origin: 'https://evil.example' },
    });
    expect(post.status).toBe(403);
    expect(post.body.error.code).toBe('ORIGIN_NOT_ALLOWED');
  });

  it('adds the allow-origin header to actual responses, errors included', async () => {
    const res = await call(route.GET, { headers: { origin: allowed }, query: { boom: 'app' } });
    expect(res.headers.get('access-control-allow-origin')).toBe(allowed);
    expect(res.headers.get('access-control-expose-headers')).toContain('retry-after');
  });

  it('sets no CORS headers on server-to-server routes', async () => {
    const internal = defineRoute({ GET: async () => json({ ok: true }) });
    const res = await call(internal.GET, { headers: { origin: allowed } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await call(internal.OPTIONS, { method: 'OPTIONS', headers: { origin: allowed } });
    expect(preflight.status).toBe(405);
  });
});
