import { describe, expect, it } from 'vitest';
import * as checkout from '../../api/payments/checkout-session.js';
import { createCheckoutSession } from '../../lib/checkout/create-checkout-session.js';
import { checkoutSessionRequestSchema } from '../../lib/checkout/schemas.js';
import { db } from '../../lib/db/client.js';
import { AppError } from '../../lib/errors.js';
import { checkoutBody, createEventWithTicketTypes, eventFootprint, ticketCounters } from '../support/factories.js';
import { call } from '../support/http.js';
import { useProviderSandboxes } from '../support/providers.js';

// A real pool of 20 connections shared by 1,000 concurrent checkouts; waiting for a connection is normal here.
// Since checkout holds in one statement (issue 17) the 100 winners reach the provider almost at once: 100
// Stripe calls (SDK and sandbox) in this ONE process, on a shared CPU, can outlast the 6 s provider budget of
// a 10 s function (→ 502, hold released). On Vercel each is its own instance. The provider budget is not what
// this test is about, so the function limit and the provider time-out are raised for it (30 s); the holds are.
const providers = useProviderSandboxes({
  DATABASE_POOL_MAX: '20',
  DATABASE_CONNECT_TIMEOUT_MS: '60000',
  FUNCTION_MAX_DURATION_S: '60',
  PROVIDER_TIMEOUT_MS: '30000',
});

async function countOrders(eventId: string): Promise<Record<string, number>> {
  const rows = await db.queryMany<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM orders WHERE event_id = $1 GROUP BY status',
    [eventId],
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

describe('stampede: capacity 100, 1,000 concurrent checkouts', () => {
  it('through the HTTP handler on a 20-connection pool: exactly 100 holds, 900 SOLD_OUT, sold + held = 100', {
    timeout: 180_000,
  }, async () => {
    const { event, types } = await createEventWithTicketTypes({
      flash: { name: 'Flash Sale Pass', capacity: 100, priceCents: 4000 },
    });
    const stripeBefore = providers.stripe.requests.filter((r) => r.path === '/v1/checkout/sessions').length;

    const results = await Promise.all(
      Array.from({ length: 1_000 }, () =>
        call(checkout.POST, { method: 'POST', body: checkoutBody(event, [{ ticketType: 'flash', quantity: 1 }]) }),
      ),
    );

    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(100);
    expect(statuses.filter((s) => s === 409)).toHaveLength(900);
    for (const r of results.filter((x) => x.status === 409)) {
      expect(r.body.error.code).toBe('SOLD_OUT');
      expect(r.body.error.details).toMatchObject({ ticketType: 'flash', requested: 1, remaining: 0 });
    }
    const counters = await ticketCounters(types.flash.id);
    expect(counters.sold + counters.held).toBe(100);
    expect(counters).toMatchObject({ capacity: 100, held: 100, sold: 0 });
    // One pending order (with one ticket and one session) per 201; the 900 refused left nothing behind.
    expect(await countOrders(event.id)).toEqual({ pending: 100 });
    expect(await eventFootprint(event.id)).toMatchObject({ orders: 100, orderItems: 100, payments: 100, paymentFailures: 0 });
    const ids = new Set(results.filter((r) => r.status === 201).map((r) => r.body.orderId));
    expect(ids.size).toBe(100);
    const sessions = providers.stripe.requests.filter((r) => r.path === '/v1/checkout/sessions').length - stripeBefore;
    expect(sessions).toBe(100);
  });

  it('through the domain function with multi-ticket orders: never more than capacity, and every refusal names what remains', {
    timeout: 180_000,
  }, async () => {
    const { event, types } = await createEventWithTicketTypes({ flash: { capacity: 100, priceCents: 3000, maxPerOrder: 10 } });
    const quantities = Array.from({ length: 300 }, (_, i) => 1 + (i % 4));
    const outcomes = await Promise.allSettled(
      quantities.map((quantity) =>
        createCheckoutSession(checkoutSessionRequestSchema.parse(checkoutBody(event, [{ ticketType: 'flash', quantity }])), {
          actor: { type: 'buyer' },
        }),
      ),
    );
    let heldByOrders = 0;
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') {
        heldByOrders += quantities[i] ?? 0;
        return;
      }
      const error = outcome.reason;
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('SOLD_OUT');
      const details = (error as AppError).details ?? {};
      // Refused only when what remained (at that moment) was less than asked for.
      expect(Number(details.remaining)).toBeLessThan(quantities[i] ?? 0);
    });
    const counters = await ticketCounters(types.flash.id);
    expect(counters.held).toBe(heldByOrders);
    expect(counters.sold + counters.held).toBeLessThanOrEqual(100);
    // With 1..4-ticket orders and 300 buyers, demand (750) far exceeds 100: it sells out to within 3 tickets.
    expect(counters.held).toBeGreaterThanOrEqual(97);
    const items = await db.queryOne<{ n: number }>(
      `SELECT count(*)::int AS n FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.event_id = $1 AND o.status = 'pending'`,
      [event.id],
    );
    expect(items?.n).toBe(heldByOrders);
  });
});

describe('all or nothing', () => {
  it('a two-item order where one type is sold out takes nothing', async () => {
    const { event, types } = await createEventWithTicketTypes({
      plenty: { capacity: 50 },
      scarce: { capacity: 3, held: 2 },
    });
    const before = await eventFootprint(event.id);
    const res = await call(checkout.POST, {
      method: 'POST',
      body: checkoutBody(event, [
        { ticketType: 'plenty', quantity: 2 },
        { ticketType: 'scarce', quantity: 2 },
      ]),
    });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'SOLD_OUT', details: { ticketType: 'scarce', requested: 2, remaining: 1 } });
    expect(res.body.error.message).toMatch(/Only 1 .* left/);
    expect(await ticketCounters(types.plenty.id)).toMatchObject({ held: 0, sold: 0 });
    expect(await ticketCounters(types.scarce.id)).toMatchObject({ held: 2, sold: 0 });
    expect(await eventFootprint(event.id)).toEqual(before);
  });

  it('concurrent two-item orders: the scarce type decides, and the plentiful one is only held by the winners', {
    timeout: 60_000,
  }, async () => {
    const { event, types } = await createEventWithTicketTypes({ plenty: { capacity: 500 }, scarce: { capacity: 5 } });
    const results = await Promise.all(
      Array.from({ length: 60 }, () =>
        call(checkout.POST, {
          method: 'POST',
          body: checkoutBody(event, [
            { ticketType: 'plenty', quantity: 3 },
            { ticketType: 'scarce', quantity: 1 },
          ]),
        }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(5);
    expect(results.filter((r) => r.status === 409 && r.body.error.code === 'SOLD_OUT')).toHaveLength(55);
    expect(await ticketCounters(types.scarce.id)).toMatchObject({ held: 5 });
    expect(await ticketCounters(types.plenty.id)).toMatchObject({ held: 15 });
  });
});
