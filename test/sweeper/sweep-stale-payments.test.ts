import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as cron from '../../api/cron/sweep-stale-payments.js';
import { resetConfigForTests } from '../../lib/config.js';
import { db } from '../../lib/db/client.js';
import { listAuditForEntity } from '../../lib/db/models/audit-log.js';
import { findOrderById } from '../../lib/db/models/orders.js';
import { checkoutStatus } from '../../lib/sweeper/provider-checkout-status.js';
import { type SweepSummary, sweepStalePayments } from '../../lib/sweeper/sweep-stale-payments.js';
import { type PayPalSandbox, startPayPalSandbox } from '../../sandbox/paypal-sandbox.js';
import { type StripeSandbox, startStripeSandbox } from '../../sandbox/stripe-sandbox.js';
import { startCheckout } from '../support/checkout.js';
import { checkoutBody, createEventWithTicketTypes, ticketCounters } from '../support/factories.js';
import { call } from '../support/http.js';
import { type LocalServer, startLocalServer } from '../../scripts/local-server.js';
import {
  TEST_STRIPE_SECRET_KEY as STRIPE_SECRET_KEY,
  TEST_STRIPE_WEBHOOK_SECRET as WEBHOOK_SECRET,
} from '../support/providers.js';
import { deliverStripe } from '../webhooks/support.js';

/**
 * The stale-payment sweeper against the local sandboxes, which deliver their webhooks to the app (local
 * server) except the one each test drops with the sandbox's dropWebhooks control: checkouts made by the
 * real checkout function, paid (or expired, or approved) at the sandbox, that webhook never delivered;
 * the sweeper asks the provider and finishes the order through finalize / expire, audited as the sweeper.
 */

const actor = { type: 'cron' as const, id: 'sweeper' };
let stripe: StripeSandbox;
let paypal: PayPalSandbox;
let server: LocalServer;

beforeAll(async () => {
  stripe = await startStripeSandbox({ webhookSecret: WEBHOOK_SECRET, secretKey: STRIPE_SECRET_KEY });
  paypal = await startPayPalSandbox({ clientId: 'sweeper-client', clientSecret: 'sweeper-secret' });
  Object.assign(process.env, {
    STRIPE_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_BASE: stripe.url,
    PAYPAL_CLIENT_ID: 'sweeper-client',
    PAYPAL_CLIENT_SECRET: 'sweeper-secret',
    PAYPAL_API_BASE: paypal.url,
    PAYPAL_ENVIRONMENT: 'sandbox',
    PUBLIC_SITE_URL: 'http://localhost:3000',
    CRON_SECRET: 'sweeper-cron-secret',
  });
  resetConfigForTests();
  server = await startLocalServer({ port: 0 });
  stripe.setWebhookTarget(`${server.url}/api/webhooks/stripe`);
  paypal.setWebhookTarget(`${server.url}/api/webhooks/paypal`);
});

afterAll(async () => {
  await stripe?.idle();
  await paypal?.idle();
  await server?.close();
  await stripe?.close();
  await paypal?.close();
  for (const name of ['STRIPE_API_BASE', 'PAYPAL_API_BASE', 'PAYPAL_CLIENT_ID', 'PAYPAL_CLIENT_SECRET', 'CRON_SECRET']) {
    delete process.env[name];
  }
  resetConfigForTests();
});

async function checkout(provider: 'stripe' | 'paypal', capacity = 20) {
  const { event, types } = await createEventWithTicketTypes({ pass: { priceCents: 4_500, capacity } });
  const { created, sessionId } = await startCheckout(checkoutBody(event, [{ ticketType: 'pass', quantity: 2 }], { provider }));
  return { orderId: created.orderId, sessionId, ticketType: types.pass };
}

/** Makes the checkout as old as the sweeper's threshold wants (the hold plus five minutes by default). */
async function age(orderId: string, minutes = 40) {
  await db.query(`UPDATE payments SET created_at = now() - make_interval(mins => $2) WHERE order_id = $1`, [orderId, minutes]);
}

/** Lets the next run ask about this checkout now (past the back-off after its last question). */
async function askAgainNow(orderId: string) {
  await db.query(
    `UPDATE payment_provider_checks SET last_checked_at = now() - interval '7 hours'
     WHERE payment_id IN (SELECT id FROM payments WHERE order_id = $1)`,
    [orderId],
  );
}

async function ledgerKinds(orderId: string) {
  const rows = await db.queryMany<{ kind: string }>('SELECT kind FROM money_ledger WHERE order_id = $1 ORDER BY kind', [orderId]);
  return rows.map((row) => row.kind);
}

function outcomeOf(summary: SweepSummary, orderId: string) {
  return summary.orders.find((o) => o.orderId === orderId)?.outcome;
}

async function sweeperAudit(orderId: string) {
  return (await listAuditForEntity(db, 'order', orderId)).filter((a) => a.actorType === 'cron' && a.actorId === 'sweeper');
}

/** Pays on the sandbox's payment page (HTTP form post, as a browser does). */
async function payOnPage(sessionId: string) {
  const response = await fetch(`${stripe.url}/pay/${sessionId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ card: '4242 4242 4242 4242', email: 'ana@example.test', name: 'Ana García' }).toString(),
    redirect: 'manual',
  });
  expect(response.status).toBe(303);
}

describe('stale-payment sweeper', () => {
  it('completes a checkout paid on the sandbox page whose webhook was dropped', async () => {
    const { orderId, sessionId, ticketType } = await checkout('stripe');
    stripe.dropWebhooks({ match: 'checkout.session.completed', times: 1 });
    await payOnPage(sessionId);
    const dropped = stripe.webhooks.filter((w) => w.eventType === 'checkout.session.completed' && w.payload.includes(sessionId));
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatchObject({ status: null, error: expect.stringContaining('dropped') });
    expect((await findOrderById(db, orderId))?.status).toBe('pending');

    // Not yet stale: left alone.
    expect(outcomeOf(await sweepStalePayments({ actor }), orderId)).toBeUndefined();
    await age(orderId);
    const summary = await sweepStalePayments({ actor });
    expect(outcomeOf(summary, orderId)).toBe('completed');
    const order = await findOrderById(db, orderId);
    expect(order?.status).toBe('completed');
    expect(await ticketCounters(ticketType.id)).toMatchObject({ sold: 2, held: 0 });
    const audit = await sweeperAudit(orderId);
    expect(audit.map((a) => a.action)).toEqual(['payment_completed']);
    // The books: the capture and Stripe's fee (read from the charge's balance transaction) are on the ledger.
    const ledger = await db.queryMany<{ kind: string; amountCents: number }>(
      'SELECT kind, amount_cents AS "amountCents" FROM money_ledger WHERE order_id = $1 ORDER BY kind',
      [orderId],
    );
    expect(ledger.map((row) => row.kind)).toEqual(['capture', 'fee']);
    expect(ledger.find((row) => row.kind === 'fee')?.amountCents).toBeLessThan(0);
    // Settled: the next run does not ask again.
    const requestsBefore = stripe.requests.length;
    expect(outcomeOf(await sweepStalePayments({ actor }), orderId)).toBeUndefined();
    expect(stripe.requests.slice(requestsBefore).some((r) => r.path.includes(sessionId))).toBe(false);
  });

  it('expires an order whose session expired with its webhook dropped, and leaves an open one alone', async () => {
    const expiring = await checkout('stripe');
    const open = await checkout('stripe');
    stripe.dropWebhooks({ match: 'checkout.session.expired', times: 1 });
    await stripe.expireSession(expiring.sessionId);
    await stripe.idle();
    await age(expiring.orderId);
    await age(open.orderId);
    const summary = await sweepStalePayments({ actor });
    expect(outcomeOf(summary, expiring.orderId)).toBe('expired');
    expect(outcomeOf(summary, open.orderId)).toBe('left_open');
    expect((await findOrderById(db, expiring.orderId))?.status).toBe('expired');
    expect(await ticketCounters(expiring.ticketType.id)).toMatchObject({ sold: 0, held: 0 });
    expect((await sweeperAudit(expiring.orderId)).map((a) => a.action)).toEqual(['hold_expired']);
    expect((await findOrderById(db, open.orderId))?.status).toBe('pending');
    expect(await sweeperAudit(open.orderId)).toEqual([]);
  });

  it('a sweeper run racing the late webhook: one completion, one audit entry', async () => {
    const orders = await Promise.all(Array.from({ length: 4 }, () => checkout('stripe')));
    stripe.dropWebhooks({ match: 'checkout.session.completed', times: orders.length });
    for (const o of orders) await payOnPage(o.sessionId);
    for (const o of orders) await age(o.orderId);
    const payloads = orders.map((o) => {
      const delivery = stripe.webhooks.find(
        (w) => w.eventType === 'checkout.session.completed' && w.payload.includes(o.sessionId),
      );
      if (!delivery) throw new Error('no dropped webhook');
      return delivery.payload;
    });
    const [summary, ...deliveries] = await Promise.all([
      sweepStalePayments({ actor }),
      ...payloads.map((payload) => deliverStripe(payload)),
    ]);
    expect(deliveries.map((d) => d.status)).toEqual([200, 200, 200, 200]);
    for (const o of orders) {
      expect(['completed', 'already_final']).toContain(outcomeOf(summary as SweepSummary, o.orderId));
      expect((await findOrderById(db, o.orderId))?.status).toBe('completed');
      const completions = (await listAuditForEntity(db, 'order', o.orderId)).filter((a) => a.action === 'payment_completed');
      expect(completions).toHaveLength(1);
      expect(await ticketCounters(o.ticketType.id)).toMatchObject({ sold: 2, held: 0 });
      const payments = await db.queryMany<{ status: string }>('SELECT status FROM payments WHERE order_id = $1', [o.orderId]);
      expect(payments).toEqual([{ status: 'completed' }]);
    }
  });

  it('captures and completes a PayPal approval the browser never captured', async () => {
    const { orderId, sessionId, ticketType } = await checkout('paypal');
    // The approval's webhook and, later, the capture's: both lost.
    paypal.dropWebhooks({ match: /^(CHECKOUT\.ORDER\.APPROVED|PAYMENT\.CAPTURE\.COMPLETED)$/, times: 2 });
    const approved = await paypal.approve(sessionId);
    expect(approved.outcome).toBe('approved');
    await age(orderId);
    const summary = await sweepStalePayments({ actor });
    expect(outcomeOf(summary, orderId)).toBe('completed');
    expect(paypal.getOrder(sessionId)?.status).toBe('COMPLETED');
    expect((await findOrderById(db, orderId))?.status).toBe('completed');
    expect(await ticketCounters(ticketType.id)).toMatchObject({ sold: 2, held: 0 });
    expect((await sweeperAudit(orderId)).map((a) => a.action)).toEqual(['payment_completed']);
    const captures = paypal.requests.filter((r) => r.method === 'POST' && r.path === `/v2/checkout/orders/${sessionId}/capture`);
    expect(captures.map((r) => r.headers['paypal-request-id'])).toEqual([`capture-${sessionId}`]);
  });

  it('finalizes a PayPal order captured at PayPal whose capture webhook was dropped', async () => {
    const { orderId, sessionId } = await checkout('paypal');
    paypal.dropWebhooks({ match: /^(CHECKOUT\.ORDER\.APPROVED|PAYMENT\.CAPTURE\.COMPLETED)$/, times: 2 });
    await paypal.approve(sessionId);
    // Captured (e.g. the browser's capture call reached PayPal, then the tab closed before our answer).
    const { getPayPalCheckoutProvider } = await import('../../lib/providers/index.js');
    const captured = await (await getPayPalCheckoutProvider()).captureOrder(sessionId, `capture-${sessionId}`);
    expect(captured.outcome).toBe('captured');
    expect((await findOrderById(db, orderId))?.status).toBe('pending');
    await age(orderId);
    const summary = await sweepStalePayments({ actor });
    expect(outcomeOf(summary, orderId)).toBe('completed');
    const payment = await db.queryOne<{ providerPaymentId: string }>(
      'SELECT provider_payment_id AS "providerPaymentId" FROM payments WHERE order_id = $1',
      [orderId],
    );
    expect(payment?.providerPaymentId).toBe(captured.outcome === 'captured' ? captured.captureId : '');
    expect(paypal.requests.filter((r) => r.path === `/v2/checkout/orders/${sessionId}/capture`)).toHaveLength(1);
  });

  it('applies the late-payment rule to an order the hold cron expired before the paid webhook came', async () => {
    const { orderId, sessionId, ticketType } = await checkout('stripe');
    stripe.dropWebhooks({ match: 'checkout.session.completed', times: 1 });
    await payOnPage(sessionId);
    await db.query(`UPDATE orders SET hold_expires_at = now() - interval '1 minute' WHERE id = $1`, [orderId]);
    const { expireDueHolds } = await import('../../lib/checkout/expire-holds.js');
    await expireDueHolds({ actor: { type: 'cron', id: 'expire-holds' } });
    expect((await findOrderById(db, orderId))?.status).toBe('expired');
    await age(orderId);
    const summary = await sweepStalePayments({ actor });
    expect(outcomeOf(summary, orderId)).toBe('late_payment_completed');
    expect((await findOrderById(db, orderId))?.status).toBe('completed');
    expect(await ticketCounters(ticketType.id)).toMatchObject({ sold: 2, held: 0 });
  });

  it('is bounded: a limit per run, and a backlog drains over several runs', async () => {
    const orders = await Promise.all(Array.from({ length: 3 }, () => checkout('stripe')));
    stripe.dropWebhooks({ match: 'checkout.session.completed', times: orders.length });
    for (const o of orders) await payOnPage(o.sessionId);
    for (const o of orders) await age(o.orderId, 60 * 24 * 3 - 30);
    const seen = new Set<string>();
    for (let run = 0; run < 3; run++) {
      const summary = await sweepStalePayments({ actor, limit: 1, staleAfterMinutes: 60 * 24 * 3 - 40 });
      expect(summary.checked).toBeLessThanOrEqual(1);
      for (const o of summary.orders) seen.add(o.orderId);
    }
    for (const o of orders) expect(seen.has(o.orderId)).toBe(true);
    for (const o of orders) expect((await findOrderById(db, o.orderId))?.status).toBe('completed');
    // A budget already spent asks nobody.
    const none = await sweepStalePayments({ actor, timeBudgetMs: 0 });
    expect(none.checked).toBe(0);
  });

  it('expires a stale PayPal order that PayPal voided: hold released, audited as the sweeper, nothing booked', async () => {
    const { orderId, sessionId, ticketType } = await checkout('paypal');
    expect(await ticketCounters(ticketType.id)).toMatchObject({ sold: 0, held: 2 });
    const voided = paypal.voidOrder(sessionId);
    expect(voided.status).toBe('VOIDED');
    // The order as the SDK reads it: VOIDED, nothing captured.
    expect(await checkoutStatus('paypal', sessionId)).toEqual({ state: 'expired', detail: 'order voided' });
    await age(orderId);
    const summary = await sweepStalePayments({ actor });
    expect(outcomeOf(summary, orderId)).toBe('expired');
    expect(summary.orders.find((o) => o.orderId === orderId)?.providerState).toBe('expired');
    expect((await findOrderById(db, orderId))?.status).toBe('expired');
    expect(await ticketCounters(ticketType.id)).toMatchObject({ sold: 0, held: 0 });
    const audit = await sweeperAudit(orderId);
    expect(audit.map((a) => [a.action, a.reason])).toEqual([['hold_expired', 'sweeper: paypal order voided']]);
    expect(await ledgerKinds(orderId)).toEqual([]);
    const payments = await db.queryMany<{ status: string }>('SELECT status FROM payments WHERE order_id = $1', [orderId]);
    expect(payments).toEqual([{ status: 'expired' }]);
    // Settled: a second run asks PayPal nothing about it and changes nothing.
    const requestsBefore = paypal.requests.length;
    const again = await sweepStalePayments({ actor });
    expect(outcomeOf(again, orderId)).toBeUndefined();
    expect(paypal.requests.slice(requestsBefore).some((r) => r.path.includes(sessionId))).toBe(false);
    expect((await sweeperAudit(orderId)).length).toBe(1);
    expect(await ticketCounters(ticketType.id)).toMatchObject({ sold: 0, held: 0 });
  });

  it('a Stripe bank debit still processing is left processing with its hold, then completed when it clears', async () => {
    const { orderId, sessionId, ticketType } = await checkout('stripe');
    stripe.dropWebhooks({ match: /^checkout\.session\.(completed|async_payment_succeeded)$/, times: 2 });
    const submitted = await stripe.payByBankDebit(sessionId);
    expect(submitted.session).toMatchObject({ status: 'complete', payment_status: 'unpaid' });
    expect(submitted.paymentIntent.status).toBe('processing');
    expect(submitted.charge).toMatchObject({ status: 'pending', payment_method_details: { type: 'us_bank_account' } });
    expect(submitted.delivery.error).toContain('dropped');
    await age(orderId);

    const first = await sweepStalePayments({ actor });
    expect(outcomeOf(first, orderId)).toBe('processing');
    expect((await findOrderById(db, orderId))?.status).toBe('processing');
    expect(await ticketCounters(ticketType.id)).toMatchObject({ sold: 0, held: 2 });
    // The hold cron never expires a processing order, even past its hold.
    await db.query(`UPDATE orders SET hold_expires_at = now() - interval '1 minute' WHERE id = $1`, [orderId]);
    const { expireDueHolds } = await import('../../lib/checkout/expire-holds.js');
    await expireDueHolds({ actor: { type: 'cron', id: 'expire-holds' } });
    expect((await findOrderById(db, orderId))?.status).toBe('processing');
    expect(await ticketCounters(ticketType.id)).toMatchObject({ sold: 0, held: 2 });
    // Still processing at Stripe: asked again after its back-off, nothing changes.
    await askAgainNow(orderId);
    expect(outcomeOf(await sweepStalePayments({ actor }), orderId)).toBe('processing');
    expect((await sweeperAudit(orderId)).map((a) => a.action)).toEqual(['payment_processing']);

    const cleared = await stripe.settleAsyncPayment(sessionId, 'succeeded');
    expect(cleared.event.type).toBe('checkout.session.async_payment_succeeded');
    expect(cleared.delivery.error).toContain('dropped');
    await askAgainNow(orderId);
    const paid = await sweepStalePayments({ actor });
    expect(outcomeOf(paid, orderId)).toBe('completed');
    expect((await findOrderById(db, orderId))?.status).toBe('completed');
    expect(await ticketCounters(ticketType.id)).toMatchObject({ sold: 2, held: 0 });
    expect((await sweeperAudit(orderId)).map((a) => a.action)).toEqual(['payment_processing', 'payment_completed']);
    expect(await ledgerKinds(orderId)).toEqual(['capture', 'fee']);
    const payment = await db.queryOne<{ status: string; methodType: string | null }>(
      'SELECT status, method_type AS "methodType" FROM payments WHERE order_id = $1',
      [orderId],
    );
    expect(payment).toEqual({ status: 'completed', methodType: 'us_bank_account' });
    // Settled: not asked again.
    await askAgainNow(orderId);
    expect(outcomeOf(await sweepStalePayments({ actor }), orderId)).toBeUndefined();
  });

  it('a Stripe bank debit that fails while its webhook is lost: order failed, hold released, nothing booked', async () => {
    const { orderId, sessionId, ticketType } = await checkout('stripe');
    stripe.dropWebhooks({ match: /^checkout\.session\.(completed|async_payment_failed)$/, times: 2 });
    await stripe.payByBankDebit(sessionId);
    await age(orderId);
    expect(outcomeOf(await sweepStalePayments({ actor }), orderId)).toBe('processing');
    expect(await ticketCounters(ticketType.id)).toMatchObject({ sold: 0, held: 2 });

    const failed = await stripe.settleAsyncPayment(sessionId, 'failed');
    expect(failed.paymentIntent).toMatchObject({
      status: 'requires_payment_method',
      last_payment_error: { code: 'insufficient_funds' },
    });
    expect(failed.session).toMatchObject({ status: 'complete', payment_status: 'unpaid' });
    await askAgainNow(orderId);
    const summary = await sweepStalePayments({ actor });
    expect(outcomeOf(summary, orderId)).toBe('failed');
    expect(summary.outcomes.failed).toBeGreaterThanOrEqual(1);
    expect((await findOrderById(db, orderId))?.status).toBe('failed');
    expect(await ticketCounters(ticketType.id)).toMatchObject({ sold: 0, held: 0 });
    expect((await sweeperAudit(orderId)).map((a) => a.action)).toEqual(['payment_processing', 'payment_failed']);
    const failures = await db.queryMany<{ code: string }>('SELECT code FROM payment_failures WHERE order_id = $1', [orderId]);
    expect(failures).toEqual([{ code: 'async_payment_failed' }]);
    expect(await ledgerKinds(orderId)).toEqual([]);
    // The lost webhook arriving late changes nothing more.
    const delivery = stripe.webhooks.find(
      (w) => w.eventType === 'checkout.session.async_payment_failed' && w.payload.includes(sessionId),
    );
    if (!delivery) throw new Error('no dropped webhook');
    expect((await deliverStripe(delivery.payload)).status).toBe(200);
    expect((await listAuditForEntity(db, 'order', orderId)).filter((a) => a.action === 'payment_failed')).toHaveLength(1);
    expect(await ticketCounters(ticketType.id)).toMatchObject({ sold: 0, held: 0 });
  });

  it('GET /api/cron/sweep-stale-payments needs CRON_SECRET', async () => {
    const refused = await call(cron.GET, { path: '/api/cron/sweep-stale-payments' });
    expect(refused.status).toBe(401);
    const ok = await call(cron.GET, {
      path: '/api/cron/sweep-stale-payments',
      headers: { authorization: 'Bearer sweeper-cron-secret' },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ stoppedByBudget: false });
  });
});
