import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../../lib/db/client.js';
import { listFailuresForOrder } from '../../lib/db/models/payment-failures.js';
import type { StripeSandbox } from '../../sandbox/stripe-sandbox.js';
import { type LocalServer, startLocalServer } from '../../scripts/local-server.js';
import { startCheckout } from '../support/checkout.js';
import { checkoutBody, createEventWithTicketTypes } from '../support/factories.js';
import { startStripeSandboxForApp, TEST_STRIPE_SECRET_KEY, TEST_STRIPE_WEBHOOK_SECRET } from '../support/providers.js';
import { orderState } from './support.js';

/**
 * POST /api/webhooks/stripe end to end over HTTP: checkout creates the session at the Stripe sandbox,
 * the buyer pays (or is declined, or walks away) there, and the sandbox delivers its signed events to
 * the local server like Stripe would.
 */

let sandbox: StripeSandbox;
let server: LocalServer;

beforeAll(async () => {
  server = await startLocalServer({ port: 0 });
  process.env.PUBLIC_SITE_URL = 'http://localhost:3000';
  sandbox = await startStripeSandboxForApp({
    webhookSecret: TEST_STRIPE_WEBHOOK_SECRET,
    webhookUrl: `${server.url}/api/webhooks/stripe`,
  });
});

afterAll(async () => {
  await sandbox?.idle();
  await sandbox?.close();
  await server?.close();
});

async function stripeCheckout(quantity = 2) {
  const { event, types } = await createEventWithTicketTypes({ pass: { priceCents: 3_500, capacity: 10 } });
  const { created, sessionId } = await startCheckout(
    checkoutBody(event, [{ ticketType: 'pass', quantity }], { provider: 'stripe' }),
    'api-webhooks-test',
  );
  return { orderId: created.orderId, sessionId, ticketTypeId: types.pass.id };
}

describe('POST /api/webhooks/stripe over HTTP from the Stripe sandbox', () => {
  it('a paid session completes the order; Stripe’s retry of the same event is a 200 duplicate', async () => {
    const c = await stripeCheckout(2);
    const paid = await sandbox.pay(c.sessionId, '4242424242424242');
    if (paid.outcome !== 'succeeded') throw new Error(paid.outcome);
    expect(paid.delivery.status).toBe(200);
    expect(JSON.parse(paid.delivery.responseBody ?? '{}')).toMatchObject({
      received: true,
      duplicate: false,
      // Applied and processed; Stripe's fee is read after the response (no lease: the fee cron's if missed).
      status: 'processed',
    });
    const retry = await sandbox.resendEvent(String(paid.event.id));
    expect(retry.status).toBe(200);
    expect(JSON.parse(retry.responseBody ?? '{}')).toMatchObject({ duplicate: true });
    const s = await orderState(c.orderId, c.ticketTypeId);
    expect(s.order.status).toBe('completed');
    expect(s.payments[0]).toMatchObject({ status: 'completed', providerPaymentId: String(paid.paymentIntent.id) });
    expect(s.counters).toMatchObject({ sold: 2, held: 0 });
  });

  it('a declined card records the decline code (payment_intent.payment_failed); the hold stays', async () => {
    const c = await stripeCheckout(1);
    const declined = await sandbox.pay(c.sessionId, '4000000000000002');
    if (declined.outcome !== 'declined') throw new Error(declined.outcome);
    expect(declined.delivery.status).toBe(200);
    const failures = await listFailuresForOrder(db, c.orderId);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ code: 'card_declined', declineCode: declined.declineCode });
    const s = await orderState(c.orderId, c.ticketTypeId);
    expect(s.order.status).toBe('pending');
    expect(s.counters.held).toBe(1);
  });

  it('an abandoned session (checkout.session.expired) expires the order and releases the hold', async () => {
    const c = await stripeCheckout(3);
    await sandbox.expireSession(c.sessionId);
    await sandbox.idle();
    const delivery = sandbox.webhooks.find((w) => w.eventType === 'checkout.session.expired' && w.payload.includes(c.sessionId));
    expect(delivery?.status).toBe(200);
    const s = await orderState(c.orderId, c.ticketTypeId);
    expect(s.order.status).toBe('expired');
    expect(s.counters).toMatchObject({ sold: 0, held: 0 });
  });

  it('a refund made in the Stripe dashboard shows up as a provider refund', async () => {
    const c = await stripeCheckout(2);
    const paid = await sandbox.pay(c.sessionId, '4242424242424242');
    if (paid.outcome !== 'succeeded') throw new Error(paid.outcome);
    const response = await fetch(`${sandbox.url}/v1/refunds`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_STRIPE_SECRET_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ payment_intent: String(paid.paymentIntent.id), amount: '1000' }),
    });
    expect(response.status).toBe(200);
    await sandbox.idle();
    const s = await orderState(c.orderId, c.ticketTypeId);
    expect(s.refunds).toHaveLength(1);
    expect(s.refunds[0]).toMatchObject({ source: 'provider', status: 'succeeded', amountCents: 1_000 });
    expect(s.order).toMatchObject({ status: 'partially_refunded', refundedCents: 1_000 });
    const deliveries = sandbox.webhooks.filter(
      (w) => w.payload.includes(String(paid.paymentIntent.id)) && /refund/.test(w.eventType),
    );
    expect(deliveries.map((d) => d.status)).toEqual(deliveries.map(() => 200));
  });
});
