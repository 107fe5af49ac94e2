import { describe, expect, it } from 'vitest';
import * as checkout from '../../api/payments/checkout-session.js';
import * as capture from '../../api/payments/paypal-capture.js';
import { reclaimExpiredHolds } from '../../lib/checkout/holds.js';
import { db } from '../../lib/db/client.js';
import { listAuditForEntity } from '../../lib/db/models/audit-log.js';
import { findOrderById } from '../../lib/db/models/orders.js';
import { listFailuresForOrder } from '../../lib/db/models/payment-failures.js';
import { listPaymentsForOrder } from '../../lib/db/models/payments.js';
import { useProviderSandboxes } from '../support/providers.js';
import { checkoutBody, createEventWithTicketTypes, expireHoldNow, ticketCounters } from '../support/factories.js';
import { call } from '../support/http.js';

const providers = useProviderSandboxes({ PROVIDER_TIMEOUT_MS: '800' });

async function paypalOrder(quantity = 2, provider = 'paypal') {
  const { event, types } = await createEventWithTicketTypes({ pass: { priceCents: 4500, capacity: 10, slidingScale: true } });
  const res = await call(checkout.POST, {
    method: 'POST',
    body: checkoutBody(event, [{ ticketType: 'pass', quantity }], { provider, slidingScalePercent: 10 }),
  });
  expect(res.status).toBe(201);
  const [payment] = await listPaymentsForOrder(db, res.body.orderId);
  return {
    orderId: res.body.orderId as string,
    token: res.body.accessToken as string,
    paypalOrderId: payment?.providerSessionId ?? '',
    ticketTypeId: types.pass.id,
  };
}

const capturing = (orderId: string, token?: string) =>
  call(capture.POST, {
    method: 'POST',
    path: '/api/payments/paypal-capture',
    body: { orderId },
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });

describe('POST /api/payments/paypal-capture', () => {
  it('captures the approved order with a deterministic PayPal-Request-Id and completes it through finalize', async () => {
    const o = await paypalOrder(2);
    const approved = await providers.paypal.approve(o.paypalOrderId);
    expect(approved.outcome).toBe('approved');

    const res = await capturing(o.orderId, o.token);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ orderId: o.orderId, status: 'completed', paymentStatus: 'completed', totalCents: 2 * 4050 });
    const sent = providers.paypal.requests.filter(
      (r) => r.method === 'POST' && r.path === `/v2/checkout/orders/${o.paypalOrderId}/capture`,
    );
    expect(sent).toHaveLength(1);
    expect(sent[0]?.headers['paypal-request-id']).toBe(`capture-${o.paypalOrderId}`);

    expect(await ticketCounters(o.ticketTypeId)).toMatchObject({ held: 0, sold: 2 });
    const [payment] = await listPaymentsForOrder(db, o.orderId);
    expect(payment).toMatchObject({ status: 'completed', providerSessionId: o.paypalOrderId, methodType: 'paypal' });
    expect(providers.paypal.getCapture(payment?.providerPaymentId ?? '')).toBeTruthy();
    const audit = await listAuditForEntity(db, 'order', o.orderId);
    expect(audit.map((a) => a.action)).toEqual(['checkout_started', 'payment_completed']);

    // The buyer reloads the return page: nothing happens twice.
    const again = await capturing(o.orderId, o.token);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('completed');
    expect(await ticketCounters(o.ticketTypeId)).toMatchObject({ held: 0, sold: 2 });
  });

  it('concurrent returns (two tabs) capture once and complete once', async () => {
    const o = await paypalOrder(1);
    await providers.paypal.approve(o.paypalOrderId);
    const results = await Promise.all(Array.from({ length: 4 }, () => capturing(o.orderId, o.token)));
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.body.status).toBe('completed');
    }
    expect(await ticketCounters(o.ticketTypeId)).toMatchObject({ held: 0, sold: 1 });
    const completed = (await listAuditForEntity(db, 'order', o.orderId)).filter((a) => a.action === 'payment_completed');
    expect(completed).toHaveLength(1);
  });

  it('not approved yet → 422 with the PayPal link; the order stays pending', async () => {
    const o = await paypalOrder(1);
    const res = await capturing(o.orderId, o.token);
    expect(res.status).toBe(422);
    expect(res.body.error.details.checkoutUrl).toContain(o.paypalOrderId);
    expect((await findOrderById(db, o.orderId))?.status).toBe('pending');
    expect(await ticketCounters(o.ticketTypeId)).toMatchObject({ held: 1, sold: 0 });
  });

  it('declined funding source → 402 PAYMENT_DECLINED, failure recorded, order still pending (buyer can retry)', async () => {
    const o = await paypalOrder(1);
    await providers.paypal.approve(o.paypalOrderId);
    providers.paypal.failNext({
      match: `/v2/checkout/orders/${o.paypalOrderId}/capture`,
      kind: 'error',
      status: 422,
      code: 'INSTRUMENT_DECLINED',
    });
    const res = await capturing(o.orderId, o.token);
    expect(res.status).toBe(402);
    expect(res.body.error).toMatchObject({ code: 'PAYMENT_DECLINED', details: { providerCode: 'INSTRUMENT_DECLINED' } });
    expect((await listFailuresForOrder(db, o.orderId)).map((f) => f.code)).toEqual(['INSTRUMENT_DECLINED']);
    expect((await findOrderById(db, o.orderId))?.status).toBe('pending');
    const retry = await capturing(o.orderId, o.token);
    expect(retry.status).toBe(200);
    expect(retry.body.status).toBe('completed');
  });

  it('PayPal down or slow → 502, nothing changed; the retry captures', async () => {
    const o = await paypalOrder(1);
    await providers.paypal.approve(o.paypalOrderId);
    providers.paypal.failNext({ match: '/capture', kind: 'timeout' });
    const slow = await capturing(o.orderId, o.token);
    expect(slow.status).toBe(502);
    expect(slow.body.error.code).toBe('PROVIDER_UNAVAILABLE');
    expect((await findOrderById(db, o.orderId))?.status).toBe('pending');
    providers.paypal.failNext({ match: '/capture', kind: 'error', status: 500 });
    expect((await capturing(o.orderId, o.token)).status).toBe(502);
    const ok = await capturing(o.orderId, o.token);
    expect(ok.status).toBe(200);
    expect(await ticketCounters(o.ticketTypeId)).toMatchObject({ held: 0, sold: 1 });
  });

  it('the buyer token is required (404 like the lookup), a Stripe order is refused, an ended order is 409', async () => {
    const o = await paypalOrder(1);
    const other = await paypalOrder(1);
    expect((await capturing(o.orderId)).status).toBe(404);
    expect((await capturing(o.orderId, other.token)).status).toBe(404);
    expect((await capturing(o.orderId, 'x'.repeat(43))).status).toBe(404);

    const stripe = await paypalOrder(1, 'stripe');
    const refused = await capturing(stripe.orderId, stripe.token);
    expect(refused.status).toBe(422);

    await expireHoldNow(o.orderId);
    await providers.paypal.approve(o.paypalOrderId);
    // Expire it the way the cron and checkout's reclaim do.
    const expired = await reclaimExpiredHolds({ ticketTypeId: o.ticketTypeId, actor: { type: 'cron' }, reason: 'test' });
    expect(expired.map((e) => e.order.id)).toContain(o.orderId);
    const ended = await capturing(o.orderId, o.token);
    expect(ended.status).toBe(409);
    expect(ended.body.error.details).toEqual({ status: 'expired' });
    expect(providers.paypal.requests.some((r) => r.path === `/v2/checkout/orders/${o.paypalOrderId}/capture`)).toBe(false);
  });

  it('refuses a body that is not { orderId: uuid }', async () => {
    const o = await paypalOrder(1);
    const bad = await call(capture.POST, {
      method: 'POST',
      body: { orderId: o.orderId, amount: 1 },
      headers: { authorization: `Bearer ${o.token}` },
    });
    expect(bad.status).toBe(400);
    expect((await call(capture.POST, { method: 'POST', body: { orderId: 'nope' } })).status).toBe(400);
  });
});
