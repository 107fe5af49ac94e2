import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturePayPalOrder } from '../../lib/checkout/capture-paypal-order.js';
import { db } from '../../lib/db/client.js';
import { findOrderById } from '../../lib/db/models/orders.js';
import { reconcileDay } from '../../lib/reconciliation/reconcile-day.js';
import type { PayPalSandbox } from '../../sandbox/paypal-sandbox.js';
import type { StripeSandbox } from '../../sandbox/stripe-sandbox.js';
import { type LocalServer, startLocalServer } from '../../scripts/local-server.js';
import { startCheckout } from '../support/checkout.js';
import { checkoutBody, createEventWithTicketTypes } from '../support/factories.js';
import { startPayPalSandboxForApp, startStripeSandboxForApp, TEST_STRIPE_WEBHOOK_SECRET } from '../support/providers.js';
import { linesOf, unconfigureProviders } from './support.js';

/**
 * Reconciliation against the full sandboxes: orders paid through the real checkout and webhooks (our
 * books written by the app itself), then a refund made in each provider's dashboard with its webhook
 * dropped. Today's report names the dashboard refund with its order and matches the payment. (Other
 * test files write books today too: only this file's references are checked.)
 */

let stripe: StripeSandbox;
let paypal: PayPalSandbox;
let server: LocalServer;

beforeAll(async () => {
  stripe = await startStripeSandboxForApp({ webhookSecret: TEST_STRIPE_WEBHOOK_SECRET });
  paypal = await startPayPalSandboxForApp();
  process.env.PUBLIC_SITE_URL = 'http://localhost:3000';
  server = await startLocalServer({ port: 0 });
  stripe.setWebhookTarget(`${server.url}/api/webhooks/stripe`);
});

afterAll(async () => {
  await stripe?.idle();
  await server?.close();
  await stripe?.close();
  await paypal?.close();
  unconfigureProviders();
});

/** The UTC days from `since` to now: one, or two when a test runs across midnight (its payment and its
 * refund then fall on different days, and each day's reconciliation holds its own lines). */
function daysSince(since: number): string[] {
  const first = new Date(since).toISOString().slice(0, 10);
  const last = new Date().toISOString().slice(0, 10);
  return first === last ? [first] : [first, last];
}

/** Reconcile each of those days and gather their lines by reference. */
async function reconcileSince(provider: 'stripe' | 'paypal', since: number) {
  const lines = new Map<string, Awaited<ReturnType<typeof linesOf>>[number]>();
  for (const day of daysSince(since)) {
    const outcome = await reconcileDay({ provider, day, restart: true });
    for (const line of await linesOf(outcome.runId)) if (line.reference) lines.set(line.reference, line);
  }
  return lines;
}

async function paymentOf(orderId: string) {
  return await db.queryOne<{ providerPaymentId: string; status: string }>(
    'SELECT provider_payment_id AS "providerPaymentId", status FROM payments WHERE order_id = $1',
    [orderId],
  );
}

describe('reconciliation against the full sandboxes', () => {
  it('Stripe: the paid order matches; a dashboard refund whose webhook was dropped is named with its order', async () => {
    const start = Date.now();
    const { event } = await createEventWithTicketTypes({ pass: { priceCents: 5_000, capacity: 10 } });
    const { created, sessionId } = await startCheckout(checkoutBody(event, [{ ticketType: 'pass', quantity: 1 }]));
    const paid = await stripe.pay(sessionId, '4242 4242 4242 4242');
    expect(paid.outcome).toBe('succeeded');
    await stripe.idle();
    expect((await findOrderById(db, created.orderId))?.status).toBe('completed');
    const payment = await paymentOf(created.orderId);
    const refund = await stripe.dashboardRefund(payment?.providerPaymentId ?? '', 1_500);
    await stripe.idle();
    const refundDelivery = stripe.webhooks.find(
      (w) => w.eventType === 'charge.refunded' && w.payload.includes(String(refund.id)),
    );
    expect(refundDelivery?.error).toContain('dropped');

    const lines = await reconcileSince('stripe', start);
    expect(lines.get(payment?.providerPaymentId ?? '')).toMatchObject({ class: 'matched', orderId: created.orderId });
    expect(lines.get(String(refund.id))).toMatchObject({ class: 'provider_only', kind: 'refund', orderId: created.orderId });
  });

  it('PayPal: the captured order matches; a dashboard refund whose webhook was dropped is named with its order', async () => {
    const start = Date.now();
    const { event } = await createEventWithTicketTypes({ pass: { priceCents: 6_000, capacity: 10 } });
    const { created, sessionId } = await startCheckout(
      checkoutBody(event, [{ ticketType: 'pass', quantity: 1 }], { provider: 'paypal' }),
    );
    await paypal.approve(sessionId);
    await capturePayPalOrder({ orderId: created.orderId, accessToken: created.accessToken, actor: { type: 'buyer' } });
    const payment = await paymentOf(created.orderId);
    expect(payment?.status).toBe('completed');
    const refund = await paypal.dashboardRefund(payment?.providerPaymentId ?? '', 700);

    const lines = await reconcileSince('paypal', start);
    expect(lines.get(payment?.providerPaymentId ?? '')).toMatchObject({ class: 'matched', orderId: created.orderId });
    expect(lines.get(String(refund.id))).toMatchObject({ class: 'provider_only', kind: 'refund', orderId: created.orderId });
  });
});
