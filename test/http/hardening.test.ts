import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as apiKeys from '../../api/admin/api-keys.js';
import * as checkout from '../../api/payments/checkout-session.js';
import * as tickets from '../../api/tickets.js';
import { resetConfigForTests } from '../../lib/config.js';
import { db } from '../../lib/db/client.js';
import { hitRateLimit, setRateLimitClockForTests } from '../../lib/http/rate-limit.js';
import { neverCleanUpRateLimits } from '../support/rate-limit-clock.js';
import { makeKey } from '../support/staff.js';
import { useProviderSandboxes } from '../support/providers.js';
import { checkoutBody, createEventWithTicketTypes, eventFootprint, rowCounts } from '../support/factories.js';
import { call } from '../support/http.js';

neverCleanUpRateLimits();

/** Issue 18, "Smaller": each point with a test that fails without its fix. */

useProviderSandboxes({ RATE_LIMIT_ENABLED: 'true' });
afterEach(() => setRateLimitClockForTests());

const ipv4 = () => `198.19.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;

describe('Vary: Origin on buyer routes', () => {
  it('the cacheable /api/tickets answer varies on Origin even when the request has none', async () => {
    const { event } = await createEventWithTicketTypes({ ga: { priceCents: 1_000, capacity: 10 } });
    const plain = await call(tickets.GET, { path: '/api/tickets', query: { event: event.slug } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('cache-control')).toMatch(/max-age|s-maxage/);
    expect(plain.headers.get('vary') ?? '').toMatch(/\bOrigin\b/);
    const cross = await call(tickets.GET, {
      path: '/api/tickets',
      query: { event: event.slug },
      headers: { origin: 'https://www.alocubanoboulderfest.org' },
    });
    expect(
      cross.headers
        .get('vary')
        ?.split(',')
        .filter((v) => v.trim() === 'Origin'),
    ).toHaveLength(1);
    const refused = await call(tickets.GET, {
      path: '/api/tickets',
      query: { event: event.slug },
      headers: { origin: 'https://evil.example' },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('vary') ?? '').toMatch(/\bOrigin\b/);
  });
});

describe('content type', () => {
  it.each(['application/json-seq', 'application/jsonx', 'application/json+foo'])('%s is 415, nothing written', async (type) => {
    const { event } = await createEventWithTicketTypes({ ga: { priceCents: 1_000, capacity: 10 } });
    const res = await call(checkout.POST, {
      method: 'POST',
      path: '/api/payments/checkout-session',
      headers: { 'content-type': type },
      rawBody: JSON.stringify(checkoutBody(event, [{ ticketType: 'ga', quantity: 1 }])),
    });
    expect(res.status).toBe(415);
    expect((await eventFootprint(event.id)).orders).toBe(0);
  });

  it('application/json with parameters is accepted', async () => {
    const { event } = await createEventWithTicketTypes({ ga: { priceCents: 1_000, capacity: 10 } });
    const res = await call(checkout.POST, {
      method: 'POST',
      path: '/api/payments/checkout-session',
      headers: { 'content-type': 'Application/JSON ; charset=utf-8' },
      rawBody: JSON.stringify(checkoutBody(event, [{ ticketType: 'ga', quantity: 1 }])),
    });
    expect(res.status, res.text).toBe(201);
  });
});

describe('failed API-key attempts are throttled per address', () => {
  it('after 10 failures a minute the address gets 429, even with a valid key; other addresses are unaffected', async () => {
    setRateLimitClockForTests(() => new Date('2033-01-01T10:00:05Z'));
    const good = await makeKey(['keys:admin']);
    const ip = ipv4();
    for (let i = 0; i < 10; i++) {
      const res = await call(apiKeys.GET, { headers: { authorization: `Bearer bf_live_guess${i}`, 'x-forwarded-for': ip } });
      expect(res.status).toBe(401);
    }
    const guess = await call(apiKeys.GET, { headers: { authorization: 'Bearer bf_live_guess11', 'x-forwarded-for': ip } });
    expect(guess.status).toBe(429);
    expect(Number(guess.headers.get('retry-after'))).toBeGreaterThan(0);
    const valid = await call(apiKeys.GET, { headers: { ...good.header, 'x-forwarded-for': ip } });
    expect(valid.status).toBe(429);
    expect((await call(apiKeys.GET, { headers: { ...good.header, 'x-forwarded-for': ipv4() } })).status).toBe(200);
    // Successful authentications are not counted.
    const other = ipv4();
    for (let i = 0; i < 15; i++) {
      expect((await call(apiKeys.GET, { headers: { ...good.header, 'x-forwarded-for': other } })).status).toBe(200);
    }
  });
});

describe('a keys:admin key cannot grant scopes it does not hold', () => {
  it('refuses with 403 and writes nothing; a subset of its own scopes is fine', async () => {
    const admin = await makeKey(['keys:admin', 'orders:read']);
    const before = await rowCounts(['api_keys']);
    for (const scopes of [['refunds:write'], ['orders:read', 'payments:read'], ['webhooks:admin']]) {
      const res = await call(apiKeys.POST, { method: 'POST', headers: admin.header, body: { name: 'escalation', scopes } });
      expect(res.status, JSON.stringify(scopes)).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
    }
    expect(await rowCounts(['api_keys'])).toEqual(before);
    const ok = await call(apiKeys.POST, {
      method: 'POST',
      headers: admin.header,
      body: { name: 'reader', scopes: ['orders:read'] },
    });
    expect(ok.status).toBe(201);
  });
});

describe('idempotency keys are scoped to the client', () => {
  it('another client with the same key and body never receives the first buyer’s access token', async () => {
    const { event } = await createEventWithTicketTypes({ ga: { priceCents: 1_000, capacity: 10 } });
    const body = checkoutBody(event, [{ ticketType: 'ga', quantity: 1 }]);
    const key = `shared-${randomUUID()}`;
    const send = (ip: string) =>
      call(checkout.POST, {
        method: 'POST',
        path: '/api/payments/checkout-session',
        headers: { 'idempotency-key': key, 'x-forwarded-for': ip },
        body,
      });
    const [a, b] = [ipv4(), ipv4()];
    const first = await send(a);
    expect(first.status).toBe(201);
    const other = await send(b);
    expect(other.status).toBe(201);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expect(other.body.accessToken).not.toBe(first.body.accessToken);
    expect(other.body.orderId).not.toBe(first.body.orderId);
    const again = await send(a);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.accessToken).toBe(first.body.accessToken);
  });
});

describe('sliding window: no burst across a window edge', () => {
  it('10 hits just before the edge and 10 just after: the second 10 are refused', async () => {
    const bucket = `test:edge:${randomUUID()}`;
    const rule = { bucket, limit: 10, windowSeconds: 60 };
    setRateLimitClockForTests(() => new Date('2033-02-02T10:00:59.500Z'));
    for (let i = 0; i < 10; i++) expect((await hitRateLimit(rule)).allowed).toBe(true);
    setRateLimitClockForTests(() => new Date('2033-02-02T10:01:00.200Z'));
    const after = await Promise.all(Array.from({ length: 10 }, () => hitRateLimit(rule)));
    expect(after.filter((r) => r.allowed)).toHaveLength(0);
    // Once the first ten have slid out, hits pass again.
    setRateLimitClockForTests(() => new Date('2033-02-02T10:02:00.300Z'));
    expect((await hitRateLimit(rule)).allowed).toBe(false); // the 10 refused hits still weigh ~10
    setRateLimitClockForTests(() => new Date('2033-02-02T10:03:00.500Z'));
    expect((await hitRateLimit(rule)).allowed).toBe(true);
  });
});

describe('on-sale challenge (Cloudflare Turnstile), off by default', () => {
  let verifier: Server;
  let seen: URLSearchParams[] = [];
  let up = true;
  beforeAll(async () => {
    verifier = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk) => {
        raw += chunk;
      });
      req.on('end', () => {
        const form = new URLSearchParams(raw);
        seen.push(form);
        if (!up) {
          res.writeHead(500).end();
          return;
        }
        const success = form.get('secret') === 'turnstile-test-secret' && form.get('response') === 'good-token';
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ success, 'error-codes': success ? [] : ['invalid-input-response'] }));
      });
    });
    await new Promise<void>((resolve) => verifier.listen(0, '127.0.0.1', resolve));
    Object.assign(process.env, {
      TURNSTILE_SECRET_KEY: 'turnstile-test-secret',
      TURNSTILE_VERIFY_URL: `http://127.0.0.1:${(verifier.address() as AddressInfo).port}/siteverify`,
    });
    resetConfigForTests();
  });
  afterAll(async () => {
    delete process.env.TURNSTILE_SECRET_KEY;
    delete process.env.TURNSTILE_VERIFY_URL;
    resetConfigForTests();
    await new Promise((resolve) => verifier.close(resolve));
  });

  it('checkout needs a token the verifier accepts; without, a bad one or the verifier down, nothing is held', async () => {
    const { event } = await createEventWithTicketTypes({ ga: { priceCents: 1_000, capacity: 10 } });
    const ip = ipv4();
    const send = (token?: string) =>
      call(checkout.POST, {
        method: 'POST',
        path: '/api/payments/checkout-session',
        headers: { 'x-forwarded-for': ip, ...(token ? { 'cf-turnstile-response': token } : {}) },
        body: checkoutBody(event, [{ ticketType: 'ga', quantity: 1 }]),
      });
    seen = [];
    const none = await send();
    expect(none.status).toBe(403);
    expect(none.body.error.code).toBe('CHALLENGE_FAILED');
    expect(seen).toHaveLength(0);
    const bad = await send('forged-token');
    expect(bad.status).toBe(403);
    up = false;
    const down = await send('good-token');
    expect(down.status).toBe(503);
    up = true;
    expect((await eventFootprint(event.id)).orders).toBe(0);
    const good = await send('good-token');
    expect(good.status, good.text).toBe(201);
    expect(seen.at(-1)?.get('remoteip')).toBe(ip);
  });
});

describe('the audit log records the platform-reported address', () => {
  it('not the left-most x-forwarded-for entry a client can write', async () => {
    const { event } = await createEventWithTicketTypes({ ga: { priceCents: 1_000, capacity: 10 } });
    const real = ipv4();
    const res = await call(checkout.POST, {
      method: 'POST',
      path: '/api/payments/checkout-session',
      headers: { 'x-forwarded-for': `6.6.6.6, ${real}` },
      body: checkoutBody(event, [{ ticketType: 'ga', quantity: 1 }]),
    });
    expect(res.status).toBe(201);
    const row = await db.queryOne<{ ip: string }>(
      `SELECT ip FROM payment_audit_log WHERE entity_id = $1 AND action = 'checkout_started'`,
      [res.body.orderId],
    );
    expect(row?.ip).toBe(real);
  });
});
