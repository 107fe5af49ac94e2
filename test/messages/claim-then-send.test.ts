import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GET as listMessagesRoute } from '../../api/admin/messages.js';
import { POST as resendRoute } from '../../api/admin/messages/[id]/resend.js';
import { GET as metricsRoute } from '../../api/admin/metrics.js';
import { GET as deliverCron } from '../../api/cron/deliver-messages.js';
import { resetConfigForTests } from '../../lib/config.js';
import { db, transaction } from '../../lib/db/client.js';
import { findOutboxMessage, insertOutboxMessageIfNew, type OutboxMessage } from '../../lib/db/models/outbox-messages.js';
import { deliverDueMessages, LEASE_SECONDS } from '../../lib/messages/deliver-messages.js';
import { messageIdFor } from '../../lib/messages/message-id.js';
import { armCrashPointForTests, type CrashPoint, disarmCrashPointsForTests } from '../../lib/testing/crash-points.js';
import type { StripeSandbox } from '../../sandbox/stripe-sandbox.js';
import type { MailCatcher } from '../../scripts/mail-catcher.js';
import { makeKey, paidStripeOrder, type PaidOrder, type TestKey } from '../support/staff.js';
import { call } from '../support/http.js';
import { makeDueNow, outboxFor, settleMail, useExclusiveDeliveryCron, useMailCatcher } from '../support/mail.js';
import { startStripeSandboxForApp } from '../support/providers.js';

/**
 * Issue 12, "never sent twice, as far as SMTP allows": delivery is claim-then-send. A message is claimed in one
 * statement (sending, claimed_at, attempt + 1, a lease) before the SMTP call, so racing deliverers hand it to the
 * SMTP server once; a deliverer that dies mid-send leaves it `uncertain` (never resent by itself), shown to staff,
 * who resend it on purpose with the same Message-ID.
 */

// This file runs the delivery cron: no other such file at the same time (test/support/mail.ts).
useExclusiveDeliveryCron();

const CRON_SECRET = 'emails-claims-cron-secret';
let catcher: MailCatcher;
let sandbox: StripeSandbox;
let staff: TestKey;

beforeAll(async () => {
  process.env.CRON_SECRET = CRON_SECRET;
  catcher = await useMailCatcher();
  sandbox = await startStripeSandboxForApp();
  staff = await makeKey(['messages:admin', 'ops:read']);
  resetConfigForTests();
});

afterEach(() => disarmCrashPointsForTests());

afterAll(async () => {
  await settleMail();
  await sandbox?.close();
  await catcher?.close();
});

const cron = () => call(deliverCron, { path: '/api/cron/deliver-messages', headers: { authorization: `Bearer ${CRON_SECRET}` } });

/** Mail the catcher received carrying this outbox row's Message-ID. */
const caughtFor = (message: Pick<OutboxMessage, 'id'>) =>
  catcher.messages.filter((mail) => mail.parsed.messageId === messageIdFor(message));

/**
 * A paid order (its confirmation already sent) plus one more message for it, queued WITHOUT the after-commit send
 * (as if that instance had been frozen) and already due.
 */
async function queuedMessage(cause: string): Promise<{ order: PaidOrder; message: OutboxMessage }> {
  const order = await paidStripeOrder(sandbox, { quantity: 1 });
  await settleMail();
  // The confirmation goes out right after the commit. If that send did not get through (a loaded machine), it
  // waits for its backoff, and every later message of the order waits behind it (the order gate). These tests
  // are about the later message: the earlier ones are sent first, and that is checked.
  const unsent = (await outboxFor(order.orderId)).filter((m) => m.status !== 'sent');
  if (unsent.length > 0) {
    await makeDueNow(order.orderId);
    await deliverDueMessages({ ids: unsent.map((m) => m.id), limit: unsent.length });
  }
  expect((await outboxFor(order.orderId)).map((m) => m.status)).toEqual(['sent']);
  const message = await transaction((tx) =>
    insertOutboxMessageIfNew(tx, { orderId: order.orderId, kind: 'order_confirmation', cause }),
  );
  if (!message) throw new Error('not queued');
  await db.query(`UPDATE outbox_messages SET next_attempt_at = now() - interval '1 day' WHERE id = $1`, [message.id]);
  return { order, message };
}

/** The deliverer died long ago: its claim is older than the lease. */
async function lapseClaim(id: string): Promise<void> {
  await db.query(
    `UPDATE outbox_messages SET claimed_at = now() - make_interval(secs => $2 + 1), locked_until = now() - interval '1 second'
     WHERE id = $1 AND status = 'sending'`,
    [id, LEASE_SECONDS],
  );
}

describe('claim-then-send', () => {
  it('20 concurrent deliverers (after-commit sends and cron runs) → exactly one SMTP message', async () => {
    const { message } = await queuedMessage('race-20');
    const runs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0
          ? deliverDueMessages({ ids: [message.id], limit: 1 }).then((summary) => summary.sent)
          : cron().then((answer) => {
              expect(answer.status).toBe(200);
              return 0;
            }),
      ),
    );
    await settleMail();
    // On failure, say what the order's messages look like (status, attempts, error) and what was caught.
    const seen = `caught ${catcher.messages.length} in all; the order's messages: ${JSON.stringify(
      (await outboxFor(message.orderId)).map((m) => ({
        kind: m.kind,
        status: m.status,
        attempts: m.attempts,
        error: m.lastError,
      })),
    )}; runs sent ${JSON.stringify(runs)}`;
    expect(caughtFor(message), seen).toHaveLength(1);
    const row = await findOutboxMessage(db, message.id);
    expect(row).toMatchObject({ status: 'sent', attempts: 1 });
    expect(row?.claimedAt).toBeInstanceOf(Date);
    // Whichever won, the Message-ID is the one derived from the outbox id.
    expect(row?.providerMessageId).toBe(`<${message.id}@boulderfest.outbox>`);
    expect(runs.reduce((sum, n) => sum + n, 0)).toBeLessThanOrEqual(1);
  });

  it('every message carries a deterministic Message-ID (its outbox id), the same on every attempt', async () => {
    const { message } = await queuedMessage('message-id');
    catcher.refuseWith(451);
    await deliverDueMessages({ ids: [message.id], limit: 1 });
    expect(await findOutboxMessage(db, message.id)).toMatchObject({ status: 'pending', attempts: 1 });
    catcher.refuseWith(undefined);
    await db.query(`UPDATE outbox_messages SET next_attempt_at = now() - interval '1 day' WHERE id = $1`, [message.id]);
    await deliverDueMessages({ ids: [message.id], limit: 1 });
    const row = await findOutboxMessage(db, message.id);
    expect(row).toMatchObject({ status: 'sent', attempts: 2, providerMessageId: `<${message.id}@boulderfest.outbox>` });
    const [mail, ...more] = caughtFor(message);
    expect(more).toHaveLength(0);
    expect(mail?.raw.toString('utf8')).toMatch(new RegExp(`^Message-ID: <${message.id}@boulderfest\\.outbox>\\r?$`, 'im'));
  });

  it.each([
    ['message.after-send', 1],
    ['message.after-claim', 0],
  ] as const)(
    'a deliverer that dies at %s → sending, then uncertain once the lease is over: never resent by the cron; shown to staff (list, metrics); a staff resend sends it with the same Message-ID',
    async (point, caughtBeforeResend) => {
      const { order, message } = await queuedMessage(`crash-${point}`);

      armCrashPointForTests(point as CrashPoint);
      await expect(deliverDueMessages({ ids: [message.id], limit: 1 })).rejects.toThrow(/forced crash/);
      expect(await findOutboxMessage(db, message.id)).toMatchObject({ status: 'sending', attempts: 1 });
      expect(caughtFor(message)).toHaveLength(caughtBeforeResend);

      // While the lease runs, no one else takes it.
      await cron();
      expect(await findOutboxMessage(db, message.id)).toMatchObject({ status: 'sending', attempts: 1 });

      await lapseClaim(message.id);
      const run = await cron();
      expect(run.status).toBe(200);
      expect(run.body.uncertain).toBeGreaterThanOrEqual(1);
      const uncertain = await findOutboxMessage(db, message.id);
      expect(uncertain).toMatchObject({ status: 'uncertain', attempts: 1 });
      expect(uncertain?.uncertainAt).toBeInstanceOf(Date);
      expect(uncertain?.lastError).toMatch(/may or may not have accepted it/);
      // Not resent: however often the cron runs.
      await cron();
      await cron();
      expect(caughtFor(message)).toHaveLength(caughtBeforeResend);
      expect(await findOutboxMessage(db, message.id)).toMatchObject({ status: 'uncertain', attempts: 1 });

      const listed = await call(listMessagesRoute, {
        path: '/api/admin/messages',
        query: { status: 'uncertain', orderId: order.orderId },
        headers: staff.header,
      });
      expect(listed.status).toBe(200);
      expect(listed.body.data).toEqual([
        expect.objectContaining({
          id: message.id,
          status: 'uncertain',
          attempts: 1,
          messageId: `<${message.id}@boulderfest.outbox>`,
          uncertainAt: expect.any(String),
          lastError: expect.stringMatching(/resend it on purpose/),
        }),
      ]);
      const metrics = await call(metricsRoute, { path: '/api/admin/metrics', headers: staff.header });
      expect(metrics.status).toBe(200);
      expect(metrics.body.outbox.byStatus.uncertain).toBeGreaterThanOrEqual(1);

      const resent = await call(resendRoute, {
        method: 'POST',
        path: `/api/admin/messages/${message.id}/resend`,
        query: { id: message.id },
        headers: staff.header,
      });
      expect(resent.status).toBe(201);
      expect(resent.body.original).toMatchObject({ id: message.id, status: 'uncertain' });
      // The same row, released and sent: no copy, the same Message-ID as the attempt that may have arrived.
      expect(resent.body.resent).toMatchObject({ id: message.id, status: 'sent', attempts: 2, resendOf: null });
      expect(resent.body.resent.providerMessageId).toBe(`<${message.id}@boulderfest.outbox>`);
      expect(caughtFor(message)).toHaveLength(caughtBeforeResend + 1);
      const audit = await db.queryMany<{ reason: string | null }>(
        `SELECT reason FROM payment_audit_log WHERE entity_type = 'order' AND entity_id = $1 AND action = 'message_resent'`,
        [order.orderId],
      );
      expect(audit).toEqual([{ reason: 'uncertain delivery released by staff' }]);
    },
  );

  it('a slow deliverer that finishes after its claim was declared uncertain records the truth: sent', async () => {
    const { message } = await queuedMessage('slow-deliverer');
    // Stands for the deliverer's claim; the cron finds it lapsed while the (slow) deliverer is still alive.
    const [claimed] = await db.queryMany<{ attempts: number }>(
      `UPDATE outbox_messages SET status = 'sending', attempts = attempts + 1, claimed_at = now() - interval '1 hour',
         locked_until = now() - interval '1 second' WHERE id = $1 RETURNING attempts`,
      [message.id],
    );
    await cron();
    expect(await findOutboxMessage(db, message.id)).toMatchObject({ status: 'uncertain' });
    const { markMessageSent } = await import('../../lib/db/models/outbox-messages.js');
    expect(await markMessageSent(db, { id: message.id, attempts: claimed!.attempts }, messageIdFor(message))).toBe(true);
    expect(await findOutboxMessage(db, message.id)).toMatchObject({ status: 'sent' });
    // An older attempt's late report changes nothing.
    expect(await markMessageSent(db, { id: message.id, attempts: claimed!.attempts - 1 }, 'x')).toBe(false);
  });
});
