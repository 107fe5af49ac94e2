import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as refundRoute from '../../api/payments/refund.js';
import * as stripeWebhook from '../../api/webhooks/stripe.js';
import { db } from '../../lib/db/client.js';
import { findOrderById } from '../../lib/db/models/orders.js';
import { listPaymentsForOrder } from '../../lib/db/models/payments.js';
import { listRefundsForOrder } from '../../lib/db/models/refunds.js';
import type { StripeSandbox } from '../../sandbox/stripe-sandbox.js';
import { call } from '../support/http.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { makeKey, paidStripeOrder, type TestKey } from '../support/staff.js';
import { startStripeSandboxForApp } from '../support/providers.js';

/**
 * The refund API and the provider's refund webhooks (charge.refunded, refund.created) both report
 * the same refunds, in any order: the money must be counted exactly once.
 */

const WEBHOOK_SECRET = 'whsec_backoffice_race';
let sandbox: StripeSandbox;
let receiver: WebhookReceiver;
let staff: TestKey;

beforeAll(async () => {
  // The sandbox's webhooks go to the app's real webhook route, while the refund calls are answered.
  receiver = await startWebhookReceiver(async (rawBody, headers) => {
    const response = await stripeWebhook.POST(
      new Request('http://localhost:3000/api/webhooks/stripe', { method: 'POST', headers, body: rawBody }),
    );
    return response.status === 200 ? 'ok' : `status ${response.status}: ${await response.text()}`;
  });
  sandbox = await startStripeSandboxForApp({ webhookUrl: receiver.url, webhookSecret: WEBHOOK_SECRET });
  staff = await makeKey(['refunds:write']);
});

afterAll(async () => {
  await sandbox?.close();
  await receiver?.close();
});

describe('refund API racing the refund webhooks', () => {
  it('20 concurrent 10% refunds with webhooks arriving meanwhile: exactly 10, counted once, as the sandbox says', async () => {
    const order = await paidStripeOrder(sandbox, { priceCents: 5_000, quantity: 2 });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        call(refundRoute.POST, {
          method: 'POST',
          path: '/api/payments/refund',
          headers: { ...staff.header, 'idempotency-key': randomUUID() },
          body: { orderId: order.orderId, amountCents: 1_000, reason: 'Concurrent partial refunds with webhooks' },
        }),
      ),
    );
    await sandbox.idle();
    expect(answers.filter((a) => a.status === 201)).toHaveLength(10);
    expect(answers.filter((a) => a.status === 422)).toHaveLength(10);

    const refundEvents = receiver.received.filter((r) => /"type": ?"(charge\.refunded|refund\.created)"/.test(r.rawBody));
    expect(refundEvents.length).toBe(20);
    expect(refundEvents.every((r) => r.status === 200)).toBe(true);

    const rows = await listRefundsForOrder(db, order.orderId);
    expect(rows).toHaveLength(10);
    expect(rows.every((r) => r.source === 'admin' && r.status === 'succeeded')).toBe(true);
    expect((await findOrderById(db, order.orderId))?.refundedCents).toBe(10_000);
    expect((await listPaymentsForOrder(db, order.orderId))[0]?.refundedCents).toBe(10_000);
    expect(sandbox.refundedAmount(order.paymentIntentId)).toBe(10_000);
  });
});
