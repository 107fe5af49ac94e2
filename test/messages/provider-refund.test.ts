import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../../lib/db/client.js';
import type { MailCatcher } from '../../scripts/mail-catcher.js';
import { mailTo, outboxFor, settleMail, useMailCatcher } from '../support/mail.js';
import { configureStripe } from '../support/providers.js';
import {
  createPendingOrder,
  deliverStripe,
  paidSessionFor,
  refundedChargeFor,
  refundFor,
  stripeEvent,
} from '../webhooks/support.js';

/** A refund made in the Stripe dashboard reaches us only by webhook: the buyer still gets exactly one notice. */

let catcher: MailCatcher;

beforeAll(async () => {
  catcher = await useMailCatcher();
  configureStripe();
});

afterAll(async () => {
  await settleMail();
  await catcher?.close();
});

describe('refunds made at the provider', () => {
  it('charge.refunded + refund.created (+ replays) for one dashboard refund → one refund email', async () => {
    const p = await createPendingOrder({ quantity: 2, priceCents: 5_000 });
    expect((await deliverStripe(stripeEvent('checkout.session.completed', paidSessionFor(p)))).status).toBe(200);
    const refund = refundFor(p, { amount: 2_500 });
    const charged = JSON.stringify(stripeEvent('charge.refunded', refundedChargeFor(p, [refund])));
    const created = JSON.stringify(stripeEvent('refund.created', refund));
    await Promise.all([deliverStripe(charged), deliverStripe(created), deliverStripe(charged), deliverStripe(created)]);
    await settleMail();

    const email = (await db.queryOne<{ email: string }>(
      'SELECT c.email FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = $1',
      [p.order.id],
    ))!.email;
    // Sent independently (the confirmation's QR codes may take longer): compare without arrival order.
    const mails = mailTo(catcher, email);
    const subjects = mails.map((m) => m.parsed.subject ?? '').sort();
    expect(subjects).toEqual([`Refund of USD 25.00 for order ${p.order.orderNumber}`, expect.stringContaining('Your tickets')]);
    const text = mails.find((m) => m.parsed.subject?.startsWith('Refund'))?.parsed.text ?? '';
    expect(text).toContain('Still paid: USD 75.00');
    // The provider's refund id never appears in the email.
    expect(text).not.toContain(String(refund.id));
    expect((await outboxFor(p.order.id)).map((m) => m.kind)).toEqual(['order_confirmation', 'refund_notification']);
  });
});
