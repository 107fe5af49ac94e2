import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET as orderGet } from '../../api/orders/[id].js';
import * as refundRoute from '../../api/payments/refund.js';
import { db } from '../../lib/db/client.js';
import { hashTicketCode } from '../../lib/tickets/ticket-codes.js';
import type { StripeSandbox } from '../../sandbox/stripe-sandbox.js';
import type { MailCatcher } from '../../scripts/mail-catcher.js';
import { makeKey, paidPayPalOrder, paidStripeOrder, type TestKey } from '../support/staff.js';
import { startPayPalSandboxForApp, startStripeSandboxForApp, TEST_STRIPE_WEBHOOK_SECRET } from '../support/providers.js';
import type { PayPalSandbox } from '../../sandbox/paypal-sandbox.js';
import { call } from '../support/http.js';
import { decodeQr, mailTo, outboxFor, settleMail, useMailCatcher } from '../support/mail.js';
import { createPendingOrder, deliverStripe, paidSessionFor, stripeEvent } from '../webhooks/support.js';

/**
 * The buyer's emails end to end: the real finalize / refund flows queue them in their transactions, the
 * after-commit delivery sends them over SMTP to a real smtp-server started here, and mailparser reads them back.
 */

let catcher: MailCatcher;
let sandbox: StripeSandbox;
let staff: TestKey;
let paypal: PayPalSandbox;

beforeAll(async () => {
  paypal = await startPayPalSandboxForApp();
  catcher = await useMailCatcher();
  sandbox = await startStripeSandboxForApp({ webhookSecret: TEST_STRIPE_WEBHOOK_SECRET });
  staff = await makeKey(['refunds:write', 'orders:read']);
});

afterAll(async () => {
  await settleMail();
  await sandbox?.close();
  await paypal?.close();
  await catcher?.close();
});

async function itemHashes(orderId: string): Promise<string[]> {
  const rows = await db.queryMany<{ hash: string | null }>(
    'SELECT ticket_code_hash AS hash FROM order_items WHERE order_id = $1 ORDER BY id',
    [orderId],
  );
  return rows.map((row) => row.hash ?? 'missing').sort();
}

describe('order confirmation', () => {
  it('a paid order gets exactly one confirmation: one QR per ticket, each decoding to that ticket’s code', async () => {
    const order = await paidStripeOrder(sandbox, { quantity: 3, priceCents: 4_000 });
    await settleMail();

    const mails = mailTo(catcher, order.email);
    expect(mails).toHaveLength(1);
    const mail = mails[0]!;
    expect(mail.parsed.subject).toContain(order.orderNumber);
    expect(mail.parsed.from?.text).toContain('tickets@example.test');

    // Three inline PNGs, each referenced by cid: from the HTML part.
    const images = mail.parsed.attachments.filter((a) => a.contentType === 'image/png');
    expect(images).toHaveLength(3);
    const html = String(mail.parsed.html);
    for (const image of images) {
      expect(image.cid).toBeTruthy();
      expect(html).toContain(`cid:${image.cid}`);
    }
    // Each QR carries only a code; their hashes are exactly the three tickets' stored hashes.
    const codes = images.map((image) => decodeQr(image.content));
    for (const code of codes) expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set(codes).size).toBe(3);
    expect(codes.map(hashTicketCode).sort()).toEqual(await itemHashes(order.orderId));

    // Both parts: order number, event, one line per attendee, amounts, provider, refund help, order link.
    const text = mail.parsed.text ?? '';
    for (const part of [html, text]) {
      expect(part).toContain(order.orderNumber);
      expect(part).toContain('A Lo Cubano Boulder Fest (test)');
      expect(part).toMatch(/Dancer0 Rueda[\s\S]*Dancer1 Rueda[\s\S]*Dancer2 Rueda/);
      expect(part).toContain('USD 120.00');
      expect(part).toContain('Stripe');
      expect(part).toMatch(/refund/i);
      expect(part).toContain('/tickets/success?order_id=');
    }
    // No secrets and no full provider ids in the body.
    for (const part of [html, text, mail.raw.toString('utf8')]) {
      expect(part).not.toContain(order.paymentIntentId);
      expect(part).not.toContain(order.accessToken);
      expect(part).not.toContain('sk_test_');
      for (const code of codes) expect(mail.parsed.text).not.toContain(code);
    }

    const [message, ...others] = await outboxFor(order.orderId);
    expect(others).toHaveLength(0);
    expect(message).toMatchObject({ kind: 'order_confirmation', status: 'sent', attempts: 1, lastError: null });
    expect(message?.providerMessageId).toBe(mail.parsed.messageId);
  });

  it('a PayPal order (captured on the buyer’s return) gets its confirmation too, naming PayPal', async () => {
    const order = await paidPayPalOrder(paypal, { quantity: 2, priceCents: 2_500 });
    await settleMail();
    const mails = mailTo(catcher, order.email);
    expect(mails).toHaveLength(1);
    expect(mails[0]?.parsed.text).toContain('Paid with: PayPal');
    expect(mails[0]?.parsed.text).toContain('Total paid: USD 50.00');
    expect(mails[0]?.parsed.text).not.toContain(order.captureId);
    expect(mails[0]?.parsed.attachments.map((a) => decodeQr(a.content).length)).toEqual([43, 43]);
  });

  it('the order link in the email opens the order in any browser (its own token), until it expires', async () => {
    const order = await paidStripeOrder(sandbox, { quantity: 1 });
    await settleMail();
    const [mail] = mailTo(catcher, order.email);
    const link = /https?:\/\/\S+\/tickets\/success\?order_id=([0-9a-f-]{36})#token=([A-Za-z0-9_-]{43})/.exec(
      mail?.parsed.text ?? '',
    );
    expect(link?.[1]).toBe(order.orderId);
    const token = link?.[2] ?? '';
    expect(token).not.toBe(order.accessToken);
    const stored = await db.queryOne<{ n: number; expiresAfterEvent: boolean }>(
      `SELECT count(*)::int AS n, bool_and(t.expires_at > e.ends_at) AS "expiresAfterEvent"
       FROM order_link_tokens t JOIN orders o ON o.id = t.order_id JOIN events e ON e.id = o.event_id
       WHERE t.order_id = $1 AND t.token_hash = encode(sha256(convert_to($2, 'UTF8')), 'hex')`,
      [order.orderId, token],
    );
    expect(stored).toEqual({ n: 1, expiresAfterEvent: true });

    const view = (bearer: string) =>
      call(orderGet, {
        path: `/api/orders/${order.orderId}`,
        query: { id: order.orderId },
        headers: { authorization: `Bearer ${bearer}` },
      });
    const opened = await view(token);
    expect(opened.status).toBe(200);
    expect(opened.body).toMatchObject({ orderId: order.orderId, orderNumber: order.orderNumber, status: 'completed' });
    expect((await view(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)).status).toBe(404);

    // Another order's id with this token: the same 404.
    const other = await paidStripeOrder(sandbox, { quantity: 1 });
    const cross = await call(orderGet, {
      path: `/api/orders/${other.orderId}`,
      query: { id: other.orderId },
      headers: { authorization: `Bearer ${token}` },
    });
    expect(cross.status).toBe(404);

    await db.query(`UPDATE order_link_tokens SET expires_at = now() - interval '1 second' WHERE order_id = $1`, [order.orderId]);
    expect((await view(token)).status).toBe(404);
    // The checkout access token still works.
    expect((await view(order.accessToken)).status).toBe(200);
    await settleMail();
  });

  it('the same checkout.session.completed delivered 20 times at once → still one email', async () => {
    const pending = await createPendingOrder({ quantity: 2, capacity: 2 });
    const email = (await db.queryOne<{ email: string }>(
      'SELECT c.email FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = $1',
      [pending.order.id],
    ))!.email;
    const payload = JSON.stringify(stripeEvent('checkout.session.completed', paidSessionFor(pending)));
    const answers = await Promise.all(Array.from({ length: 20 }, () => deliverStripe(payload)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await settleMail();

    expect(mailTo(catcher, email)).toHaveLength(1);
    const messages = await outboxFor(pending.order.id);
    expect(messages.map((m) => [m.kind, m.status])).toEqual([['order_confirmation', 'sent']]);
    // And the same event again later: nothing new.
    expect((await deliverStripe(payload)).status).toBe(200);
    await settleMail();
    expect(mailTo(catcher, email)).toHaveLength(1);
    expect(await outboxFor(pending.order.id)).toHaveLength(1);
  });

  it('a partial refund → one refund email with the amount refunded and what remains paid', async () => {
    const order = await paidStripeOrder(sandbox, { quantity: 2, priceCents: 5_000 });
    await settleMail();
    const answer = await call(refundRoute.POST, {
      method: 'POST',
      path: '/api/payments/refund',
      headers: { ...staff.header, 'idempotency-key': `emails-partial-${order.orderId}` },
      body: { orderId: order.orderId, amountCents: 3_000, reason: 'Partial refund: one workshop cancelled' },
    });
    expect(answer.status).toBe(201);
    // The same request again (idempotent replay) queues nothing more.
    await call(refundRoute.POST, {
      method: 'POST',
      path: '/api/payments/refund',
      headers: { ...staff.header, 'idempotency-key': `emails-partial-${order.orderId}` },
      body: { orderId: order.orderId, amountCents: 3_000, reason: 'Partial refund: one workshop cancelled' },
    });
    await settleMail();

    const mails = mailTo(catcher, order.email);
    expect(mails.map((m) => m.parsed.subject)).toEqual([
      expect.stringContaining('Your tickets'),
      expect.stringContaining('Refund of USD 30.00'),
    ]);
    const refundMail = mails[1]!;
    for (const part of [refundMail.parsed.text ?? '', String(refundMail.parsed.html)]) {
      expect(part).toMatch(/Refunded now[\s\S]*USD 30\.00/);
      expect(part).toMatch(/Refunded in total[\s\S]*USD 30\.00/);
      expect(part).toMatch(/Still paid[\s\S]*USD 70\.00/);
      expect(part).toContain('Your tickets stay valid.');
    }
    const kinds = (await outboxFor(order.orderId)).map((m) => [m.kind, m.status]);
    expect(kinds).toEqual([
      ['order_confirmation', 'sent'],
      ['refund_notification', 'sent'],
    ]);
  });

  it('a refund that releases the tickets names them in the refund email', async () => {
    const order = await paidStripeOrder(sandbox, { quantity: 2, priceCents: 5_000 });
    const answer = await call(refundRoute.POST, {
      method: 'POST',
      path: '/api/payments/refund',
      headers: { ...staff.header, 'idempotency-key': `emails-full-${order.orderId}` },
      body: { orderId: order.orderId, reason: 'Full refund requested by the buyer', releaseTickets: true },
    });
    expect(answer.status).toBe(201);
    await settleMail();
    const refundMail = mailTo(catcher, order.email).find((m) => m.parsed.subject?.startsWith('Refund of'));
    const text = refundMail?.parsed.text ?? '';
    expect(text).toMatch(/Refunded now: USD 100\.00/);
    expect(text).toMatch(/Still paid: USD 0\.00/);
    expect(text).toMatch(
      /cancelled and can no longer be used: Dancer0 Rueda \(Pass full_pass\), Dancer1 Rueda \(Pass full_pass\)/,
    );
  });
});
