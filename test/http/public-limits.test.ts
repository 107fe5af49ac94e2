import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as orderRoute from '../../api/orders/[id].js';
import * as checkout from '../../api/payments/checkout-session.js';
import { setRateLimitClockForTests } from '../../lib/http/rate-limit.js';
import { neverCleanUpRateLimits } from '../support/rate-limit-clock.js';
import type { StripeSandbox } from '../../sandbox/stripe-sandbox.js';
import { checkoutBody, createEventWithTicketTypes, eventFootprint, uniqueEmail } from '../support/factories.js';
import { call } from '../support/http.js';
import { startStripeSandboxForApp } from '../support/providers.js';

neverCleanUpRateLimits();

let sandbox: StripeSandbox;

beforeAll(async () => {
  sandbox = await startStripeSandboxForApp();
});

afterAll(async () => {
  await sandbox.close();
});

afterEach(() => setRateLimitClockForTests());

/** A client IP no other test uses (documentation range + a per-run random /64: limits count IPv6 per /64). */
const freshIp = () =>
  `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:${Math.floor(Math.random() * 0xffff).toString(16)}::1`;

describe('checkout rate limits (10 per minute per IP and per email)', () => {
  it('the 11th checkout in a minute from one IP is 429 with Retry-After and writes nothing; allowed ones carry the headers', async () => {
    // Mid-window, so all eleven fall into one window whatever the wall clock says.
    setRateLimitClockForTests(() => new Date('2032-05-05T12:00:20Z'));
    const { event } = await createEventWithTicketTypes({ ga: { priceCents: 2_000, capacity: 100 } });
    const ip = freshIp();
    const answers = [];
    for (let i = 0; i < 10; i++) {
      const res = await call(checkout.POST, {
        method: 'POST',
        path: '/api/payments/checkout-session',
        headers: { 'x-forwarded-for': ip },
        body: checkoutBody(event, [{ ticketType: 'ga', quantity: 1 }]),
      });
      answers.push(res);
      expect(res.status, res.text.slice(0, 200)).toBe(201);
      // The IP limit and the (fresh) email limit: headers show the tighter one.
      expect(res.headers.get('ratelimit-limit')).toBe('10');
      expect(res.headers.get('ratelimit-remaining')).toBe(String(9 - i));
      expect(res.headers.get('ratelimit-reset')).toBe('40');
    }
    const before = await eventFootprint(event.id);
    const eleventh = await call(checkout.POST, {
      method: 'POST',
      path: '/api/payments/checkout-session',
      headers: { 'x-forwarded-for': ip },
      body: checkoutBody(event, [{ ticketType: 'ga', quantity: 1 }]),
    });
    expect(eleventh.status).toBe(429);
    expect(eleventh.body.error.code).toBe('RATE_LIMITED');
    // Sliding window: 40 s to the window's end, then ~11 s until the 11 hits weigh ≤ 9 (11 × 49/60).
    expect(eleventh.headers.get('retry-after')).toBe('51');
    expect(eleventh.headers.get('ratelimit-remaining')).toBe('0');
    expect(await eventFootprint(event.id)).toEqual(before);

    // Another IP still gets through; the same IP once the sliding window has let go of enough hits.
    const other = await call(checkout.POST, {
      method: 'POST',
      path: '/api/payments/checkout-session',
      headers: { 'x-forwarded-for': freshIp() },
      body: checkoutBody(event, [{ ticketType: 'ga', quantity: 1 }]),
    });
    expect(other.status).toBe(201);
    setRateLimitClockForTests(() => new Date('2032-05-05T12:01:11Z'));
    const later = await call(checkout.POST, {
      method: 'POST',
      path: '/api/payments/checkout-session',
      headers: { 'x-forwarded-for': ip },
      body: checkoutBody(event, [{ ticketType: 'ga', quantity: 1 }]),
    });
    expect(later.status).toBe(201);
  });

  it('the 11th checkout in a minute for one email (from different IPs) is 429', async () => {
    setRateLimitClockForTests(() => new Date('2032-05-05T12:10:05Z'));
    const { event } = await createEventWithTicketTypes({ ga: { priceCents: 2_000, capacity: 100 } });
    const email = uniqueEmail('limited');
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const res = await call(checkout.POST, {
        method: 'POST',
        path: '/api/payments/checkout-session',
        headers: { 'x-forwarded-for': freshIp() },
        // Same buyer in another case: the limit is on the address, not its spelling.
        body: checkoutBody(event, [{ ticketType: 'ga', quantity: 1 }], {
          customer: { email: i % 2 ? email.toUpperCase() : email, firstName: 'Ana', lastName: 'García' },
        }),
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([...Array(10).fill(201), 429]);
  });
});

describe('order lookup rate limit (per IP)', () => {
  it('limits buyer lookups per IP, with the headers on every answer (404s included)', async () => {
    setRateLimitClockForTests(() => new Date('2032-05-05T12:20:30Z'));
    const ip = freshIp();
    const id = '00000000-0000-4000-8000-000000000001';
    let last: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 60; i++) {
      last = await call(orderRoute.GET, { path: `/api/orders/${id}`, query: { id }, headers: { 'x-forwarded-for': ip } });
      expect(last.status).toBe(404);
    }
    expect(last?.headers.get('ratelimit-limit')).toBe('60');
    expect(last?.headers.get('ratelimit-remaining')).toBe('0');
    const over = await call(orderRoute.GET, { path: `/api/orders/${id}`, query: { id }, headers: { 'x-forwarded-for': ip } });
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe('32'); // 30 s to the window's end + 2 s of sliding (61 × 58/60 ≤ 59)
  });
});
