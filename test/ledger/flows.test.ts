import { beforeAll, describe, expect, it } from 'vitest';
import * as summaryRoute from '../../api/analytics/summary.js';
import { db } from '../../lib/db/client.js';
import { findLedgerMismatches, listLedgerForOrder } from '../../lib/db/models/money-ledger.js';
import { refundPayment } from '../../lib/refunds/refund-payment.js';
import { makeKey } from '../support/staff.js';
import { payPalApprovedAndCaptured, startCheckout } from '../support/checkout.js';
import { checkoutBody, createEventWithTicketTypes } from '../support/factories.js';
import { call } from '../support/http.js';
import { TEST_STRIPE_WEBHOOK_SECRET, useProviderSandboxes } from '../support/providers.js';
import { rawFigures } from '../support/raw-books.js';
import { deliverStripe, stripeDispute, stripeEvent } from '../webhooks/support.js';

/**
 * The ledger fed by the real flows: checkout, the sandbox's payment page, Stripe's signed webhooks
 * through the inbox (and its follow-up that reads the charge's balance transaction), PayPal's capture
 * on return (seller_receivable_breakdown), staff refunds through the provider, a dispute opened and
 * lost. Fees from both sandboxes reach the ledger, and the summary's net is gross - refunds - fees -
 * lost disputes, equal to the ledger and to the raw tables.
 */

const providers = useProviderSandboxes();
const actor = { type: 'admin' as const, id: 'ledger-flows' };

beforeAll(() => {
  process.env.STRIPE_WEBHOOK_SECRET = TEST_STRIPE_WEBHOOK_SECRET;
});

/** A Stripe checkout paid on the sandbox page and settled by the sandbox's own checkout.session.completed, signed. */
async function paidThroughStripeWebhook(event: { slug: string }, percent: number) {
  const { created, sessionId } = await startCheckout(
    checkoutBody(event, [{ ticketType: 'pass', quantity: 2 }], { slidingScalePercent: percent }),
  );
  const paid = await providers.stripe.pay(sessionId, '4242424242424242');
  if (paid.outcome !== 'succeeded') throw new Error(`sandbox payment ${paid.outcome}`);
  const session = providers.stripe.getSession(sessionId);
  if (!session) throw new Error('no session');
  const delivered = await deliverStripe(providers.stripe.buildEvent('checkout.session.completed', session));
  expect(delivered.status).toBe(200);
  return { orderId: created.orderId, totalCents: created.totalCents, paymentIntentId: String(paid.paymentIntent.id) };
}

describe('the ledger fed by the real flows', () => {
  it('books Stripe and PayPal fees from the sandboxes, refunds and a lost dispute; the summary nets them out', async () => {
    const { event } = await createEventWithTicketTypes({ pass: { priceCents: 12_345, slidingScale: true, capacity: 40 } });

    // Stripe: the fee is the charge's balance transaction, read after the completion committed.
    const stripeOrder = await paidThroughStripeWebhook(event, 20);
    const stripeEntries = await listLedgerForOrder(db, stripeOrder.orderId);
    const charge = providers.stripe.getPaymentIntent(stripeOrder.paymentIntentId)?.latest_charge;
    const balance = providers.stripe.balanceTransactions().find((b) => b.source === charge);
    expect(balance).toBeDefined();
    expect(balance?.fee).toBe(Math.floor((stripeOrder.totalCents * 29 + 500) / 1000) + 30);
    expect(stripeEntries.map((e) => [e.kind, e.amountCents, e.providerRef])).toEqual([
      ['capture', stripeOrder.totalCents, stripeOrder.paymentIntentId],
      ['fee', -(balance?.fee as number), balance?.id],
    ]);
    expect(stripeEntries[1]?.details).toMatchObject({
      netCents: balance?.net,
      feeDetails: [{ amount: balance?.fee, currency: 'usd', type: 'stripe_fee' }],
    });
    // A second delivery of the same completion books nothing more.
    const session = providers.stripe.listSessions().find((s) => s.payment_intent === stripeOrder.paymentIntentId);
    if (session) await deliverStripe(providers.stripe.buildEvent('checkout.session.completed', session));
    expect(await listLedgerForOrder(db, stripeOrder.orderId)).toHaveLength(2);

    // PayPal: the fee comes with the capture (seller_receivable_breakdown.paypal_fee / net_amount).
    const paypalOrder = await paidPayPalOrderFor(event);
    const capture = providers.paypal.getCapture(paypalOrder.captureId) as any;
    const paypalFee = Math.round(Number(capture.seller_receivable_breakdown.paypal_fee.value) * 100);
    const paypalEntries = await listLedgerForOrder(db, paypalOrder.orderId);
    expect(paypalEntries.map((e) => [e.kind, e.amountCents, e.providerRef])).toEqual([
      ['capture', paypalOrder.totalCents, paypalOrder.captureId],
      ['fee', -paypalFee, paypalOrder.captureId],
    ]);
    expect(paypalEntries[1]?.details).toMatchObject({
      netCents: Math.round(Number(capture.seller_receivable_breakdown.net_amount.value) * 100),
    });

    // Staff refunds through both providers; a dispute on the Stripe order, lost.
    await refundPayment({ orderId: stripeOrder.orderId, amountCents: 3_000, reason: 'Ledger flow test: partial refund', actor });
    await refundPayment({ orderId: paypalOrder.orderId, amountCents: 1_234, reason: 'Ledger flow test: partial refund', actor });
    const dispute = {
      ...stripeDispute({ paymentIntentId: stripeOrder.paymentIntentId, chargeId: String(charge), amount: 5_000 }),
      created: Math.floor(Date.now() / 1000),
    };
    expect((await deliverStripe(stripeEvent('charge.dispute.created', dispute))).status).toBe(200);
    expect((await deliverStripe(stripeEvent('charge.dispute.closed', { ...dispute, status: 'lost' }))).status).toBe(200);
    expect((await deliverStripe(stripeEvent('charge.dispute.closed', { ...dispute, status: 'lost' }))).status).toBe(200);

    expect((await listLedgerForOrder(db, stripeOrder.orderId)).map((e) => [e.kind, e.amountCents])).toEqual([
      ['capture', stripeOrder.totalCents],
      ['fee', -(balance?.fee as number)],
      ['refund', -3_000],
      ['dispute_opened', 0],
      ['dispute_lost', -5_000],
    ]);
    expect(await findLedgerMismatches(db, stripeOrder.orderId)).toEqual([]);
    expect(await findLedgerMismatches(db, paypalOrder.orderId)).toEqual([]);

    // The summary: net = gross - refunds - fees - lost disputes, equal to the ledger and to the raw tables.
    const key = await makeKey(['analytics:read']);
    const res = await call(summaryRoute.GET, { query: { event: event.slug }, headers: key.header });
    expect(res.status, res.text).toBe(200);
    const money = res.body.money;
    const gross = stripeOrder.totalCents + paypalOrder.totalCents;
    const fees = (balance?.fee as number) + paypalFee;
    expect(money).toMatchObject({
      grossCents: gross,
      refundsCents: 4_234,
      feesCents: fees,
      disputes: { lost: 1, lostCents: 5_000 },
    });
    expect(money.netCents).toBe(gross - 4_234 - fees - 5_000);
    const eventId = (await db.queryOne<{ id: string }>('SELECT id FROM events WHERE slug = $1', [event.slug]))?.id as string;
    const ledgerTotal = await db.queryOne<{ total: number }>(
      'SELECT sum(amount_cents)::int AS total FROM money_ledger WHERE event_id = $1',
      [eventId],
    );
    expect(money.netCents).toBe(ledgerTotal?.total);
    const raw = await rawFigures(eventId, new Date('2000-01-01T00:00:00Z'), new Date('2200-01-01T00:00:00Z'));
    expect([raw.gross, raw.refunds, raw.fees, raw.lostCents, raw.net]).toEqual([gross, 4_234, fees, 5_000, money.netCents]);
    expect(res.body.providers.stripe.money.feesCents).toBe(balance?.fee);
    expect(res.body.providers.paypal.money.feesCents).toBe(paypalFee);
  });
});

/** A PayPal checkout in the same event: approved at the sandbox, captured on the buyer's return. */
async function paidPayPalOrderFor(event: { slug: string }) {
  const checkout = await startCheckout(
    checkoutBody(event, [{ ticketType: 'pass', quantity: 1 }], { provider: 'paypal', slidingScalePercent: 60 }),
  );
  const { created } = checkout;
  await payPalApprovedAndCaptured(providers.paypal, checkout);
  const row = await db.queryOne<{ captureId: string }>(
    `SELECT provider_payment_id AS "captureId" FROM payments WHERE order_id = $1 AND status = 'completed'`,
    [created.orderId],
  );
  if (!row) throw new Error('no capture recorded');
  return { orderId: created.orderId, totalCents: created.totalCents, captureId: row.captureId };
}
