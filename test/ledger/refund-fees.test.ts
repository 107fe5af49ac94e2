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
import { deliverStripe } from '../webhooks/support.js';

/**
 * Fees on refunds, through the real refund flow and the sandboxes: PayPal gives part of its fee back
 * with a refund (the refund's seller_payable_breakdown.paypal_fee, the sandbox set to return fees),
 * Stripe keeps its fee (the refund's balance transaction fee is 0). The returned fee is a `fee` row
 * naming the refund, written with the refund; the books stay balanced; the summary's fees are net of
 * returned fees and its net is still gross - refunds - fees - lost disputes, equal to the raw tables.
 */

const providers = useProviderSandboxes();
const actor = { type: 'admin' as const, id: 'refund-fees' };

beforeAll(() => {
  process.env.STRIPE_WEBHOOK_SECRET = TEST_STRIPE_WEBHOOK_SECRET;
});

const cents = (value: unknown) => Math.round(Number(value) * 100);

async function refundRow(refundId: string) {
  return await db.queryOne<{ feeReturnedCents: number | null; status: string }>(
    'SELECT fee_returned_cents AS "feeReturnedCents", status FROM refunds WHERE id = $1',
    [refundId],
  );
}

describe('fees given back with refunds', () => {
  it('books PayPal’s returned fee with the refund, Stripe’s none; the summary nets fees of returned fees', async () => {
    const { event } = await createEventWithTicketTypes({ pass: { priceCents: 9_000, slidingScale: true, capacity: 20 } });

    // PayPal: captured on return, its fee with the capture; then a staff refund that gives part of the fee back.
    const checkout = await startCheckout(
      checkoutBody(event, [{ ticketType: 'pass', quantity: 2 }], { provider: 'paypal', slidingScalePercent: 10 }),
    );
    const { created } = checkout;
    const captured = await payPalApprovedAndCaptured(providers.paypal, checkout);
    expect(captured.capture).toBe('captured');
    const captureId = (
      await db.queryOne<{ id: string }>(
        `SELECT provider_payment_id AS id FROM payments WHERE order_id = $1 AND status = 'completed'`,
        [created.orderId],
      )
    )?.id as string;
    const capture = providers.paypal.getCapture(captureId) as any;
    const paypalFee = cents(capture.seller_receivable_breakdown.paypal_fee.value);

    providers.paypal.setReturnFeesOnRefund(true);
    try {
      const refunded = await refundPayment({ orderId: created.orderId, amountCents: 4_000, reason: 'Refund fee test', actor });
      expect(refunded?.refund.status).toBe('succeeded');
      const refundId = refunded?.refund.id as string;
      // What the sandbox's refund says PayPal gave back: 3.49 % of 40.00, half up = 1.40.
      const returned = Math.floor((4_000 * 349 + 5_000) / 10_000);
      expect(returned).toBe(140);
      expect(await refundRow(refundId)).toEqual({ feeReturnedCents: returned, status: 'succeeded' });
      const entries = await listLedgerForOrder(db, created.orderId);
      expect(entries.map((e) => [e.kind, e.amountCents, e.refundId])).toEqual([
        ['capture', created.totalCents, null],
        ['fee', -paypalFee, null],
        ['refund', -4_000, refundId],
        ['fee', returned, refundId],
      ]);
      expect(entries[3]?.details).toMatchObject({ returned: true });
      expect(await findLedgerMismatches(db, created.orderId)).toEqual([]);
    } finally {
      providers.paypal.setReturnFeesOnRefund(false);
    }

    // Stripe: paid on the sandbox page, settled by its signed webhook; a refund whose balance transaction has no fee.
    const stripe = await startCheckout(checkoutBody(event, [{ ticketType: 'pass', quantity: 1 }], { slidingScalePercent: 0 }));
    const paid = await providers.stripe.pay(stripe.sessionId, '4242424242424242');
    if (paid.outcome !== 'succeeded') throw new Error(`sandbox payment ${paid.outcome}`);
    const session = providers.stripe.getSession(stripe.sessionId);
    expect((await deliverStripe(providers.stripe.buildEvent('checkout.session.completed', session as any))).status).toBe(200);
    const stripeRefund = await refundPayment({
      orderId: stripe.created.orderId,
      amountCents: 2_500,
      reason: 'Refund fee test',
      actor,
    });
    expect(stripeRefund?.refund.status).toBe('succeeded');
    expect(await refundRow(stripeRefund?.refund.id as string)).toEqual({ feeReturnedCents: 0, status: 'succeeded' });
    const stripeEntries = await listLedgerForOrder(db, stripe.created.orderId);
    expect(stripeEntries.map((e) => e.kind)).toEqual(['capture', 'fee', 'refund']);
    const stripeFee = -(stripeEntries[1]?.amountCents as number);
    expect(await findLedgerMismatches(db, stripe.created.orderId)).toEqual([]);

    // The summary: fees net of the returned fee; net = gross - refunds - fees - lost disputes; the raw tables agree.
    const key = await makeKey(['analytics:read']);
    const res = await call(summaryRoute.GET, { query: { event: event.slug }, headers: key.header });
    expect(res.status, res.text).toBe(200);
    const gross = created.totalCents + stripe.created.totalCents;
    const fees = paypalFee - 140 + stripeFee;
    expect(res.body.money).toMatchObject({ grossCents: gross, refundsCents: 6_500, feesCents: fees });
    expect(res.body.money.netCents).toBe(gross - 6_500 - fees);
    expect(res.body.providers.paypal.money.feesCents).toBe(paypalFee - 140);
    const raw = await rawFigures(event.id, new Date('2000-01-01T00:00:00Z'), new Date('2200-01-01T00:00:00Z'));
    expect([raw.gross, raw.refunds, raw.fees, raw.net]).toEqual([gross, 6_500, fees, res.body.money.netCents]);
    const ledgerTotal = await db.queryOne<{ total: number }>(
      'SELECT sum(amount_cents)::int AS total FROM money_ledger WHERE event_id = $1',
      [event.id],
    );
    expect(res.body.money.netCents).toBe(ledgerTotal?.total);
  });
});
