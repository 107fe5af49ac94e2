import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET as listMessagesRoute } from '../../api/admin/messages.js';
import { POST as resendRoute } from '../../api/admin/messages/[id]/resend.js';
import { GET as deliverCron } from '../../api/cron/deliver-messages.js';
import { resetConfigForTests } from '../../lib/config.js';
import { db, transaction } from '../../lib/db/client.js';
import { findOrderById } from '../../lib/db/models/orders.js';
import { enqueueMessageInTx } from '../../lib/messages/enqueue-message.js';
import { renderMessage } from '../../lib/messages/render-message.js';
import { type OutgoingMail, sendMail } from '../../lib/messages/transport.js';
import type { StripeSandbox } from '../../sandbox/stripe-sandbox.js';
import type { MailCatcher } from '../../scripts/mail-catcher.js';
import { makeKey, paidStripeOrder, type TestKey } from '../support/staff.js';
import { startStripeSandboxForApp } from '../support/providers.js';
import { call } from '../support/http.js';
import { mailTo, makeDueNow, outboxFor, settleMail, useExclusiveDeliveryCron, useMailCatcher } from '../support/mail.js';

/**
 * SMTP trouble never touches the payment: the message waits in the outbox (attempts, last error, next
 * attempt with exponential backoff), the cron sends it once the server is back, it goes dead after
 * MAIL_MAX_ATTEMPTS, and staff can list and resend it.
 */

// This file runs the delivery cron: no other such file at the same time (test/support/mail.ts).
useExclusiveDeliveryCron();

const CRON_SECRET = 'emails-cron-secret';
let catcher: MailCatcher;
let sandbox: StripeSandbox;
let staff: TestKey;

beforeAll(async () => {
  process.env.CRON_SECRET = CRON_SECRET;
  process.env.MAIL_MAX_ATTEMPTS = '3';
  process.env.MAIL_RETRY_BASE_SECONDS = '60';
  catcher = await useMailCatcher();
  sandbox = await startStripeSandboxForApp();
  staff = await makeKey(['messages:admin']);
  resetConfigForTests();
});

afterAll(async () => {
  await settleMail();
  await sandbox?.close();
  await catcher?.close();
});

const cron = (authorization = `Bearer ${CRON_SECRET}`) =>
  call(deliverCron, { path: '/api/cron/deliver-messages', headers: { authorization } });

/** Stops the SMTP server (connections refused on its port) and returns a function that starts it again there. */
async function smtpDown(): Promise<() => Promise<void>> {
  const port = catcher.port;
  const kept = catcher;
  await catcher.close();
  return async () => {
    catcher = await useMailCatcher(port);
    // Mail caught before the restart stays visible through the old handle's list.
    for (const mail of kept.messages) (catcher.messages as unknown as unknown[]).unshift(mail);
  };
}

describe('delivery when SMTP is down', () => {
  it('the order completes; the email waits with its error and goes out when the server is back and the cron runs', async () => {
    const restart = await smtpDown();
    const order = await paidStripeOrder(sandbox, { quantity: 2 });
    await settleMail();

    expect((await findOrderById(db, order.orderId))?.status).toBe('completed');
    const [waiting] = await outboxFor(order.orderId);
    expect(waiting).toMatchObject({ kind: 'order_confirmation', status: 'pending', attempts: 1 });
    expect(waiting?.lastError).toMatch(/ECONNREFUSED/);
    // First backoff: MAIL_RETRY_BASE_SECONDS after the attempt.
    const wait = (waiting!.nextAttemptAt.getTime() - waiting!.lastAttemptAt!.getTime()) / 1000;
    expect(wait).toBeGreaterThanOrEqual(59);
    expect(wait).toBeLessThanOrEqual(61);

    // Not due yet: the cron leaves it alone.
    expect((await cron()).status).toBe(200);
    expect((await outboxFor(order.orderId))[0]).toMatchObject({ status: 'pending', attempts: 1 });

    await restart();
    await makeDueNow(order.orderId);
    const run = await cron();
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ sent: expect.any(Number), failed: expect.any(Number), dead: expect.any(Number) });
    expect(mailTo(catcher, order.email)).toHaveLength(1);
    const [sent] = await outboxFor(order.orderId);
    expect(sent).toMatchObject({ status: 'sent', attempts: 2 });
    expect(sent?.providerMessageId).toBe(mailTo(catcher, order.email)[0]?.parsed.messageId);
    // A second cron run sends nothing more.
    await cron();
    expect(mailTo(catcher, order.email)).toHaveLength(1);
  });

  it('after MAIL_MAX_ATTEMPTS failures (backoff doubling) it is dead with its last error; staff list it and resend it', async () => {
    const order = await paidStripeOrder(sandbox, { quantity: 1 });
    await settleMail();
    const [first] = await outboxFor(order.orderId);
    expect(first?.status).toBe('sent');
    // Now the server refuses (4xx), then is gone altogether.
    catcher.refuseWith(451);
    const resent = await call(resendRoute, {
      method: 'POST',
      path: `/api/admin/messages/${first!.id}/resend`,
      query: { id: first!.id },
      headers: staff.header,
    });
    expect(resent.status).toBe(201);
    expect(resent.body.resent).toMatchObject({ status: 'pending', attempts: 1, resendOf: first!.id });
    expect(resent.body.resent.lastError).toMatch(/451/);
    const copyId: string = resent.body.resent.id;

    const restart = await smtpDown();
    const waits: number[] = [];
    let row = (await outboxFor(order.orderId)).find((m) => m.id === copyId)!;
    waits.push((row.nextAttemptAt.getTime() - row.lastAttemptAt!.getTime()) / 1000);
    await makeDueNow(order.orderId);
    await cron();
    row = (await outboxFor(order.orderId)).find((m) => m.id === copyId)!;
    expect(row).toMatchObject({ status: 'pending', attempts: 2 });
    waits.push((row.nextAttemptAt.getTime() - row.lastAttemptAt!.getTime()) / 1000);
    expect(waits.map(Math.round)).toEqual([60, 120]);
    await makeDueNow(order.orderId);
    await cron();
    row = (await outboxFor(order.orderId)).find((m) => m.id === copyId)!;
    expect(row).toMatchObject({ status: 'dead', attempts: 3 });
    expect(row.lastError).toMatch(/ECONNREFUSED/);
    expect(row.deadAt).toBeInstanceOf(Date);
    // Dead stays dead for the cron.
    await db.query(`UPDATE outbox_messages SET next_attempt_at = now() - interval '1 day' WHERE id = $1`, [copyId]);
    await cron();
    expect((await outboxFor(order.orderId)).find((m) => m.id === copyId)).toMatchObject({ status: 'dead', attempts: 3 });

    const listed = await call(listMessagesRoute, {
      path: '/api/admin/messages',
      query: { status: 'dead', orderId: order.orderId },
      headers: staff.header,
    });
    expect(listed.status).toBe(200);
    expect(listed.body.data).toEqual([
      expect.objectContaining({ id: copyId, status: 'dead', attempts: 3, lastError: expect.stringMatching(/ECONNREFUSED/) }),
    ]);

    await restart();
    catcher.refuseWith(undefined);
    const before = mailTo(catcher, order.email).length;
    const again = await call(resendRoute, {
      method: 'POST',
      path: `/api/admin/messages/${copyId}/resend`,
      query: { id: copyId },
      headers: staff.header,
    });
    expect(again.status).toBe(201);
    expect(again.body.original).toMatchObject({ id: copyId, status: 'dead' });
    expect(again.body.resent).toMatchObject({ status: 'sent', attempts: 1, resendOf: copyId });
    expect(mailTo(catcher, order.email)).toHaveLength(before + 1);
    expect(mailTo(catcher, order.email).at(-1)?.parsed.subject).toContain(order.orderNumber);
    const audit = await db.queryMany<{ action: string }>(
      `SELECT action FROM payment_audit_log WHERE entity_type = 'order' AND entity_id = $1 AND action = 'message_resent'`,
      [order.orderId],
    );
    expect(audit).toHaveLength(2);
  });

  it('a queued message rolls back with its transaction: nothing stored, nothing sent', async () => {
    const order = await paidStripeOrder(sandbox, { quantity: 1 });
    await settleMail();
    const before = mailTo(catcher, order.email).length;
    await expect(
      transaction(async (tx) => {
        await enqueueMessageInTx(tx, { orderId: order.orderId, kind: 'order_confirmation', cause: 'rollback-test' });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await settleMail();
    expect((await outboxFor(order.orderId)).map((m) => m.cause)).not.toContain('rollback-test');
    expect(mailTo(catcher, order.email)).toHaveLength(before);
  });

  it('an attendee named <script>alert(3)</script> is escaped in the HTML part', async () => {
    const order = await paidStripeOrder(sandbox, { quantity: 1 });
    await settleMail();
    const [message] = await outboxFor(order.orderId);
    // Whatever checkout accepts, the email must be safe with any stored name. The hostile names are written in a
    // transaction that is rolled back after rendering: other test files share this database (and search it).
    let rendered: OutgoingMail | undefined;
    await transaction(async (tx) => {
      await tx.query(
        `UPDATE order_items SET attendee_first_name = '<script>alert(3)</script>', attendee_last_name = '"><img src=x onerror=alert(2)>'
         WHERE order_id = $1`,
        [order.orderId],
      );
      rendered = await renderMessage(tx, message!);
      throw new Error('roll back');
    }).catch((error: Error) => {
      if (error.message !== 'roll back') throw error;
    });
    const messageId = `<xss-${message!.id}@boulderfest.test>`;
    await sendMail({ ...rendered!, messageId });
    const mail = await catcher.waitFor((m) => m.parsed.messageId === messageId);
    const html = String(mail.parsed.html);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;script&gt;alert(3)&lt;/script&gt;');
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;');
    // The plain-text part shows the name as typed.
    expect(mail.parsed.text).toContain('<script>alert(3)</script>');
  });

  it('the cron wants CRON_SECRET; the staff routes want messages:admin', async () => {
    expect((await call(deliverCron, { path: '/api/cron/deliver-messages' })).status).toBe(401);
    expect((await cron('Bearer wrong')).status).toBe(401);
    expect((await call(listMessagesRoute, { path: '/api/admin/messages' })).status).toBe(401);
    const other = await makeKey(['orders:read']);
    expect((await call(listMessagesRoute, { path: '/api/admin/messages', headers: other.header })).status).toBe(403);
    expect(
      (
        await call(resendRoute, {
          method: 'POST',
          path: '/api/admin/messages/x/resend',
          query: { id: 'x' },
          headers: staff.header,
        })
      ).status,
    ).toBe(404);
  });
});
