import Stripe from 'stripe';
import { beforeAll, describe, expect, it } from 'vitest';
import { POST as stripeWebhook } from '../../api/webhooks/stripe.js';
import { db } from '../../lib/db/client.js';
import { listLedgerForOrder } from '../../lib/db/models/money-ledger.js';
import { listMessagesForOrder } from '../../lib/db/models/outbox-messages.js';
import { settleScheduledDeliveries } from '../../lib/messages/schedule-delivery.js';
import { call } from '../support/http.js';
import { configureStripe, TEST_STRIPE_WEBHOOK_SECRET } from '../support/providers.js';
import { startCountingRoundTrips } from '../support/round-trips.js';
import { createPendingOrder, inboxRow, orderState, paidSessionFor, stripeEvent } from './support.js';

/**
 * Issue 17's budget: a webhook completion makes at most 3 database round trips from the request until
 * its response (BEGIN, COMMIT and every statement count; test/support/round-trips.ts). What runs after
 * the response (waitUntil on Vercel: the Stripe fee read and its booking, email delivery) is counted
 * separately and is not in the budget; here the fee read finds no fee, so nothing reaches the database.
 */

const BUDGET = 3;

beforeAll(() => {
  configureStripe();
});

describe('round trips of a webhook completion', () => {
  it(`a paid checkout.session.completed of a live hold: at most ${BUDGET} round trips until the response`, async () => {
    const p = await createPendingOrder({ quantity: 2 });
    const event = stripeEvent('checkout.session.completed', paidSessionFor(p));
    const payload = JSON.stringify(event);
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: TEST_STRIPE_WEBHOOK_SECRET });
    await db.query('SELECT 1'); // the pool exists before counting
    const trips = startCountingRoundTrips();
    let response: Awaited<ReturnType<typeof call>>;
    try {
      // The mark goes in the moment the function hands its response back (before the test's own reading of it).
      const answered = async (request: Request) => {
        const answer = await stripeWebhook(request);
        trips.mark('response');
        return answer;
      };
      response = await call(answered, {
        method: 'POST',
        path: '/api/webhooks/stripe',
        headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature },
        rawBody: payload,
      });
      await settleScheduledDeliveries();
    } finally {
      trips.stop();
    }
    expect(response.status).toBe(200);
    const untilResponse = trips.countBefore('response');
    expect(untilResponse, `statements:\n${trips.statements().join('\n')}`).toBeLessThanOrEqual(BUDGET);

    // Every effect is there, once: order + payment completed, audit, the ledger capture, the queued
    // confirmation, and the inbox row processed (once the fee read after the response was tried: the
    // sandbox does not know this made-up PaymentIntent, so there is no fee to book here).
    const s = await orderState(p.order.id, p.ticketType.id);
    expect(s.order.status).toBe('completed');
    expect(s.payments).toMatchObject([{ status: 'completed', providerPaymentId: p.paymentIntentId }]);
    expect(s.audit.map((a) => a.action)).toEqual(['payment_completed']);
    expect(s.counters).toMatchObject({ sold: 2, held: 0, taken: 2 });
    const ledger = await listLedgerForOrder(db, p.order.id);
    expect(ledger.map((l) => [l.kind, l.amountCents])).toEqual([['capture', p.order.totalCents]]);
    const messages = await listMessagesForOrder(db, p.order.id);
    expect(messages.filter((m) => m.kind === 'order_confirmation')).toHaveLength(1);
    expect(await inboxRow(String(event.id))).toMatchObject({ status: 'processed', attempts: 1 });
    // After the response: not budgeted. The fee read asks Stripe first (this made-up PaymentIntent has no
    // fee in the sandbox, so nothing is booked); the payment is not read again (the completion statement
    // handed the PaymentIntent id over) and the inbox row needs no finishing (a fee read takes no lease).
    const afterResponse = trips.statements().slice(trips.statements().indexOf('-- mark: response') + 1);
    expect(afterResponse, afterResponse.join('\n')).toEqual([]);

    // Stripe's retry of the same event, once it is processed: one statement stores nothing and finds the row.
    const again = startCountingRoundTrips();
    let duplicate: Awaited<ReturnType<typeof call>>;
    try {
      duplicate = await call(stripeWebhook, {
        method: 'POST',
        path: '/api/webhooks/stripe',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: TEST_STRIPE_WEBHOOK_SECRET }),
        },
        rawBody: payload,
      });
      await settleScheduledDeliveries();
    } finally {
      again.stop();
    }
    expect(duplicate.status).toBe(200);
    expect(duplicate.body).toMatchObject({ received: true, duplicate: true });
    expect(again.statements(), again.statements().join('\n')).toHaveLength(1);
    expect(await inboxRow(String(event.id))).toMatchObject({ status: 'processed', attempts: 1 });
  });
});
