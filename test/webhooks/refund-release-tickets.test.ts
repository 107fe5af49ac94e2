import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '../../lib/db/client.js';
import { listOrderItems } from '../../lib/db/models/order-items.js';
import { insertRefund } from '../../lib/db/models/refunds.js';
import { createPendingOrder, deliverStripe, ids, orderState, paidSessionFor, refundFor, stripeEvent } from './support.js';
import { configureStripe } from '../support/providers.js';

/** A staff refund asked with releaseTickets that Stripe answered `pending` is completed by a webhook. */

beforeAll(() => {
  configureStripe();
});

describe('refund.updated for a pending staff refund with releaseTickets', () => {
  it('moves the money and returns the tickets to sale when Stripe reports it succeeded', async () => {
    const p = await createPendingOrder({ quantity: 2 });
    const session = paidSessionFor(p);
    expect((await deliverStripe(stripeEvent('checkout.session.completed', session))).status).toBe(200);
    const stripeRefundId = ids.refund();
    const refund = await insertRefund(db, {
      paymentId: p.payment.id,
      orderId: p.order.id,
      provider: 'stripe',
      amountCents: p.order.totalCents,
      currency: 'USD',
      reason: 'Buyer cannot travel to Boulder this year',
      source: 'admin',
      status: 'pending',
      providerRefundId: stripeRefundId,
      requestedBy: 'key_test',
      releaseTickets: true,
    });
    expect((await orderState(p.order.id, p.ticketType.id)).counters).toMatchObject({ sold: 2, held: 0 });

    const payload = refundFor(p, { refundId: stripeRefundId, status: 'succeeded', metadata: { refund_id: refund.id } });
    expect((await deliverStripe(stripeEvent('refund.updated', payload))).status).toBe(200);
    // A duplicate delivery changes nothing more.
    expect((await deliverStripe(stripeEvent('refund.updated', payload))).status).toBe(200);

    const s = await orderState(p.order.id, p.ticketType.id);
    expect(s.refunds).toEqual([expect.objectContaining({ id: refund.id, status: 'succeeded', source: 'admin' })]);
    expect(s.order).toMatchObject({ status: 'refunded', refundedCents: p.order.totalCents });
    expect(s.counters).toMatchObject({ sold: 0, held: 0 });
    expect((await listOrderItems(db, p.order.id)).map((i) => i.status)).toEqual(['refunded', 'refunded']);
    expect(s.audit.map((a) => a.action)).toEqual(['payment_completed', 'refund_succeeded', 'tickets_released']);
  });
});

describe('a refund marked failed', () => {
  async function paidOrderWithFailedRefund(failureReason: string) {
    const p = await createPendingOrder({ quantity: 1 });
    const session = paidSessionFor(p);
    expect((await deliverStripe(stripeEvent('checkout.session.completed', session))).status).toBe(200);
    const refund = await insertRefund(db, {
      paymentId: p.payment.id,
      orderId: p.order.id,
      provider: 'stripe',
      amountCents: 1_000,
      currency: 'USD',
      reason: 'Partial refund for a missed workshop',
      source: 'admin',
      status: 'pending',
    });
    await db.query(`UPDATE refunds SET status = 'failed', failure_reason = $2 WHERE id = $1`, [refund.id, failureReason]);
    const payload = refundFor(p, { amount: 1_000, status: 'succeeded', metadata: { refund_id: refund.id } });
    return { p, refund, payload };
  }

  it('by our own unanswered call (time-out, 5xx) is counted when Stripe reports it succeeded', async () => {
    const { p, refund, payload } = await paidOrderWithFailedRefund('unconfirmed: stripe refund failed: timeout');
    expect((await deliverStripe(stripeEvent('refund.created', payload))).status).toBe(200);
    const s = await orderState(p.order.id, p.ticketType.id);
    expect(s.refunds).toEqual([expect.objectContaining({ id: refund.id, status: 'succeeded' })]);
    expect(s.order).toMatchObject({ status: 'partially_refunded', refundedCents: 1_000 });
  });

  it('by the provider stays failed whatever report arrives later', async () => {
    const { p, refund, payload } = await paidOrderWithFailedRefund('expired_or_canceled_card');
    expect((await deliverStripe(stripeEvent('refund.updated', payload))).status).toBe(200);
    const s = await orderState(p.order.id, p.ticketType.id);
    expect(s.refunds).toEqual([expect.objectContaining({ id: refund.id, status: 'failed' })]);
    expect(s.order).toMatchObject({ status: 'completed', refundedCents: 0 });
  });
});
