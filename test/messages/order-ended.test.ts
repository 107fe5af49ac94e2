import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as cancelRoute from '../../api/orders/[id]/cancel.js';
import { db } from '../../lib/db/client.js';
import { recordPaymentFailure } from '../../lib/db/models/payment-failures.js';
import type { MailCatcher } from '../../scripts/mail-catcher.js';
import { startCheckout } from '../support/checkout.js';
import { checkoutBody, createEventWithTicketTypes } from '../support/factories.js';
import { call } from '../support/http.js';
import { mailTo, outboxFor, settleMail, useMailCatcher } from '../support/mail.js';
import { useStripeSandbox } from '../support/providers.js';
import {
  createPendingOrder,
  deliverStripe,
  expiredSessionFor,
  type PendingOrder,
  sandboxSessionFor,
  stripeEvent,
} from '../webhooks/support.js';

/**
 * Emails for orders that end without tickets: a hold that expired after the buyer had started paying,
 * and a late payment refunded because the tickets were gone. Each is queued by the flow's own
 * transaction, once, whatever is replayed.
 */

const stripe = useStripeSandbox();
let catcher: MailCatcher;

beforeAll(async () => {
  catcher = await useMailCatcher();
});

afterAll(async () => {
  await settleMail();
  await catcher?.close();
});

async function emailOf(orderId: string): Promise<string> {
  const row = await db.queryOne<{ email: string }>(
    'SELECT c.email FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = $1',
    [orderId],
  );
  return row?.email ?? '';
}

function expiredEvent(p: PendingOrder, sessionId = p.sessionId) {
  return stripeEvent('checkout.session.expired', expiredSessionFor(p, sessionId));
}

describe('orders that end without tickets', () => {
  it('a hold that expires after a declined attempt → one "reservation expired" email; without any attempt → none', async () => {
    const tried = await createPendingOrder({ quantity: 1 });
    await recordPaymentFailure(db, {
      paymentId: tried.payment.id,
      orderId: tried.order.id,
      provider: 'stripe',
      code: 'card_declined',
      declineCode: 'generic_decline',
    });
    const walkedAway = await createPendingOrder({ quantity: 1 });

    const event = JSON.stringify(expiredEvent(tried));
    expect((await deliverStripe(event)).status).toBe(200);
    expect((await deliverStripe(event)).status).toBe(200);
    expect((await deliverStripe(expiredEvent(walkedAway))).status).toBe(200);
    await settleMail();

    const mails = mailTo(catcher, await emailOf(tried.order.id));
    expect(mails).toHaveLength(1);
    expect(mails[0]?.parsed.subject).toContain('expired');
    expect(mails[0]?.parsed.text).toContain('You have not been charged');
    expect((await outboxFor(tried.order.id)).map((m) => [m.kind, m.status])).toEqual([['order_expired', 'sent']]);
    expect(mailTo(catcher, await emailOf(walkedAway.order.id))).toHaveLength(0);
    expect(await outboxFor(walkedAway.order.id)).toHaveLength(0);
  });

  it('the buyer cancels after a declined card → one "order cancelled" email; cancelling untried → none', async () => {
    const { event } = await createEventWithTicketTypes({ pass: { priceCents: 4_000, capacity: 10 } });
    const tried = await startCheckout(checkoutBody(event, [{ ticketType: 'pass', quantity: 1 }]), 'emails-cancel-tried');
    const declined = await stripe.sandbox.pay(tried.sessionId, '4000 0000 0000 0002');
    expect(declined.outcome).toBe('declined');
    await stripe.sandbox.idle();
    const failure = stripe.sandbox.webhooks.find(
      (w) => w.eventType === 'payment_intent.payment_failed' && JSON.stringify(w.payload).includes(tried.created.orderId),
    );
    expect(failure).toBeDefined();
    expect((await deliverStripe(failure!.payload)).status).toBe(200);
    const untried = await startCheckout(checkoutBody(event, [{ ticketType: 'pass', quantity: 1 }]), 'emails-cancel-untried');

    for (const { created } of [tried, untried]) {
      const answer = await call(cancelRoute.POST, {
        method: 'POST',
        path: `/api/orders/${created.orderId}/cancel`,
        query: { id: created.orderId },
        headers: { authorization: `Bearer ${created.accessToken}` },
      });
      expect(answer.status).toBe(200);
      expect(answer.body.status).toBe('cancelled');
    }
    await settleMail();

    const mails = mailTo(catcher, tried.request.customer.email);
    expect(mails).toHaveLength(1);
    expect(mails[0]?.parsed.subject).toBe(`Order ${tried.created.orderNumber} was cancelled`);
    expect(mails[0]?.parsed.text).toContain('You have not been charged');
    expect((await outboxFor(tried.created.orderId)).map((m) => [m.kind, m.status])).toEqual([['order_cancelled', 'sent']]);
    expect(mailTo(catcher, untried.request.customer.email)).toHaveLength(0);
  });

  it('a late payment without capacity → refunded, one "payment refunded" email and no confirmation', async () => {
    const p = await createPendingOrder({ quantity: 2, capacity: 3 });
    const sessionId = await sandboxSessionFor(stripe.client, p);
    expect((await deliverStripe(expiredEvent(p, sessionId))).status).toBe(200);
    await createPendingOrder({ ticketType: p.ticketType, quantity: 3 });
    const paid = await stripe.sandbox.pay(sessionId, '4242 4242 4242 4242');
    if (paid.outcome !== 'succeeded') throw new Error(paid.outcome);
    expect((await deliverStripe(paid.event)).status).toBe(200);
    // Stripe's own refund events for that refund change nothing and queue nothing.
    await stripe.sandbox.idle();
    for (const delivery of stripe.sandbox.webhooks.filter(
      (w) => w.eventType === 'refund.created' || w.eventType === 'charge.refunded',
    )) {
      expect((await deliverStripe(delivery.payload)).status).toBe(200);
    }
    await settleMail();

    const mails = mailTo(catcher, await emailOf(p.order.id));
    expect(mails).toHaveLength(1);
    const text = mails[0]?.parsed.text ?? '';
    expect(mails[0]?.parsed.subject).toContain('was refunded');
    expect(text).toContain('sold out');
    expect(text).toContain('Refunded now: USD 100.00');
    expect(text).toContain('Still paid: USD 0.00');
    expect(text).toContain('No tickets were issued');
    expect((await outboxFor(p.order.id)).map((m) => m.kind)).toEqual(['late_payment_refund']);
  });
});
