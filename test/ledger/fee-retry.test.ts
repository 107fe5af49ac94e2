import { beforeAll, describe, expect, it } from 'vitest';
import * as feeCron from '../../api/cron/record-missing-fees.js';
import { resetConfigForTests } from '../../lib/config.js';
import { db } from '../../lib/db/client.js';
import { findLedgerMismatches, listLedgerForOrder } from '../../lib/db/models/money-ledger.js';
import { recordMissingStripeFees } from '../../lib/ledger/record-missing-stripe-fees.js';
import { startCheckout } from '../support/checkout.js';
import { checkoutBody, createEventWithTicketTypes } from '../support/factories.js';
import { call } from '../support/http.js';
import { TEST_STRIPE_WEBHOOK_SECRET, useProviderSandboxes } from '../support/providers.js';
import { deliverStripe, stripeEvent } from '../webhooks/support.js';

/**
 * Stripe's fee when its read after the completion fails (sandbox fault injection on the PaymentIntent
 * retrieve): no fee; then charge.updated (Stripe's own event once the balance transaction is there)
 * or the fee retry cron books exactly one fee row; a replay, another charge.updated or another run
 * books nothing more.
 */

const providers = useProviderSandboxes();
const CRON_SECRET = 'cron-secret-fee-retry';

beforeAll(() => {
  process.env.STRIPE_WEBHOOK_SECRET = TEST_STRIPE_WEBHOOK_SECRET;
  process.env.CRON_SECRET = CRON_SECRET;
  resetConfigForTests();
});

/** A Stripe order paid on the sandbox page, settled by its signed checkout.session.completed while the fee read fails. */
async function paidWithFeeReadFailing() {
  const { event } = await createEventWithTicketTypes({ pass: { priceCents: 8_800, capacity: 10 } });
  const { created, sessionId } = await startCheckout(checkoutBody(event, [{ ticketType: 'pass', quantity: 1 }]));
  const paid = await providers.stripe.pay(sessionId, '4242424242424242');
  if (paid.outcome !== 'succeeded') throw new Error(`sandbox payment ${paid.outcome}`);
  const session = providers.stripe.getSession(sessionId);
  if (!session) throw new Error('no session');
  providers.stripe.failNext({ match: 'GET /v1/payment_intents/', kind: 'error', status: 500 });
  expect((await deliverStripe(providers.stripe.buildEvent('checkout.session.completed', session))).status).toBe(200);
  const payment = await db.queryOne<{ id: string; feeCents: number | null }>(
    `SELECT id, fee_cents AS "feeCents" FROM payments WHERE order_id = $1 AND status = 'completed'`,
    [created.orderId],
  );
  if (!payment) throw new Error('not completed');
  // The read failed: completed, no fee.
  expect(payment.feeCents).toBeNull();
  expect((await listLedgerForOrder(db, created.orderId)).map((e) => e.kind)).toEqual(['capture']);
  const chargeId = String(providers.stripe.getPaymentIntent(String(paid.paymentIntent.id))?.latest_charge);
  return { orderId: created.orderId, paymentId: payment.id, chargeId };
}

async function feeRows(orderId: string) {
  return (await listLedgerForOrder(db, orderId)).filter((e) => e.kind === 'fee');
}

function expectedFee(chargeId: string): number {
  const balance = providers.stripe.balanceTransactions().find((b) => b.source === chargeId);
  if (!balance) throw new Error('no balance transaction');
  return Number(balance.fee);
}

describe('Stripe fee read again', () => {
  it('charge.updated with its balance transaction → one fee row; replayed or sent again → still one', async () => {
    const { orderId, chargeId } = await paidWithFeeReadFailing();
    const charge = providers.stripe.getCharge(chargeId);
    if (!charge) throw new Error('no charge');
    expect(charge.balance_transaction).toEqual(expect.stringMatching(/^txn_/));
    const updated = providers.stripe.buildEvent('charge.updated', charge);
    expect((await deliverStripe(updated)).status).toBe(200);
    expect((await feeRows(orderId)).map((e) => e.amountCents)).toEqual([-expectedFee(chargeId)]);
    expect(await findLedgerMismatches(db, orderId)).toEqual([]);

    expect((await deliverStripe(updated)).status).toBe(200); // the same event again
    expect((await deliverStripe(providers.stripe.buildEvent('charge.updated', charge))).status).toBe(200); // another one
    expect(await feeRows(orderId)).toHaveLength(1);
  });

  it('charge.updated without a balance transaction yet, or for a charge not ours → nothing booked', async () => {
    const { orderId, chargeId } = await paidWithFeeReadFailing();
    const charge = providers.stripe.getCharge(chargeId);
    expect((await deliverStripe(stripeEvent('charge.updated', { ...charge, balance_transaction: null }))).status).toBe(200);
    expect(await feeRows(orderId)).toEqual([]);
    const foreign = { ...charge, id: 'ch_notours', payment_intent: 'pi_notours' };
    expect((await deliverStripe(stripeEvent('charge.updated', foreign))).status).toBe(200);
    expect(await feeRows(orderId)).toEqual([]);
  });

  it('the fee retry cron: a failing read is counted and left; the next run books one fee row; runs after it book nothing', async () => {
    const { orderId, paymentId, chargeId } = await paidWithFeeReadFailing();
    // Not picked before it is older than the wait (the follow-up and charge.updated have their chance first).
    expect(await recordMissingStripeFees({ onlyPaymentIds: [paymentId] })).toMatchObject({ picked: 0 });

    providers.stripe.failNext({ match: 'GET /v1/payment_intents/', kind: 'error', status: 500 });
    expect(await recordMissingStripeFees({ olderThanMinutes: 0, onlyPaymentIds: [paymentId] })).toMatchObject({
      picked: 1,
      failed: 1,
      recorded: 0,
    });
    expect(await feeRows(orderId)).toEqual([]);

    // Through the cron route: completed 20 minutes ago, so the default wait is over.
    await db.query(`UPDATE payments SET completed_at = now() - interval '20 minutes' WHERE id = $1`, [paymentId]);
    expect((await call(feeCron.GET, { path: '/api/cron/record-missing-fees' })).status).toBe(401);
    const run = await call(feeCron.GET, {
      path: '/api/cron/record-missing-fees',
      headers: { authorization: `Bearer ${CRON_SECRET}` },
    });
    expect(run.status, run.text).toBe(200);
    expect(run.body.recorded).toBeGreaterThanOrEqual(1);
    expect((await feeRows(orderId)).map((e) => e.amountCents)).toEqual([-expectedFee(chargeId)]);
    expect(await findLedgerMismatches(db, orderId)).toEqual([]);

    expect(await recordMissingStripeFees({ olderThanMinutes: 0, onlyPaymentIds: [paymentId] })).toMatchObject({ picked: 0 });
    expect(await feeRows(orderId)).toHaveLength(1);
  });
});
