import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as metricsRoute from '../../api/admin/metrics.js';
import * as checkout from '../../api/payments/checkout-session.js';
import * as paypalCapture from '../../api/payments/paypal-capture.js';
import * as paypalWebhook from '../../api/webhooks/paypal.js';
import * as stripeWebhook from '../../api/webhooks/stripe.js';
import { resetConfigForTests } from '../../lib/config.js';
import { db, transaction } from '../../lib/db/client.js';
import { DbError } from '../../lib/db/errors.js';
import { requestOutcomeCounts } from '../../lib/db/models/request-outcomes.js';
import { setRateLimitClockForTests } from '../../lib/http/rate-limit.js';
import { neverCleanUpRateLimits } from '../support/rate-limit-clock.js';
import { settleScheduledDeliveries } from '../../lib/messages/schedule-delivery.js';
import { flushRequestMetrics, pendingRequestOutcomes, RequestOutcomeCounter } from '../../lib/ops/request-metrics.js';
import { makeKey, type TestKey } from '../support/staff.js';
import { checkoutBody, createEventWithTicketTypes } from '../support/factories.js';
import { buildRequest, call } from '../support/http.js';
import { configureStripe, useProviderSandboxes } from '../support/providers.js';
import { startCountingRoundTrips } from '../support/round-trips.js';
import { deliverStripe, stripeEvent } from '../webhooks/support.js';

neverCleanUpRateLimits();

/**
 * Request outcomes by code (GET /api/admin/metrics `requests`): real requests to the checkout, PayPal capture
 * and webhook routes, counted in memory with no statement on their path, written by one flush statement,
 * read back exactly. Only this file flushes the counted routes' counts (every test process keeps its own in
 * memory: REQUEST_METRICS_FLUSH_MS is out of reach in tests), and the checks are before/after differences.
 */

const providers = useProviderSandboxes();
const SITE = 'https://www.alocubanoboulderfest.org';
const CHECKOUT = '/api/payments/checkout-session';
let ops: TestKey;

beforeAll(async () => {
  configureStripe({ apiBase: providers.stripe.url });
  process.env.PAYPAL_WEBHOOK_ID = 'WH-REQUEST-METRICS-TEST';
  resetConfigForTests();
  ops = await makeKey(['ops:read']);
});

afterEach(() => {
  setRateLimitClockForTests();
  process.env.RATE_LIMIT_ENABLED = 'false';
  configureStripe({ apiBase: providers.stripe.url });
  resetConfigForTests();
});

async function metrics() {
  const response = await call(metricsRoute.GET, { path: '/api/admin/metrics', headers: ops.header });
  expect(response.status).toBe(200);
  return response.body;
}

type Window = {
  total: number;
  ok: number;
  clientErrors: number;
  serverErrors: number;
  errorRate: number | null;
  byCode: Record<string, number>;
};

function routeOf(body: { requests: { routes: { route: string; lastHour: Window; last24Hours: Window }[] } }, route: string) {
  const found = body.requests.routes.find((r) => r.route === route);
  if (!found) throw new Error(`no ${route} in the metrics`);
  return found;
}

/** after − before, per code (codes that did not change are left out). */
function codeDelta(before: Window, after: Window): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [code, n] of Object.entries(after.byCode)) {
    const d = n - (before.byCode[code] ?? 0);
    if (d !== 0) delta[code] = d;
  }
  return delta;
}

const freshIp = () =>
  `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:${Math.floor(Math.random() * 0xffff).toString(16)}::7`;

describe('request outcomes by code', () => {
  it('counts real answers by code with no statement on the request path, one flush statement, exact counts back', async () => {
    await flushRequestMetrics(); // nothing of an earlier test left over
    const before = await metrics();
    const { event } = await createEventWithTicketTypes({ last: { priceCents: 3_000, capacity: 1 } });
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      call(checkout.POST, { method: 'POST', path: CHECKOUT, headers: { origin: SITE, ...headers }, body });

    const trips = startCountingRoundTrips();
    // ok, then SOLD_OUT (capacity 1).
    expect((await post(checkoutBody(event, [{ ticketType: 'last', quantity: 1 }]))).status).toBe(201);
    const soldOut = await post(checkoutBody(event, [{ ticketType: 'last', quantity: 1 }]));
    expect(soldOut.body.error.code).toBe('SOLD_OUT');
    // An invalid body: VALIDATION_ERROR before any database work (not counted by the rate limits). Then ten
    // sold-out attempts from one client address (each counted by the IP limit in checkout's first statement),
    // the eleventh is RATE_LIMITED.
    process.env.RATE_LIMIT_ENABLED = 'true';
    resetConfigForTests();
    setRateLimitClockForTests(() => new Date('2033-03-03T12:00:20Z'));
    const ip = freshIp();
    expect((await post({ event: event.slug, items: [] }, { 'x-forwarded-for': ip })).body.error.code).toBe('VALIDATION_ERROR');
    const lastOne = checkoutBody(event, [{ ticketType: 'last', quantity: 1 }]);
    for (let i = 0; i < 10; i++) {
      expect((await post(lastOne, { 'x-forwarded-for': ip })).body.error.code).toBe('SOLD_OUT');
    }
    expect((await post(lastOne, { 'x-forwarded-for': ip })).body.error.code).toBe('RATE_LIMITED');
    process.env.RATE_LIMIT_ENABLED = 'false';
    resetConfigForTests();
    // Stripe unreachable: 502 PROVIDER_UNAVAILABLE (a server error, counted in errorRate).
    const { event: other } = await createEventWithTicketTypes({ ga: { priceCents: 2_000, capacity: 10 } });
    configureStripe({ apiBase: 'http://127.0.0.1:9' });
    const down = await post(checkoutBody(other, [{ ticketType: 'ga', quantity: 1 }]));
    expect(down.status).toBe(502);
    expect(down.body.error.code).toBe('PROVIDER_UNAVAILABLE');
    configureStripe({ apiBase: providers.stripe.url });
    // PayPal capture: no buyer token, an order nobody has.
    const capture = await call(paypalCapture.POST, {
      method: 'POST',
      path: '/api/payments/paypal-capture',
      headers: { origin: SITE },
      body: { orderId: randomUUID() },
    });
    expect(capture.body.error.code).toBe('NOT_FOUND');
    // Stripe webhook: one stored (ok), one with a bad signature (nothing stored, no statement at all).
    expect((await deliverStripe(stripeEvent('customer.created', { id: `cus_${randomUUID()}`, object: 'customer' }))).status).toBe(
      200,
    );
    trips.mark('bad signature');
    const forged = await deliverStripe(stripeEvent('customer.created', { id: 'cus_x', object: 'customer' }), {
      secret: 'whsec_not_ours',
    });
    trips.mark('bad signature answered');
    expect(forged.body.error.code).toBe('WEBHOOK_SIGNATURE_INVALID');
    // PayPal webhook without its signature headers.
    const paypalForged = await call(paypalWebhook.POST, {
      method: 'POST',
      path: '/api/webhooks/paypal',
      headers: { 'content-type': 'application/json' },
      rawBody: JSON.stringify({ id: 'WH-x', event_type: 'PAYMENT.CAPTURE.COMPLETED', resource: {} }),
    });
    trips.stop();
    expect(paypalForged.body.error.code).toBe('WEBHOOK_SIGNATURE_INVALID');

    // Counted in memory; no statement touched request_outcomes; the forged Stripe delivery sent none at all.
    expect(pendingRequestOutcomes()).toBe(2 + 12 + 1 + 1 + 2 + 1);
    expect(trips.statements().filter((s) => s.includes('request_outcomes'))).toEqual([]);
    expect(trips.countAfter('bad signature') - trips.countAfter('bad signature answered'), trips.statements().join('\n')).toBe(0);

    // The flush: exactly one statement.
    const flushTrips = startCountingRoundTrips();
    const flushed = await flushRequestMetrics();
    flushTrips.stop();
    expect(flushTrips.count(), flushTrips.statements().join('\n')).toBe(1);
    expect(flushTrips.statements()[0]).toContain('INSERT INTO request_outcomes');
    expect(flushed.requests).toBe(19);
    expect(pendingRequestOutcomes()).toBe(0);

    const after = await metrics();
    const checkoutBefore = routeOf(before, CHECKOUT);
    const checkoutAfter = routeOf(after, CHECKOUT);
    expect(codeDelta(checkoutBefore.lastHour, checkoutAfter.lastHour)).toEqual({
      ok: 1,
      SOLD_OUT: 11,
      VALIDATION_ERROR: 1,
      RATE_LIMITED: 1,
      PROVIDER_UNAVAILABLE: 1,
    });
    expect(codeDelta(checkoutBefore.last24Hours, checkoutAfter.last24Hours)).toEqual(
      codeDelta(checkoutBefore.lastHour, checkoutAfter.lastHour),
    );
    expect(checkoutAfter.lastHour.total - checkoutBefore.lastHour.total).toBe(15);
    expect(checkoutAfter.lastHour.ok - checkoutBefore.lastHour.ok).toBe(1);
    expect(checkoutAfter.lastHour.clientErrors - checkoutBefore.lastHour.clientErrors).toBe(13);
    expect(checkoutAfter.lastHour.serverErrors - checkoutBefore.lastHour.serverErrors).toBe(1);
    const { total, serverErrors } = checkoutAfter.lastHour;
    expect(checkoutAfter.lastHour.errorRate).toBe(Math.round((serverErrors / total) * 10_000) / 10_000);

    const capturePart = codeDelta(
      routeOf(before, '/api/payments/paypal-capture').lastHour,
      routeOf(after, '/api/payments/paypal-capture').lastHour,
    );
    expect(capturePart).toEqual({ NOT_FOUND: 1 });
    expect(codeDelta(routeOf(before, '/api/webhooks/stripe').lastHour, routeOf(after, '/api/webhooks/stripe').lastHour)).toEqual({
      ok: 1,
      WEBHOOK_SIGNATURE_INVALID: 1,
    });
    expect(codeDelta(routeOf(before, '/api/webhooks/paypal').lastHour, routeOf(after, '/api/webhooks/paypal').lastHour)).toEqual({
      WEBHOOK_SIGNATURE_INVALID: 1,
    });
    expect(after.requests.routes.map((r: { route: string; group: string }) => [r.route, r.group])).toEqual([
      [CHECKOUT, 'checkout'],
      ['/api/payments/paypal-capture', 'checkout'],
      ['/api/webhooks/stripe', 'webhook'],
      ['/api/webhooks/paypal', 'webhook'],
    ]);
  });

  it('counts only POSTs to the counted routes (an admin read, a 405 and an unknown path are not counted)', async () => {
    await flushRequestMetrics();
    await metrics();
    await call(checkout.GET, { path: CHECKOUT });
    await call(checkout.POST, { method: 'POST', path: '/api/somewhere-else', body: {} });
    expect(pendingRequestOutcomes()).toBe(0);
    await call(checkout.POST, { method: 'POST', path: `${CHECKOUT}/`, body: {} });
    expect(pendingRequestOutcomes()).toBe(1);
    await flushRequestMetrics();
  });

  it('flushes from several instances racing on real connections add up exactly', async () => {
    const route = `/test/race-${randomUUID()}`;
    const at = new Date();
    const instances = Array.from({ length: 8 }, () => new RequestOutcomeCounter());
    const expected: Record<string, number> = {};
    for (let round = 0; round < 3; round++) {
      instances.forEach((counter, i) => {
        // The same keys in every instance (the rows they race on), plus one of its own.
        for (const [code, n] of [
          ['ok', 5 + i],
          ['SOLD_OUT', 1 + round],
          ['INTERNAL_ERROR', 1],
          [`HTTP_${500 + i}`, 2],
        ] as const) {
          for (let k = 0; k < n; k++) counter.record(route, code, at);
          expected[code] = (expected[code] ?? 0) + n;
        }
      });
      const results = await Promise.all(instances.map((counter) => counter.flush(db)));
      expect(results.every((r) => r.rows === 4)).toBe(true);
    }
    const rows = await requestOutcomeCounts(db, [route]);
    expect(Object.fromEntries(rows.map((r) => [r.code, r.lastHour]))).toEqual(expected);
    expect(Object.fromEntries(rows.map((r) => [r.code, r.last24Hours]))).toEqual(expected);
    await db.query('DELETE FROM request_outcomes WHERE route = $1', [route]);
  });

  it('a flush that cannot take its row lock keeps the counts for the next one; a refused row is dropped', async () => {
    const route = `/test/lock-${randomUUID()}`;
    const at = new Date();
    const counter = new RequestOutcomeCounter();
    for (let i = 0; i < 3; i++) counter.record(route, 'ok', at);
    await counter.flush(db);
    for (let i = 0; i < 4; i++) counter.record(route, 'ok', at);
    // Another connection holds the row: the flush (lock_timeout 100 ms) fails and keeps its 4.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked: () => void = () => undefined;
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holder = transaction(async (tx) => {
      await tx.query('SELECT 1 FROM request_outcomes WHERE route = $1 FOR UPDATE', [route]);
      locked();
      await held;
    });
    await isLocked;
    const failed = await transaction(async (tx) => {
      await tx.query(`SET LOCAL lock_timeout = '100ms'`);
      return await counter.flush(tx);
    }).catch((error: unknown) => error);
    release();
    await holder;
    expect(failed).toBeInstanceOf(DbError);
    expect((failed as DbError).kind).toBe('LOCK_NOT_AVAILABLE');
    expect(counter.pending()).toBe(4);
    expect(await counter.flush(db)).toEqual({ rows: 1, requests: 4 });
    expect((await requestOutcomeCounts(db, [route]))[0]).toMatchObject({ code: 'ok', lastHour: 7 });

    // A row the table refuses (the CHECK on route) would fail every later flush: it is dropped, not kept.
    counter.record('/Not A Route', 'ok', at);
    await expect(counter.flush(db)).rejects.toMatchObject({ kind: 'CHECK_VIOLATION' });
    expect(counter.pending()).toBe(0);
    await db.query('DELETE FROM request_outcomes WHERE route = $1', [route]);
  });

  it('flushes by itself after an answer once the interval has passed, not before, and never on the request path', async () => {
    await flushRequestMetrics();
    const forged = () =>
      buildRequest({
        method: 'POST',
        path: '/api/webhooks/stripe',
        headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' },
        rawBody: '{"id":"evt_forged","type":"customer.created"}',
      });
    try {
      // Interval 0: the first answer starts a flush, in the background, after the answer.
      process.env.REQUEST_METRICS_FLUSH_MS = '0';
      resetConfigForTests();
      const trips = startCountingRoundTrips();
      const answer = await stripeWebhook.POST(forged());
      trips.mark('answered');
      expect(answer.status).toBe(400);
      expect(pendingRequestOutcomes()).toBe(1); // the flush waits until the answer has been handed back
      await settleScheduledDeliveries();
      expect(pendingRequestOutcomes()).toBe(0);
      trips.stop();
      expect(trips.countBefore('answered'), trips.statements().join('\n')).toBe(0);
      expect(trips.countAfter('answered'), trips.statements().join('\n')).toBe(1);
      expect(trips.statements().at(-1)).toContain('INSERT INTO request_outcomes');

      // An hour's interval: the next answers are only counted, until a flush is due.
      process.env.REQUEST_METRICS_FLUSH_MS = '3600000';
      resetConfigForTests();
      await stripeWebhook.POST(forged());
      await stripeWebhook.POST(forged());
      await settleScheduledDeliveries();
      expect(pendingRequestOutcomes()).toBe(2);
    } finally {
      process.env.REQUEST_METRICS_FLUSH_MS = '2147483647';
      resetConfigForTests();
      await flushRequestMetrics();
    }
  });
});
