import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST as paypalWebhook } from '../../api/webhooks/paypal.js';
import { db } from '../../lib/db/client.js';
import { findOrderById } from '../../lib/db/models/orders.js';
import type { PayPalSandbox } from '../../sandbox/paypal-sandbox.js';
import type { StripeSandbox } from '../../sandbox/stripe-sandbox.js';
import type { CaughtMail, MailCatcher } from '../../scripts/mail-catcher.js';
import { call } from '../support/http.js';
import { mailTo, outboxFor, settleMail, useMailCatcher } from '../support/mail.js';
import { startPayPalSandboxForApp, startStripeSandboxForApp, TEST_STRIPE_WEBHOOK_SECRET } from '../support/providers.js';
import {
  createPendingOrder,
  deliverStripe,
  inboxRow,
  type PendingOrder,
  paidSessionFor,
  stripeEvent,
} from '../webhooks/support.js';

/**
 * Issue 12: a buyer whose payment failed after they started paying (Stripe checkout.session.async_payment_failed,
 * PayPal PAYMENT.CAPTURE.DENIED) hears it: "your payment did not go through, your tickets were released, you have
 * not been charged", queued in the failure's own transaction, once per (order, kind, cause) whatever is
 * redelivered. The webhooks are the providers' example payloads (sandbox/fixtures) through the real receive path.
 */

const WEBHOOK_ID = 'WH-EMAILS-PAYMENTFAILED-01';
let catcher: MailCatcher;
let stripe: StripeSandbox;
let paypal: PayPalSandbox;

beforeAll(async () => {
  catcher = await useMailCatcher();
  stripe = await startStripeSandboxForApp({ webhookSecret: TEST_STRIPE_WEBHOOK_SECRET });
  paypal = await startPayPalSandboxForApp({ webhookId: WEBHOOK_ID });
});

afterAll(async () => {
  await settleMail();
  await stripe?.close();
  await paypal?.close();
  await catcher?.close();
});

async function buyer(p: PendingOrder): Promise<{ email: string }> {
  const row = await db.queryOne<{ email: string }>(
    'SELECT c.email FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = $1',
    [p.order.id],
  );
  return { email: row?.email ?? '' };
}

/** A buyer name typed with markup: it must come out escaped in the HTML part. */
async function hostileBuyerName(p: PendingOrder): Promise<void> {
  await db.query(`UPDATE customers SET first_name = '<script>alert(2)</script>' WHERE id = $1`, [p.order.customerId]);
}

function expectPaymentFailedEmail(mail: CaughtMail, p: PendingOrder, secretsAndIds: string[]) {
  expect(mail.parsed.subject).toBe(
    `Your payment for A Lo Cubano Boulder Fest (test) did not go through – order ${p.order.orderNumber}`,
  );
  const text = mail.parsed.text ?? '';
  const html = String(mail.parsed.html);
  for (const part of [text, html]) {
    expect(part).toContain('did not go through');
    expect(part).toContain(p.order.orderNumber);
    expect(part).toMatch(/were released|was released/);
    expect(part).toContain('You have not been charged');
    expect(part).toMatch(/reply to this email/);
  }
  expect(text).toContain('Hi <script>alert(2)</script>,');
  expect(html).not.toContain('<script>');
  expect(html).toContain('Hi &lt;script&gt;alert(2)&lt;/script&gt;,');
  for (const part of [text, html, mail.raw.toString('utf8')]) {
    for (const secret of secretsAndIds) expect(part).not.toContain(secret);
  }
}

describe('payment failed after the buyer started paying', () => {
  it('Stripe checkout.session.async_payment_failed delivered 20 times at once → order failed, tickets released, one email', async () => {
    const p = await createPendingOrder({ quantity: 2 });
    await hostileBuyerName(p);
    // The bank debit was started (processing), then failed days later.
    const started = await deliverStripe(
      stripeEvent('checkout.session.completed', paidSessionFor(p, { paymentStatus: 'unpaid' })),
    );
    expect(started.status).toBe(200);
    const failed = JSON.stringify(
      stripeEvent('checkout.session.async_payment_failed', paidSessionFor(p, { paymentStatus: 'unpaid' })),
    );
    const answers = await Promise.all(Array.from({ length: 20 }, () => deliverStripe(failed)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    await settleMail();

    expect((await findOrderById(db, p.order.id))?.status).toBe('failed');
    expect((await outboxFor(p.order.id)).map((m) => [m.kind, m.cause, m.status])).toEqual([
      ['payment_failed', `payment:${p.payment.id}`, 'sent'],
    ]);
    const mails = mailTo(catcher, (await buyer(p)).email);
    expect(mails).toHaveLength(1);
    expectPaymentFailedEmail(mails[0]!, p, [p.sessionId, p.paymentIntentId, TEST_STRIPE_WEBHOOK_SECRET, 'sk_test_']);
    expect(mails[0]!.parsed.text).toContain('2 tickets you had reserved');
    expect(mails[0]!.parsed.text).toContain('USD 100.00');
  });

  it('PayPal PAYMENT.CAPTURE.DENIED delivered 20 times at once (signed, through the receive path) → one email naming PayPal', async () => {
    const p = await createPendingOrder({ provider: 'paypal', quantity: 1 });
    await hostileBuyerName(p);
    const captureId = `CAP${p.order.id.replaceAll('-', '').slice(0, 14).toUpperCase()}`;
    const capture = (status: string) => ({
      id: captureId,
      status,
      amount: { currency_code: 'USD', value: (p.order.totalCents / 100).toFixed(2) },
      custom_id: p.order.id,
      invoice_id: p.order.orderNumber,
      supplementary_data: { related_ids: { order_id: p.sessionId } },
    });
    /** PayPal's delivery: the raw body with its RSA signature headers, to the webhook function. */
    const post = (body: string) =>
      call(paypalWebhook, {
        method: 'POST',
        path: '/api/webhooks/paypal',
        headers: { 'content-type': 'application/json', ...paypal.signPayload(body) },
        rawBody: body,
      });
    const pending = await post(JSON.stringify(paypal.buildEvent('PAYMENT.CAPTURE.PENDING', 'capture', capture('PENDING'))));
    expect(pending.status).toBe(200);
    expect((await findOrderById(db, p.order.id))?.status).toBe('processing');

    const denied = paypal.buildEvent('PAYMENT.CAPTURE.DENIED', 'capture', capture('DECLINED'));
    const body = JSON.stringify(denied);
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(body)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect((await inboxRow(String((denied as { id: string }).id), 'paypal'))?.status).toBe('processed');
    await settleMail();

    expect((await findOrderById(db, p.order.id))?.status).toBe('failed');
    expect((await outboxFor(p.order.id)).map((m) => [m.kind, m.status])).toEqual([['payment_failed', 'sent']]);
    const mails = mailTo(catcher, (await buyer(p)).email);
    expect(mails).toHaveLength(1);
    expectPaymentFailedEmail(mails[0]!, p, [captureId, p.sessionId]);
    expect(mails[0]!.parsed.text).toContain('PayPal declined the payment');
    expect(mails[0]!.parsed.text).toContain('The ticket you had reserved');
  });

  it('a failure reported for an order that is already paid queues nothing', async () => {
    const p = await createPendingOrder({ quantity: 1 });
    const paid = await deliverStripe(
      stripeEvent('checkout.session.completed', paidSessionFor(p, { paymentIntentId: p.paymentIntentId })),
    );
    expect(paid.status).toBe(200);
    await settleMail();
    const late = await deliverStripe(
      stripeEvent('checkout.session.async_payment_failed', paidSessionFor(p, { paymentStatus: 'unpaid' })),
    );
    expect(late.status).toBe(200);
    await settleMail();
    expect((await findOrderById(db, p.order.id))?.status).toBe('completed');
    expect((await outboxFor(p.order.id)).map((m) => m.kind)).toEqual(['order_confirmation']);
  });
});
