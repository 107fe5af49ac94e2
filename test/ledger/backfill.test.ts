import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '../../lib/config.js';
import { closePool, db } from '../../lib/db/client.js';
import { migrateUp } from '../../lib/db/migrate.js';
import { listLedgerForOrder } from '../../lib/db/models/money-ledger.js';
import { checkHealth } from '../../lib/db/queries/health.js';
import { checkLedger } from '../../lib/ledger/check-ledger.js';
import { refundPayment } from '../../lib/refunds/refund-payment.js';
import { payPalApprovedAndCaptured, startCheckout } from '../support/checkout.js';
import { createEmptyDatabase } from '../support/databases.js';
import { checkoutBody, createEventWithTicketTypes } from '../support/factories.js';
import { TEST_STRIPE_WEBHOOK_SECRET, useProviderSandboxes } from '../support/providers.js';
import { deliverStripe, stripeDispute, stripeEvent } from '../webhooks/support.js';

/**
 * The backfill (migration 0051's money_ledger_backfill) on a database filled by the existing flows
 * with the ledger writes off, as a database from before the ledger: checkout, Stripe webhooks, the
 * PayPal return, staff refunds through both providers, a dispute opened and lost, provider fees (and a
 * fee PayPal gave back with a refund, migration 0120's part of the backfill).
 * Afterwards every payment balances, a second run adds nothing, and the live writes carry on from there.
 */

const providers = useProviderSandboxes();
const actor = { type: 'admin' as const, id: 'backfill-test' };
const saved = { url: process.env.DATABASE_URL, writes: process.env.LEDGER_WRITES };

beforeAll(async () => {
  const url = await createEmptyDatabase('backfill');
  await migrateUp({ databaseUrl: url });
  await closePool();
  process.env.DATABASE_URL = url;
  process.env.LEDGER_WRITES = 'off';
  process.env.STRIPE_WEBHOOK_SECRET = TEST_STRIPE_WEBHOOK_SECRET;
  resetConfigForTests();
});

afterAll(async () => {
  await closePool();
  process.env.DATABASE_URL = saved.url;
  if (saved.writes === undefined) delete process.env.LEDGER_WRITES;
  else process.env.LEDGER_WRITES = saved.writes;
  resetConfigForTests();
});

async function stripePaid(event: { slug: string }) {
  const { created, sessionId } = await startCheckout(
    checkoutBody(event, [{ ticketType: 'pass', quantity: 2 }], { slidingScalePercent: 30 }),
  );
  const paid = await providers.stripe.pay(sessionId, '4242424242424242');
  if (paid.outcome !== 'succeeded') throw new Error(`pay: ${paid.outcome}`);
  const session = providers.stripe.getSession(sessionId);
  if (!session) throw new Error('no session');
  expect((await deliverStripe(providers.stripe.buildEvent('checkout.session.completed', session))).status).toBe(200);
  return { orderId: created.orderId, totalCents: created.totalCents, paymentIntentId: String(paid.paymentIntent.id) };
}

async function paypalPaid(event: { slug: string }) {
  const checkout = await startCheckout(checkoutBody(event, [{ ticketType: 'pass', quantity: 1 }], { provider: 'paypal' }));
  await payPalApprovedAndCaptured(providers.paypal, checkout);
  const { created } = checkout;
  return { orderId: created.orderId, totalCents: created.totalCents };
}

describe('ledger backfill', () => {
  it('rebuilds a balancing ledger from the payments, refunds and disputes the flows recorded', async () => {
    const { event } = await createEventWithTicketTypes({ pass: { priceCents: 9_900, slidingScale: true, capacity: 30 } });
    const a = await stripePaid(event);
    const b = await stripePaid(event);
    const c = await paypalPaid(event);
    await refundPayment({ orderId: a.orderId, amountCents: 2_500, reason: 'Backfill test: partial refund', actor });
    // PayPal gives part of its fee back with this refund (refunds.fee_returned_cents): the backfill books it too.
    providers.paypal.setReturnFeesOnRefund(true);
    try {
      await refundPayment({ orderId: c.orderId, reason: 'Backfill test: full refund', actor });
    } finally {
      providers.paypal.setReturnFeesOnRefund(false);
    }
    const returned = (
      await db.queryOne<{ fee: number }>('SELECT fee_returned_cents AS fee FROM refunds WHERE order_id = $1', [c.orderId])
    )?.fee as number;
    expect(returned).toBeGreaterThan(0);
    const charge = String(providers.stripe.getPaymentIntent(b.paymentIntentId)?.latest_charge);
    const dispute = stripeDispute({ paymentIntentId: b.paymentIntentId, chargeId: charge, amount: 4_000 });
    expect((await deliverStripe(stripeEvent('charge.dispute.created', dispute))).status).toBe(200);
    expect((await deliverStripe(stripeEvent('charge.dispute.closed', { ...dispute, status: 'lost' }))).status).toBe(200);

    // Nothing in the ledger yet (writes off), so the books do not balance against it.
    expect((await db.queryOne<{ n: number }>('SELECT count(*)::int AS n FROM money_ledger'))?.n).toBe(0);
    expect((await checkLedger()).balanced).toBe(false);
    // Health reports it (counts only; the overall status does not depend on it).
    expect((await checkHealth({ timeoutMs: 10_000 })).checks.ledger).toEqual({ status: 'unbalanced', unbalancedPayments: 3 });

    const first = await db.queryOne<{ n: number }>('SELECT money_ledger_backfill() AS n');
    expect(first?.n).toBeGreaterThan(0);
    expect(await checkLedger()).toEqual({ balanced: true, mismatches: [] });
    expect((await checkHealth({ timeoutMs: 10_000 })).checks.ledger).toEqual({ status: 'balanced', unbalancedPayments: 0 });
    const fees = await db.queryMany<{ orderId: string; fee: number }>(
      `SELECT order_id AS "orderId", fee_cents AS fee FROM payments WHERE fee_cents IS NOT NULL ORDER BY order_id`,
    );
    expect(fees).toHaveLength(3);
    const kinds = async (orderId: string) => (await listLedgerForOrder(db, orderId)).map((e) => [e.kind, e.amountCents]);
    const feeOf = (orderId: string) => fees.find((f) => f.orderId === orderId)?.fee as number;
    expect(await kinds(a.orderId)).toEqual([
      ['capture', a.totalCents],
      ['refund', -2_500],
      ['fee', -feeOf(a.orderId)],
    ]);
    expect(await kinds(b.orderId)).toEqual([
      ['capture', b.totalCents],
      ['dispute_opened', 0],
      ['dispute_lost', -4_000],
      ['fee', -feeOf(b.orderId)],
    ]);
    expect(await kinds(c.orderId)).toEqual([
      ['capture', c.totalCents],
      ['refund', -c.totalCents],
      ['fee', -feeOf(c.orderId)],
      ['fee', returned],
    ]);

    // Re-runnable: nothing new the second time.
    expect((await db.queryOne<{ n: number }>('SELECT money_ledger_backfill() AS n'))?.n).toBe(0);

    // From here the live writes carry the ledger.
    process.env.LEDGER_WRITES = 'on';
    resetConfigForTests();
    await refundPayment({ orderId: a.orderId, amountCents: 1_000, reason: 'Backfill test: after the backfill', actor });
    expect((await kinds(a.orderId)).at(-1)).toEqual(['refund', -1_000]);
    expect((await checkLedger()).balanced).toBe(true);
  });
});
