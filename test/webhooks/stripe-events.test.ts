import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '../../lib/db/client.js';
import { listFailuresForOrder } from '../../lib/db/models/payment-failures.js';
import {
  checkoutSession,
  createPendingOrder,
  deliverStripe,
  ids,
  inboxRow,
  orderState,
  paidSessionFor,
  type PendingOrder,
  refundedChargeFor,
  refundFor,
  stripeDispute,
  stripeEvent,
} from './support.js';
import { configureStripe } from '../support/providers.js';

/** Each Stripe event type applied once, on real rows. */

beforeAll(() => {
  configureStripe();
});

async function completed(p: PendingOrder) {
  const response = await deliverStripe(stripeEvent('checkout.session.completed', paidSessionFor(p)));
  expect(response.status).toBe(200);
  return response;
}

describe('checkout.session.*', () => {
  it('completed + paid → order and payment completed, hold converted to sold, one audit entry', async () => {
    const p = await createPendingOrder({ quantity: 3 });
    const response = await completed(p);
    // Applied in one statement and processed: Stripe's fee is read after the response, with no lease
    // (a missed read is the fee cron's); deliverStripe waits for that after-response work.
    expect(response.body.status).toBe('processed');
    const s = await orderState(p.order.id, p.ticketType.id);
    expect(s.order.status).toBe('completed');
    expect(s.order.holdExpiresAt).toBeNull();
    expect(s.payments).toHaveLength(1);
    expect(s.payments[0]).toMatchObject({
      status: 'completed',
      providerPaymentId: p.paymentIntentId,
      providerSessionId: p.sessionId,
    });
    expect(s.counters).toMatchObject({ sold: 3, held: 0 });
    expect(s.audit.map((a) => a.action)).toEqual(['payment_completed']);
    expect(s.audit[0]).toMatchObject({ actorType: 'provider' });
  });

  it('completed + unpaid (async method) → processing; async_payment_succeeded → completed', async () => {
    const p = await createPendingOrder();
    await deliverStripe(stripeEvent('checkout.session.completed', paidSessionFor(p, { paymentStatus: 'unpaid' })));
    let s = await orderState(p.order.id, p.ticketType.id);
    expect(s.order.status).toBe('processing');
    expect(s.payments[0]).toMatchObject({ status: 'processing', providerPaymentId: p.paymentIntentId });
    expect(s.counters).toMatchObject({ sold: 0, held: 2 });

    await deliverStripe(stripeEvent('checkout.session.async_payment_succeeded', paidSessionFor(p)));
    s = await orderState(p.order.id, p.ticketType.id);
    expect(s.order.status).toBe('completed');
    expect(s.counters).toMatchObject({ sold: 2, held: 0 });
    expect(s.audit.map((a) => a.action)).toEqual(['payment_processing', 'payment_completed']);
  });

  it('async_payment_failed → order failed, hold released, failure recorded', async () => {
    const p = await createPendingOrder();
    await deliverStripe(stripeEvent('checkout.session.completed', paidSessionFor(p, { paymentStatus: 'unpaid' })));
    const event = stripeEvent('checkout.session.async_payment_failed', paidSessionFor(p, { paymentStatus: 'unpaid' }));
    await deliverStripe(event);
    const s = await orderState(p.order.id, p.ticketType.id);
    expect(s.order.status).toBe('failed');
    expect(s.payments[0]).toMatchObject({ status: 'failed', failureCount: 1, failureCode: 'async_payment_failed' });
    expect(s.counters).toMatchObject({ sold: 0, held: 0 });
    const failures = await listFailuresForOrder(db, p.order.id);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ code: 'async_payment_failed', providerEventId: event.id });
    expect(s.audit.map((a) => a.action)).toEqual(['payment_processing', 'payment_failed']);
  });

  it('expired → order expired and hold released; expired after completed changes nothing', async () => {
    const p = await createPendingOrder();
    await deliverStripe(
      stripeEvent(
        'checkout.session.expired',
        paidSessionFor(p, { paymentIntentId: null, paymentStatus: 'unpaid', status: 'expired' }),
      ),
    );
    let s = await orderState(p.order.id, p.ticketType.id);
    expect(s.order.status).toBe('expired');
    expect(s.payments[0]?.status).toBe('expired');
    expect(s.counters).toMatchObject({ sold: 0, held: 0 });

    const q = await createPendingOrder();
    await completed(q);
    const before = await orderState(q.order.id, q.ticketType.id);
    const response = await deliverStripe(
      stripeEvent(
        'checkout.session.expired',
        paidSessionFor(q, { paymentIntentId: null, paymentStatus: 'unpaid', status: 'expired' }),
      ),
    );
    expect(response.status).toBe(200);
    s = await orderState(q.order.id, q.ticketType.id);
    expect(s.order.status).toBe('completed');
    expect(s.audit).toHaveLength(before.audit.length);
    expect(s.counters).toEqual(before.counters);
  });

  it('an event for a session we do not know is stored as ignored', async () => {
    const event = stripeEvent(
      'checkout.session.completed',
      checkoutSession({
        sessionId: ids.session(),
        orderId: 'not-our-order',
        paymentIntentId: ids.paymentIntent(),
        amountTotal: 100,
      }),
    );
    const response = await deliverStripe(event);
    expect(response.status).toBe(200);
    expect(await inboxRow(String(event.id))).toMatchObject({ status: 'ignored', lastError: 'No matching order' });
  });
});

describe('amount or currency mismatch', () => {
  it('a paid amount that differs from the order total → not completed, flagged, audited once', async () => {
    const p = await createPendingOrder({ quantity: 2, priceCents: 5_000 });
    const event = stripeEvent('checkout.session.completed', paidSessionFor(p, { amountTotal: 9_999 }));
    await deliverStripe(event);
    await deliverStripe(stripeEvent('checkout.session.async_payment_succeeded', paidSessionFor(p, { amountTotal: 9_999 })));
    const s = await orderState(p.order.id, p.ticketType.id);
    expect(s.order.status).toBe('pending');
    expect(s.order.attentionReason).toBe('amount_mismatch');
    expect(s.counters).toMatchObject({ sold: 0, held: 2 });
    expect(s.audit.map((a) => a.action)).toEqual(['payment_amount_mismatch']);
    expect(s.audit[0]?.newValues).toMatchObject({ amountCents: 9_999, currency: 'USD' });
  });

  it('a different currency → not completed, flagged, audited', async () => {
    const p = await createPendingOrder();
    await deliverStripe(stripeEvent('checkout.session.completed', paidSessionFor(p, { currency: 'eur' })));
    const s = await orderState(p.order.id, p.ticketType.id);
    expect(s.order.status).toBe('pending');
    expect(s.order.attentionReason).toBe('amount_mismatch');
    expect(s.audit[0]).toMatchObject({ action: 'payment_amount_mismatch', reason: 'amount_mismatch' });
    expect(s.audit[0]?.newValues).toMatchObject({ currency: 'EUR' });
  });
});

describe('payment_intent.payment_failed', () => {
  it('records each decline with code, decline code and message; the retry count goes up', async () => {
    const p = await createPendingOrder();
    const intent = (declineCode: string) => ({
      id: p.paymentIntentId,
      object: 'payment_intent',
      metadata: { order_id: p.order.id },
      last_payment_error: { code: 'card_declined', decline_code: declineCode, message: 'Your card was declined.' },
    });
    await deliverStripe(stripeEvent('payment_intent.payment_failed', intent('insufficient_funds')));
    await deliverStripe(stripeEvent('payment_intent.payment_failed', intent('lost_card')));
    const failures = await listFailuresForOrder(db, p.order.id);
    expect(failures.map((f) => [f.code, f.declineCode, f.message, f.retryCount])).toEqual([
      ['card_declined', 'insufficient_funds', 'Your card was declined.', 0],
      ['card_declined', 'lost_card', 'Your card was declined.', 1],
    ]);
    const s = await orderState(p.order.id, p.ticketType.id);
    expect(s.payments[0]).toMatchObject({ failureCount: 2, failureCode: 'card_declined', status: 'pending' });
    expect(s.order.status).toBe('pending');
    expect(s.counters.held).toBe(2);
  });
});

describe('refunds', () => {
  it('charge.refunded for a dashboard refund → refund with source provider, order and payment refunded', async () => {
    const p = await createPendingOrder();
    await completed(p);
    const refund = refundFor(p);
    const charge = refundedChargeFor(p, [refund]);
    await deliverStripe(stripeEvent('charge.refunded', charge));
    // Stripe also sends refund.created for the same refund: synced by id, nothing changes.
    await deliverStripe(stripeEvent('refund.created', refund));
    const s = await orderState(p.order.id, p.ticketType.id);
    expect(s.refunds).toHaveLength(1);
    expect(s.refunds[0]).toMatchObject({
      source: 'provider',
      status: 'succeeded',
      amountCents: p.order.totalCents,
      providerRefundId: refund.id,
    });
    expect(s.order).toMatchObject({ status: 'refunded', refundedCents: p.order.totalCents });
    expect(s.payments[0]).toMatchObject({ status: 'refunded', refundedCents: p.order.totalCents });
    expect(s.audit.map((a) => a.action)).toEqual(['payment_completed', 'provider_refund_recorded']);
  });

  it('refund.created partial → partially_refunded; refund.failed later → money back on the books', async () => {
    const p = await createPendingOrder();
    await completed(p);
    const refund = refundFor(p, { amount: 2_500 });
    await deliverStripe(stripeEvent('refund.created', refund));
    let s = await orderState(p.order.id, p.ticketType.id);
    expect(s.order).toMatchObject({ status: 'partially_refunded', refundedCents: 2_500 });
    expect(s.payments[0]).toMatchObject({ status: 'partially_refunded', refundedCents: 2_500 });

    await deliverStripe(stripeEvent('refund.updated', refund));
    s = await orderState(p.order.id, p.ticketType.id);
    expect(s.audit).toHaveLength(2);

    await deliverStripe(
      stripeEvent('refund.failed', { ...refund, status: 'failed', failure_reason: 'expired_or_canceled_card' }),
    );
    s = await orderState(p.order.id, p.ticketType.id);
    expect(s.refunds[0]).toMatchObject({ status: 'failed', failureReason: 'expired_or_canceled_card' });
    expect(s.payments[0]).toMatchObject({ refundedCents: 0 });
    expect(s.order.refundedCents).toBe(0);
    expect(s.audit.map((a) => a.action)).toEqual(['payment_completed', 'provider_refund_recorded', 'refund_failed']);
  });

  it('a refund before its payment was captured here waits (failed with backoff) instead of being lost', async () => {
    const p = await createPendingOrder();
    const refund = refundFor(p, { amount: 1_000 });
    const charge = refundedChargeFor(p, [refund]);
    const event = stripeEvent('charge.refunded', charge);
    const response = await deliverStripe(event);
    expect(response.status).toBe(200);
    const row = await inboxRow(String(event.id));
    expect(row).toMatchObject({ status: 'failed', attempts: 1 });
    expect(row?.lastError).toMatch(/NotYetApplicable/);
    expect((await orderState(p.order.id, p.ticketType.id)).refunds).toHaveLength(0);
  });
});

describe('charge.dispute.created', () => {
  it('flags the order disputed and sets the disputed amount aside (once)', async () => {
    const p = await createPendingOrder();
    await completed(p);
    const dispute = stripeDispute({ paymentIntentId: p.paymentIntentId, chargeId: p.chargeId, amount: 4_000 });
    await deliverStripe(stripeEvent('charge.dispute.created', dispute));
    await deliverStripe(stripeEvent('charge.dispute.created', dispute));
    const s = await orderState(p.order.id, p.ticketType.id);
    expect(s.order.attentionReason).toBe('disputed');
    expect(s.order.status).toBe('completed');
    expect(s.payments[0]?.disputedCents).toBe(4_000);
    expect(s.audit.map((a) => a.action)).toEqual(['payment_completed', 'payment_disputed']);
  });
});
