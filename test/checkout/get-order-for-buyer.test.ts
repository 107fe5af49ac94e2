import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as order from '../../api/orders/[id].js';
import * as checkout from '../../api/payments/checkout-session.js';
import { generateAccessToken } from '../../lib/checkout/access-token.js';
import { db } from '../../lib/db/client.js';
import { listPaymentsForOrder } from '../../lib/db/models/payments.js';
import { finalizeOrderPayment } from '../../lib/payments/finalize-order.js';
import { useProviderSandboxes } from '../support/providers.js';
import { checkoutBody, createEventWithTicketTypes, TWO_ATTENDEES } from '../support/factories.js';
import { call } from '../support/http.js';

useProviderSandboxes();

async function placeOrder() {
  const { event } = await createEventWithTicketTypes({
    weekend: { name: 'Full Weekend Pass', priceCents: 6500, slidingScale: true },
  });
  const res = await call(checkout.POST, {
    method: 'POST',
    body: checkoutBody(
      event,
      [
        {
          ticketType: 'weekend',
          quantity: 2,
          attendees: TWO_ATTENDEES,
        },
      ],
      { slidingScalePercent: 20 },
    ),
  });
  expect(res.status).toBe(201);
  return res.body as { orderId: string; accessToken: string; orderNumber: string; checkoutUrl: string };
}

const lookup = (id: string, authorization?: string) =>
  call(order.GET, { path: `/api/orders/${id}`, query: { id }, headers: authorization ? { authorization } : {} });

describe('GET /api/orders/{id} (buyer token)', () => {
  it('the right token → 200 with the order, its tickets and attendees, amounts and payment status', async () => {
    const placed = await placeOrder();
    const res = await lookup(placed.orderId, `Bearer ${placed.accessToken}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    expect(res.body).toMatchObject({
      orderId: placed.orderId,
      orderNumber: placed.orderNumber,
      status: 'pending',
      subtotalCents: 13_000,
      discountCents: 2 * 1300,
      slidingScalePercent: 20,
      totalCents: 2 * 5200,
      refundedCents: 0,
      currency: 'USD',
      provider: 'stripe',
      paymentStatus: 'pending',
      checkoutUrl: placed.checkoutUrl,
    });
    // Tickets of one type come back in no particular order.
    expect(res.body.items.map((i: any) => [i.ticketType, i.priceCents, i.attendee?.firstName]).sort()).toEqual([
      ['weekend', 5200, 'Ana'],
      ['weekend', 5200, 'Luis'],
    ]);
    expect(res.body.holdExpiresAt).toEqual(expect.any(String));
    expect(res.body.createdAt).toEqual(expect.any(String));
    expect(res.text).not.toContain('accessTokenHash');
    expect(res.text).not.toContain(placed.accessToken);
    // The scheme name is case-insensitive.
    expect((await lookup(placed.orderId, `bearer ${placed.accessToken}`)).status).toBe(200);
  });

  it('once paid: completed, payment status and card details, no checkout URL', async () => {
    const placed = await placeOrder();
    const [payment] = await listPaymentsForOrder(db, placed.orderId);
    const finalized = await finalizeOrderPayment({
      orderId: placed.orderId,
      provider: 'stripe',
      providerSessionId: payment?.providerSessionId ?? undefined,
      providerPaymentId: `pi_test_${randomUUID().replaceAll('-', '')}`,
      amountCents: 10_400,
      currency: 'usd',
      methodType: 'card',
      methodBrand: 'visa',
      methodLast4: '4242',
      actor: { type: 'provider' },
    });
    expect(finalized.outcome).toBe('completed');
    const res = await lookup(placed.orderId, `Bearer ${placed.accessToken}`);
    expect(res.body).toMatchObject({
      status: 'completed',
      paymentStatus: 'completed',
      payment: { status: 'completed', methodBrand: 'visa', methodLast4: '4242' },
      checkoutUrl: null,
      holdExpiresAt: null,
      completedAt: expect.any(String),
    });
  });

  it('no token, a wrong token, another order’s token, a missing order or a malformed id → the same 404', async () => {
    const mine = await placeOrder();
    const theirs = await placeOrder();
    const answers = [
      await lookup(mine.orderId),
      await lookup(mine.orderId, 'Bearer'),
      await lookup(mine.orderId, `Basic ${mine.accessToken}`),
      await lookup(mine.orderId, `Bearer ${generateAccessToken().token}`),
      await lookup(mine.orderId, `Bearer ${randomBytes(16).toString('hex')}`),
      await lookup(mine.orderId, `Bearer ${mine.accessToken.slice(0, -1)}`),
      await lookup(mine.orderId, `Bearer ${theirs.accessToken}`),
      await lookup(theirs.orderId, `Bearer ${mine.accessToken}`),
      await lookup(randomUUID(), `Bearer ${mine.accessToken}`),
      await lookup('not-a-uuid', `Bearer ${mine.accessToken}`),
      await lookup(`${mine.orderId}'--`, `Bearer ${mine.accessToken}`),
    ];
    for (const res of answers) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
      expect(res.body.error.message).toBe(answers[0]?.body.error.message);
    }
    // And the right ones still work.
    expect((await lookup(mine.orderId, `Bearer ${mine.accessToken}`)).status).toBe(200);
    expect((await lookup(theirs.orderId, `Bearer ${theirs.accessToken}`)).status).toBe(200);
  });

  it('is a buyer route: CORS for the festival site, refused for other origins', async () => {
    const placed = await placeOrder();
    const site = 'https://www.alocubanoboulderfest.org';
    const ok = await call(order.GET, {
      query: { id: placed.orderId },
      headers: { authorization: `Bearer ${placed.accessToken}`, origin: site },
    });
    expect(ok.headers.get('access-control-allow-origin')).toBe(site);
    const preflight = await call(order.OPTIONS, {
      method: 'OPTIONS',
      headers: { origin: site, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
    const foreign = await call(order.GET, {
      query: { id: placed.orderId },
      headers: { authorization: `Bearer ${placed.accessToken}`, origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(403);
  });
});
