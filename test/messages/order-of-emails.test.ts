import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET as deliverCron } from '../../api/cron/deliver-messages.js';
import * as refundRoute from '../../api/payments/refund.js';
import { resetConfigForTests } from '../../lib/config.js';
import { db, transaction } from '../../lib/db/client.js';
import { findOrderById } from '../../lib/db/models/orders.js';
import { findOutboxMessage, insertOutboxMessageIfNew } from '../../lib/db/models/outbox-messages.js';
import { deliverDueMessages } from '../../lib/messages/deliver-messages.js';
import type { StripeSandbox } from '../../sandbox/stripe-sandbox.js';
import type { MailCatcher } from '../../scripts/mail-catcher.js';
import { makeKey, paidStripeOrder, type TestKey } from '../support/staff.js';
import { call } from '../support/http.js';
import { mailTo, outboxFor, settleMail, useExclusiveDeliveryCron, useMailCatcher } from '../support/mail.js';
import { startStripeSandboxForApp } from '../support/providers.js';

/**
 * Issue 12: a refund email never arrives before the order's confirmation. A message is sent only when no earlier
 * message of its order (queue order) is pending or sending; a dead or uncertain one does not block.
 */

// This file runs the delivery cron: no other such file at the same time (test/support/mail.ts).
useExclusiveDeliveryCron();

const CRON_SECRET = 'emails-order-cron-secret';
let catcher: MailCatcher;
let sandbox: StripeSandbox;
let staff: TestKey;

beforeAll(async () => {
  process.env.CRON_SECRET = CRON_SECRET;
  process.env.MAIL_MAX_ATTEMPTS = '5';
  catcher = await useMailCatcher();
  sandbox = await startStripeSandboxForApp();
  staff = await makeKey(['refunds:write']);
  resetConfigForTests();
});

afterAll(async () => {
  await settleMail();
  await sandbox?.close();
  await catcher?.close();
});

const cron = () => call(deliverCron, { path: '/api/cron/deliver-messages', headers: { authorization: `Bearer ${CRON_SECRET}` } });

/** Stops the SMTP server (connections refused on its port); returns a function that starts it again there. */
async function smtpDown(): Promise<() => Promise<void>> {
  const port = catcher.port;
  await catcher.close();
  return async () => {
    catcher = await useMailCatcher(port);
  };
}

describe('order of one order’s emails', () => {
  it('confirmation failing (SMTP down), then a refund settled → once SMTP is back, one cron run sends the confirmation first, the refund second', async () => {
    const restart = await smtpDown();
    const order = await paidStripeOrder(sandbox, { quantity: 2, priceCents: 5_000 });
    await settleMail();
    expect((await findOrderById(db, order.orderId))?.status).toBe('completed');

    const refund = await call(refundRoute.POST, {
      method: 'POST',
      path: '/api/payments/refund',
      headers: { ...staff.header, 'idempotency-key': `emails-order-${order.orderId}` },
      body: { orderId: order.orderId, amountCents: 2_000, reason: 'Partial refund: a workshop was cancelled' },
    });
    expect(refund.status).toBe(201);
    await settleMail();

    const [confirmation, notice] = await outboxFor(order.orderId);
    expect(confirmation).toMatchObject({ kind: 'order_confirmation', status: 'pending', attempts: 1 });
    expect(confirmation?.lastError).toMatch(/ECONNREFUSED/);
    // The refund notice was never even tried: the confirmation before it is still unsent.
    expect(notice).toMatchObject({ kind: 'refund_notification', status: 'pending', attempts: 0, lastError: null });

    await restart();
    // Both due, the refund notice "longer due" than the confirmation: without the order gate it would go first.
    await db.query(
      `UPDATE outbox_messages SET next_attempt_at = now() - CASE WHEN kind = 'refund_notification' THEN interval '2 days' ELSE interval '1 day' END
       WHERE order_id = $1`,
      [order.orderId],
    );
    const run = await cron();
    expect(run.status).toBe(200);

    const mails = mailTo(catcher, order.email);
    expect(mails.map((mail) => mail.parsed.subject)).toEqual([
      expect.stringContaining('Your tickets'),
      expect.stringContaining('Refund of USD 20.00'),
    ]);
    expect(mails[0]!.seq).toBeLessThan(mails[1]!.seq);
    expect((await outboxFor(order.orderId)).map((m) => [m.kind, m.status])).toEqual([
      ['order_confirmation', 'sent'],
      ['refund_notification', 'sent'],
    ]);
  });

  it('an earlier message that is dead or uncertain does not block the later one; a pending one does', async () => {
    const order = await paidStripeOrder(sandbox, { quantity: 1 });
    await settleMail();
    const queue = async (cause: string) => {
      const message = await transaction((tx) =>
        insertOutboxMessageIfNew(tx, { orderId: order.orderId, kind: 'refund_notification', cause }),
      );
      if (!message) throw new Error('not queued');
      return message;
    };
    const first = await queue('gate-first');
    const second = await queue('gate-second');

    await deliverDueMessages({ ids: [second.id], limit: 1 });
    expect(await findOutboxMessage(db, second.id)).toMatchObject({ status: 'pending', attempts: 0 });

    for (const status of ['dead', 'uncertain'] as const) {
      await db.query(
        `UPDATE outbox_messages SET status = $2, dead_at = CASE WHEN $2 = 'dead' THEN now() END,
           uncertain_at = CASE WHEN $2 = 'uncertain' THEN now() END WHERE id = $1`,
        [first.id, status],
      );
      const third = await queue(`gate-after-${status}`);
      await db.query(`UPDATE outbox_messages SET status = 'sent', sent_at = now() WHERE id = $1`, [second.id]);
      await deliverDueMessages({ ids: [third.id], limit: 1 });
      expect(await findOutboxMessage(db, third.id)).toMatchObject({ status: 'sent', attempts: 1 });
    }
  });
});
