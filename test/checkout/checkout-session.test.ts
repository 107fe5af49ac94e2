import { describe, expect, it } from 'vitest';
import * as checkout from '../../api/payments/checkout-session.js';
import { hashAccessToken } from '../../lib/checkout/access-token.js';
import { db } from '../../lib/db/client.js';
import { listAuditForEntity } from '../../lib/db/models/audit-log.js';
import { listOrderItems } from '../../lib/db/models/order-items.js';
import { findOrderById } from '../../lib/db/models/orders.js';
import { listPaymentsForOrder } from '../../lib/db/models/payments.js';
import { lastRequest, useProviderSandboxes } from '../support/providers.js';
import { checkoutBody, createEventWithTicketTypes, TWO_ATTENDEES, ticketCounters, uniqueEmail } from '../support/factories.js';
import { call } from '../support/http.js';

// A 30-minute hold: these tests pin the case where the hold and the Stripe session end together (a hold at
// least Stripe's 30-minute minimum). A shorter hold (the default is 15) is covered in
// test/checkout/customer-snapshot.test.ts (HOLD_MINUTES=10: tickets held 10 minutes, the session 30+).
const providers = useProviderSandboxes({ HOLD_MINUTES: '30' });
const SITE = 'https://www.alocubanoboulderfest.org';
const post = (body: unknown) => call(checkout.POST, { method: 'POST', body });

async function festival() {
  return await createEventWithTicketTypes({
    weekend: { name: 'Full Weekend Pass', priceCents: 6500, capacity: 50, slidingScale: true },
    social: { name: 'Saturday Social', priceCents: 2500, capacity: 50, slidingScale: false },
  });
}

describe('POST /api/payments/checkout-session — Stripe', () => {
  it('holds the tickets, writes the order and answers 201 with a Stripe checkout URL and a one-time token', async () => {
    const { event, types } = await festival();
    const email = uniqueEmail('Dancer');
    const res = await call(checkout.POST, {
      method: 'POST',
      path: '/api/payments/checkout-session',
      headers: { origin: SITE },
      body: checkoutBody(
        event,
        [
          {
            ticketType: 'weekend',
            quantity: 2,
            attendees: TWO_ATTENDEES,
          },
          { ticketType: 'social', quantity: 1 },
        ],
        { customer: { email, firstName: 'Ana', lastName: 'García' }, slidingScalePercent: 33 },
      ),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('access-control-allow-origin')).toBe(SITE);
    // Weekend 6500 → discount floor(6500*33/100) = 2145 → 4355 each; Social 2500 (no sliding scale).
    expect(res.body).toMatchObject({
      status: 'pending',
      totalCents: 2 * 4355 + 2500,
      currency: 'USD',
      provider: 'stripe',
      orderNumber: expect.stringMatching(/^ALB-\d{8}-\d{4,}$/),
    });
    expect(res.body.checkoutUrl).toContain(providers.stripe.url.replace('http://', ''));
    expect(res.body.accessToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const order = await findOrderById(db, res.body.orderId);
    expect(order).toMatchObject({
      status: 'pending',
      subtotalCents: 2 * 6500 + 2500,
      discountCents: 2 * 2145,
      totalCents: 2 * 4355 + 2500,
      slidingScalePercent: 33,
      accessTokenHash: hashAccessToken(res.body.accessToken),
    });
    expect(order?.holdExpiresAt?.toISOString()).toBe(res.body.expiresAt);
    // Token stored only as its hash.
    const raw = await db.queryOne<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE access_token_hash = $1', [
      res.body.accessToken,
    ]);
    expect(raw?.n).toBe(0);

    const items = await listOrderItems(db, res.body.orderId);
    expect(items).toHaveLength(3);
    expect(
      items
        .filter((i) => i.ticketTypeCode === 'weekend')
        .map((i) => [i.attendeeFirstName, i.priceCents])
        .sort(),
    ).toEqual([
      ['Ana', 4355],
      ['Luis', 4355],
    ]);
    expect(await ticketCounters(types.weekend.id)).toMatchObject({ held: 2, sold: 0 });
    expect(await ticketCounters(types.social.id)).toMatchObject({ held: 1, sold: 0 });

    const [payment] = await listPaymentsForOrder(db, res.body.orderId);
    expect(payment).toMatchObject({ status: 'pending', amountCents: order?.totalCents, checkoutUrl: res.body.checkoutUrl });
    expect(payment?.providerSessionId).toMatch(/^cs_test_/);

    const customer = await db.queryOne<{ email: string }>('SELECT email FROM customers WHERE id = $1', [order?.customerId]);
    expect(customer?.email).toBe(email.toLowerCase());
    const audit = await listAuditForEntity(db, 'order', res.body.orderId);
    expect(audit.map((a) => a.action)).toEqual(['checkout_started']);
    expect(audit[0]).toMatchObject({ actorType: 'buyer', requestId: res.headers.get('x-request-id') });
  });

  it('sends Stripe what the SDK should: minor units after sliding scale, idempotency key, order ids, expiry = hold', async () => {
    const { event } = await festival();
    const res = await post(
      checkoutBody(
        event,
        [
          { ticketType: 'weekend', quantity: 3 },
          { ticketType: 'social', quantity: 2 },
        ],
        {
          slidingScalePercent: 75,
          successUrl: `${SITE}/tickets/thanks?x=1`,
          cancelUrl: `${SITE}/tickets`,
        },
      ),
    );
    expect(res.status).toBe(201);
    const sent = lastRequest(providers.stripe.requests, 'POST', '/v1/checkout/sessions');
    expect(sent.headers['idempotency-key']).toBe(`checkout-${res.body.orderId}`);
    const form = sent.body as Record<string, any>;
    expect(form.mode).toBe('payment');
    expect(form.client_reference_id).toBe(res.body.orderId);
    expect(form.metadata).toEqual({ order_id: res.body.orderId, order_number: res.body.orderNumber });
    expect(form.payment_intent_data.metadata).toEqual({ order_id: res.body.orderId, order_number: res.body.orderNumber });
    expect(Number(form.expires_at)).toBe(Math.floor(Date.parse(res.body.expiresAt) / 1000));
    // 6500 at 75 % → floor(4875) discount → 1625; social never discounted.
    expect(form.line_items.map((l: any) => [l.price_data.unit_amount, l.quantity, l.price_data.currency])).toEqual([
      ['1625', '3', 'usd'],
      ['2500', '2', 'usd'],
    ]);
    const lineSum = form.line_items.reduce((s: number, l: any) => s + Number(l.price_data.unit_amount) * Number(l.quantity), 0);
    expect(lineSum).toBe(res.body.totalCents);
    expect(form.success_url).toBe(`${SITE}/tickets/thanks?x=1&order_id=${res.body.orderId}&session_id={CHECKOUT_SESSION_ID}`);
    expect(form.cancel_url).toBe(`${SITE}/tickets?order_id=${res.body.orderId}`);
    const session = providers.stripe.getSession(String(res.body.checkoutUrl).split('/').pop() ?? '');
    expect(session?.amount_total).toBe(res.body.totalCents);
  });

  it('holds at least 30 minutes at Stripe: expires_at is the hold expiry, 30+ minutes from now', async () => {
    const { event } = await festival();
    const before = Date.now();
    const res = await post(checkoutBody(event, [{ ticketType: 'social', quantity: 1 }]));
    expect(res.status).toBe(201);
    const expiresAt = Date.parse(res.body.expiresAt);
    expect(expiresAt - before).toBeGreaterThanOrEqual(30 * 60_000);
    expect(expiresAt - before).toBeLessThanOrEqual(32 * 60_000);
  });
});

describe('POST /api/payments/checkout-session — PayPal', () => {
  it('creates a PayPal order through the SDK: PayPal-Request-Id, reference/custom id, invoice id, breakdown and items after sliding scale', async () => {
    const { event, types } = await festival();
    const res = await post(
      checkoutBody(
        event,
        [
          { ticketType: 'weekend', quantity: 2 },
          { ticketType: 'social', quantity: 1 },
        ],
        {
          provider: 'paypal',
          slidingScalePercent: 10,
        },
      ),
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ provider: 'paypal', status: 'pending', totalCents: 2 * 5850 + 2500 });
    const sent = lastRequest(providers.paypal.requests, 'POST', '/v2/checkout/orders');
    expect(sent.headers['paypal-request-id']).toBe(`checkout-${res.body.orderId}`);
    const body = sent.body as Record<string, any>;
    expect(body.intent).toBe('CAPTURE');
    const unit = body.purchase_units[0];
    expect(unit).toMatchObject({ reference_id: res.body.orderId, custom_id: res.body.orderId, invoice_id: res.body.orderNumber });
    expect(unit.amount).toEqual({
      currency_code: 'USD',
      value: '142.00',
      breakdown: { item_total: { currency_code: 'USD', value: '142.00' } },
    });
    expect(unit.items.map((i: any) => [i.sku, i.unit_amount.value, i.quantity])).toEqual([
      ['weekend', '58.50', '2'],
      ['social', '25.00', '1'],
    ]);
    expect(body.payment_source.paypal.experience_context.return_url).toBe(`${SITE}/tickets/success?order_id=${res.body.orderId}`);
    const paypalOrderId = (await listPaymentsForOrder(db, res.body.orderId))[0]?.providerSessionId;
    expect(paypalOrderId).toBeTruthy();
    expect(providers.paypal.getOrder(paypalOrderId ?? '')).toBeTruthy();
    expect(res.body.checkoutUrl).toContain(String(paypalOrderId));
    expect(await ticketCounters(types.weekend.id)).toMatchObject({ held: 2 });
  });
});
