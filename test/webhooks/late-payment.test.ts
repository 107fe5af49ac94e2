import { describe, expect, it } from 'vitest';
import { db } from '../../lib/db/client.js';
import { findRefundByProviderId } from '../../lib/db/models/refunds.js';
import { processWebhookEvent } from '../../lib/webhooks/inbox.js';
import {
  createPendingOrder,
  deliverStripe,
  expiredSessionFor,
  inboxRow,
  orderState,
  type PendingOrder,
  sandboxSessionFor,
  stripeEvent,
} from './support.js';
import { useStripeSandbox } from '../support/providers.js';

/**
 * Late payments against the local Stripe sandbox: the session is created and paid there, and the
 * sandbox's own checkout.session.completed event is delivered to our webhook route.
 */

const stripe = useStripeSandbox();

async function payAtSandbox(sessionId: string) {
  const paid = await stripe.sandbox.pay(sessionId, '4242 4242 4242 4242');
  if (paid.outcome !== 'succeeded') throw new Error(`sandbox payment ${paid.outcome}`);
  return paid;
}

/** Our hold runs out (the checkout.session.expired path), while the buyer is still on Stripe's page. */
async function expireOurHold(p: PendingOrder, sessionId: string) {
  const expired = expiredSessionFor(p, sessionId);
  expect((await deliverStripe(stripeEvent('checkout.session.expired', expired))).status).toBe(200);
  expect((await orderState(p.order.id, p.ticketType.id)).order.status).toBe('expired');
}

describe('late payments', () => {
  it('with capacity left → the order completes and takes its tickets again', async () => {
    const p = await createPendingOrder({ quantity: 2, capacity: 5 });
    const sessionId = await sandboxSessionFor(stripe.client, p);
    await expireOurHold(p, sessionId);
    expect((await orderState(p.order.id, p.ticketType.id)).counters).toMatchObject({ sold: 0, held: 0 });

    const paid = await payAtSandbox(sessionId);
    const response = await deliverStripe(paid.event);
    expect(response.status).toBe(200);
    const s = await orderState(p.order.id, p.ticketType.id);
    expect(s.order.status).toBe('completed');
    expect(s.counters).toMatchObject({ sold: 2, held: 0 });
    expect(s.refunds).toHaveLength(0);
    expect(s.audit.map((a) => a.action)).toEqual(['hold_expired', 'late_payment_completed']);
    expect(stripe.sandbox.requests.filter((r) => r.path === '/v1/refunds')).toHaveLength(0);
  });

  it('without capacity → refunded in full through the sandbox, recorded, audited, and 200 to Stripe', async () => {
    const p = await createPendingOrder({ quantity: 2, capacity: 3 });
    const sessionId = await sandboxSessionFor(stripe.client, p);
    await expireOurHold(p, sessionId);
    // Someone else takes the last tickets.
    await createPendingOrder({ ticketType: p.ticketType, quantity: 3 });

    const paid = await payAtSandbox(sessionId);
    const paymentIntentId = String(paid.paymentIntent.id);
    const response = await deliverStripe(paid.event);
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('processed');

    // The money went back at the provider, once, in full.
    expect(stripe.sandbox.refundedAmount(paymentIntentId)).toBe(p.order.totalCents);
    const refundCalls = stripe.sandbox.requests.filter((r) => r.method === 'POST' && r.path === '/v1/refunds');
    expect(refundCalls).toHaveLength(1);
    const s = await orderState(p.order.id, p.ticketType.id);
    expect(refundCalls[0]?.headers['idempotency-key']).toBe(`system-refund-${s.refunds[0]?.id}`);
    expect(s.order).toMatchObject({ status: 'expired', attentionReason: 'late_payment_no_capacity' });
    expect(s.counters).toMatchObject({ capacity: 3, sold: 0, held: 3 });
    expect(s.payments[0]).toMatchObject({
      status: 'refunded',
      refundedCents: p.order.totalCents,
      providerPaymentId: paymentIntentId,
    });
    expect(s.refunds).toHaveLength(1);
    expect(s.refunds[0]).toMatchObject({ source: 'system', status: 'succeeded', amountCents: p.order.totalCents });
    expect(s.refunds[0]?.reason).toMatch(/^late_payment_no_capacity/);
    expect(s.audit.map((a) => [a.action, a.reason])).toEqual([
      ['hold_expired', 'checkout.session.expired'],
      ['late_payment_no_capacity', 'late_payment_no_capacity'],
      ['system_refund_issued', 'late_payment_no_capacity'],
    ]);

    // Stripe's own refund events for that refund find it by metadata.refund_id: nothing changes.
    await stripe.sandbox.idle();
    const refundEvents = stripe.sandbox.webhooks.filter(
      (w) => w.eventType === 'refund.created' || w.eventType === 'charge.refunded',
    );
    expect(refundEvents.length).toBeGreaterThanOrEqual(2);
    for (const delivery of refundEvents) expect((await deliverStripe(delivery.payload)).status).toBe(200);
    // A replay of the payment event neither refunds twice nor audits again.
    const row = await inboxRow(String(paid.event.id));
    await processWebhookEvent(row?.id ?? '', { actor: { type: 'admin', id: 'test' }, replay: true });
    const after = await orderState(p.order.id, p.ticketType.id);
    expect(after.refunds).toHaveLength(1);
    expect(after.audit).toHaveLength(3);
    expect(stripe.sandbox.refundedAmount(paymentIntentId)).toBe(p.order.totalCents);
    expect(await findRefundByProviderId(db, 'stripe', s.refunds[0]?.providerRefundId ?? '')).toMatchObject({
      id: s.refunds[0]?.id,
    });
  });

  it('a refund call that fails leaves the event failed; the retry refunds with the same key, once', async () => {
    const p = await createPendingOrder({ quantity: 1, capacity: 1 });
    const sessionId = await sandboxSessionFor(stripe.client, p);
    await expireOurHold(p, sessionId);
    await createPendingOrder({ ticketType: p.ticketType, quantity: 1 });
    const paid = await payAtSandbox(sessionId);

    stripe.sandbox.failNext({ match: 'POST /v1/refunds', kind: 'error', status: 500 });
    stripe.sandbox.failNext({ match: 'POST /v1/refunds', kind: 'error', status: 500 });
    stripe.sandbox.failNext({ match: 'POST /v1/refunds', kind: 'error', status: 500 });
    const response = await deliverStripe(paid.event);
    expect(response.status).toBe(200);
    const failed = await inboxRow(String(paid.event.id));
    expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
    expect(failed?.lastError).toMatch(/refund failed/);
    let s = await orderState(p.order.id, p.ticketType.id);
    expect(s.refunds).toHaveLength(1);
    expect(s.refunds[0]).toMatchObject({ status: 'pending', source: 'system' });

    await processWebhookEvent(failed?.id ?? '', { actor: { type: 'cron', id: 'test' }, now: new Date(Date.now() + 3600_000) });
    expect(await inboxRow(String(paid.event.id))).toMatchObject({ status: 'processed', attempts: 2 });
    s = await orderState(p.order.id, p.ticketType.id);
    expect(s.refunds).toHaveLength(1);
    expect(s.refunds[0]).toMatchObject({ status: 'succeeded' });
    expect(stripe.sandbox.refundedAmount(String(paid.paymentIntent.id))).toBe(p.order.totalCents);
    expect(s.audit.filter((a) => a.action === 'late_payment_no_capacity')).toHaveLength(1);
  });

  it('a second payment for an already paid order (duplicate_payment) is refunded in full, once', async () => {
    const p = await createPendingOrder({ quantity: 1, capacity: 5 });
    const first = await sandboxSessionFor(stripe.client, p);
    const second = await stripe.client.checkout.sessions.create({
      mode: 'payment',
      client_reference_id: p.order.id,
      metadata: { order_id: p.order.id },
      success_url: 'http://localhost:3000/thanks',
      line_items: [
        { quantity: 1, price_data: { currency: 'usd', unit_amount: p.ticketType.priceCents, product_data: { name: 'Pass' } } },
      ],
    });
    const paidFirst = await payAtSandbox(first);
    const paidSecond = await payAtSandbox(second.id);
    expect((await deliverStripe(paidFirst.event)).status).toBe(200);
    expect((await deliverStripe(paidSecond.event)).status).toBe(200);
    expect((await deliverStripe(paidSecond.event)).body.duplicate).toBe(true);

    const s = await orderState(p.order.id, p.ticketType.id);
    expect(s.order.status).toBe('completed');
    expect(s.counters).toMatchObject({ sold: 1, held: 0 });
    const duplicate = s.payments.find((pay) => pay.providerPaymentId === String(paidSecond.paymentIntent.id));
    expect(duplicate).toMatchObject({ status: 'cancelled', failureCode: 'duplicate_payment', refundedCents: p.order.totalCents });
    expect(s.refunds).toHaveLength(1);
    expect(s.refunds[0]).toMatchObject({ source: 'system', status: 'succeeded', paymentId: duplicate?.id });
    expect(stripe.sandbox.refundedAmount(String(paidSecond.paymentIntent.id))).toBe(p.order.totalCents);
    expect(stripe.sandbox.refundedAmount(String(paidFirst.paymentIntent.id))).toBe(0);
    expect(s.audit.map((a) => [a.action, a.reason])).toEqual([
      ['payment_completed', null],
      ['duplicate_payment_received', null],
      ['system_refund_issued', 'duplicate_payment'],
    ]);
  });
});
