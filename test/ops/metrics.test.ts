import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import * as metricsRoute from '../../api/admin/metrics.js';
import * as retryCron from '../../api/cron/retry-webhooks.js';
import { db, transaction } from '../../lib/db/client.js';
import { insertWebhookEventIfNew } from '../../lib/db/models/webhook-events.js';
import { DEFAULT_RETRY_POLICY } from '../../lib/webhooks/inbox.js';
import { makeKey, type TestKey } from '../support/staff.js';
import { expireHoldNow } from '../support/factories.js';
import { call } from '../support/http.js';
import { configureStripe } from '../support/providers.js';
import {
  createPendingOrder,
  deliverStripe,
  inboxRow,
  paidSessionFor,
  refundedChargeFor,
  refundFor,
  stripeEvent,
} from '../webhooks/support.js';

/**
 * GET /api/admin/metrics: make failures, a dead webhook, a backlog and stale holds through the real
 * webhook and cron paths, then read the figures back. Other test files share the database, so the
 * checks compare before/after (at least what this test made) or look for this test's own unique values.
 */

let ops: TestKey;

beforeAll(async () => {
  configureStripe();
  process.env.CRON_SECRET = 'metrics-test-cron-secret';
  const { resetConfigForTests } = await import('../../lib/config.js');
  resetConfigForTests();
  ops = await makeKey(['ops:read']);
});

async function metrics() {
  const response = await call(metricsRoute.GET, { path: '/api/admin/metrics', headers: ops.header });
  expect(response.status).toBe(200);
  return response.body;
}

describe('GET /api/admin/metrics', () => {
  it('counts payment failures per hour and by decline code, and failed payments in the success rate', async () => {
    const start = Date.now();
    const before = await metrics();
    const declineCode = `test_decline_${randomUUID().slice(0, 8)}`;
    const p = await createPendingOrder();
    for (let i = 0; i < 3; i++) {
      const intent = {
        id: p.paymentIntentId,
        object: 'payment_intent',
        metadata: { order_id: p.order.id },
        last_payment_error: { code: 'card_declined', decline_code: declineCode, message: 'Your card was declined.' },
      };
      expect((await deliverStripe(stripeEvent('payment_intent.payment_failed', intent))).status).toBe(200);
    }
    // A second order fails for good (an async payment that did not go through).
    const q = await createPendingOrder();
    await deliverStripe(stripeEvent('checkout.session.completed', paidSessionFor(q, { paymentStatus: 'unpaid' })));
    await deliverStripe(stripeEvent('checkout.session.async_payment_failed', paidSessionFor(q, { paymentStatus: 'unpaid' })));

    const after = await metrics();
    expect(after.payments.topDeclineCodes).toContainEqual({ code: 'card_declined', declineCode, failures: 3 });
    expect(after.payments.lastHour.failures - before.payments.lastHour.failures).toBeGreaterThanOrEqual(4);
    expect(after.payments.lastHour.failed - before.payments.lastHour.failed).toBeGreaterThanOrEqual(1);
    expect(after.payments.lastHour.attempts - before.payments.lastHour.attempts).toBeGreaterThanOrEqual(2);
    // The hours this test's failures can fall in: every bucket that ends after the test started. Not just
    // the newest bucket: a run across the turn of the hour puts them in two (seen in CI at 03:00).
    const sinceStart = (body: typeof after) =>
      body.payments.failuresPerHour
        .filter((bucket: { hour: string }) => Date.parse(bucket.hour) + 3_600_000 > start)
        .reduce((sum: number, bucket: { failures: number }) => sum + bucket.failures, 0);
    expect(sinceStart(after) - sinceStart(before)).toBeGreaterThanOrEqual(4);
    expect(after.payments.last100.failed).toBeGreaterThanOrEqual(1);
    expect(after.payments.last100.successRate).toBeLessThan(1);
  });

  it('shows a dead webhook and an unprocessed backlog with its oldest event', async () => {
    // A refund for an order that was never paid fails (not yet applicable); the retry cron makes it dead.
    const p = await createPendingOrder();
    const event = stripeEvent('charge.refunded', refundedChargeFor(p, [refundFor(p)]));
    await deliverStripe(event);
    const row = await inboxRow(String(event.id));
    expect(row?.status).toBe('failed');
    await db.query(`UPDATE webhook_events SET attempts = $2, next_attempt_at = now() - interval '1 second' WHERE id = $1`, [
      row?.id,
      DEFAULT_RETRY_POLICY.maxAttempts - 1,
    ]);
    const cron = await call(retryCron.GET, {
      path: '/api/cron/retry-webhooks',
      headers: { authorization: 'Bearer metrics-test-cron-secret' },
    });
    expect(cron.status).toBe(200);
    expect((await inboxRow(String(event.id)))?.status).toBe('dead');

    // A backlog: an event stored 20 minutes ago and not applied yet.
    const stored = await insertWebhookEventIfNew(db, {
      provider: 'stripe',
      providerEventId: `evt_backlog_${randomUUID().replaceAll('-', '')}`,
      eventType: 'customer.created',
      payload: { id: 'evt_backlog', type: 'customer.created', data: { object: {} } },
    });
    // Failed, next attempt tomorrow: no retry cron of another test file applies it meanwhile.
    await db.query(
      `UPDATE webhook_events SET received_at = now() - interval '20 minutes', status = 'failed', attempts = 1,
         last_error = 'test backlog', next_attempt_at = now() + interval '1 day' WHERE id = $1`,
      [stored?.id],
    );

    const after = await metrics().finally(async () => {
      // Applied (nobody handles customer.created): the backlog does not outlive this test.
      await db.query(`UPDATE webhook_events SET status = 'ignored', processed_at = now(), next_attempt_at = NULL WHERE id = $1`, [
        stored?.id,
      ]);
    });
    // Absolute figures: other test files replay their own dead events meanwhile (nobody touches these two).
    expect(after.webhooks.byStatus.dead).toBeGreaterThanOrEqual(1);
    expect(after.webhooks.byStatus.failed).toBeGreaterThanOrEqual(1);
    expect(after.webhooks.unprocessed).toBeGreaterThanOrEqual(1);
    expect(after.webhooks.oldestUnprocessedAgeSeconds).toBeGreaterThanOrEqual(20 * 60 - 5);
    expect(Date.parse(after.webhooks.oldestUnprocessedAt)).toBeLessThanOrEqual(Date.now() - 20 * 60 * 1000 + 5000);
  });

  it('separates live holds from expired holds the cron has not released yet', async () => {
    const live = await createPendingOrder({ quantity: 3 });
    const stale = await createPendingOrder({ quantity: 2 });
    await expireHoldNow(stale.order.id, 600);
    // Other test files run the expire-holds cron, which skips locked rows: keep the stale order locked while reading.
    const after = await transaction(async (tx) => {
      await tx.query('SELECT id FROM orders WHERE id = ANY($1) FOR UPDATE', [[live.order.id, stale.order.id]]);
      return await metrics();
    });
    expect(after.holds.live.orders).toBeGreaterThanOrEqual(1);
    expect(after.holds.live.tickets).toBeGreaterThanOrEqual(3);
    expect(after.holds.expiredUnreleased.orders).toBeGreaterThanOrEqual(1);
    expect(after.holds.expiredUnreleased.tickets).toBeGreaterThanOrEqual(2);
    expect(Date.parse(after.holds.expiredUnreleased.oldestExpiredAt)).toBeLessThanOrEqual(Date.now() - 600_000 + 5000);
  });

  it('shows the email outbox by status with the oldest due message', async () => {
    const before = await metrics();
    const p = await createPendingOrder();
    const cause = `metrics-test-${randomUUID()}`;
    const queued = await db.queryOne<{ id: string }>(
      `INSERT INTO outbox_messages (order_id, kind, cause, recipient, next_attempt_at)
       VALUES ($1, 'order_confirmation', $2, 'ops-metrics@example.test', now() - interval '30 minutes') RETURNING id`,
      [p.order.id, `${cause}-queued`],
    );
    const dead = await db.queryOne<{ id: string }>(
      `INSERT INTO outbox_messages (order_id, kind, cause, recipient, status, attempts, dead_at, last_error)
       VALUES ($1, 'order_confirmation', $2, 'ops-metrics@example.test', 'dead', 8, now(), 'test: gave up') RETURNING id`,
      [p.order.id, `${cause}-dead`],
    );
    // Other test files run the delivery cron (it skips locked rows): keep the queued one locked while reading.
    const after = await transaction(async (tx) => {
      await tx.query('SELECT id FROM outbox_messages WHERE id = ANY($1) FOR UPDATE', [[queued?.id, dead?.id]]);
      return await metrics();
    }).finally(async () => {
      // Out of the way of every other test: the queued one is marked dead, never delivered.
      await db.query(`UPDATE outbox_messages SET status = 'dead', dead_at = now() WHERE id = $1`, [queued?.id]);
    });
    expect(after.outbox.byStatus.dead - before.outbox.byStatus.dead).toBeGreaterThanOrEqual(1);
    expect(after.outbox.byStatus.pending).toBeGreaterThanOrEqual(1);
    expect(after.outbox.due).toBeGreaterThanOrEqual(1);
    expect(after.outbox.oldestDueAgeSeconds).toBeGreaterThanOrEqual(30 * 60 - 5);
    expect(Date.parse(after.outbox.oldestDueAt)).toBeLessThanOrEqual(Date.now() - 30 * 60 * 1000 + 5000);
    const total = (body: typeof after) =>
      Object.values(body.outbox.byStatus as Record<string, number>).reduce((sum, n) => sum + n, 0);
    expect(total(after) - total(before)).toBeGreaterThanOrEqual(2);
  });

  it('reports connections by state, pg_stat_statements or why not, index usage and table sizes', async () => {
    const body = await metrics();
    expect(body.database.connections.total).toBeGreaterThanOrEqual(1);
    expect(body.database.connections.byState.map((s: { state: string }) => s.state)).toContain('active');
    expect(body.database.connections.maxConnections).toBeGreaterThan(0);
    const installed = await db.queryOne<{ installed: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements') AS installed`,
    );
    if (installed?.installed) expect(body.database.slowStatements.available).toBe(true);
    else expect(body.database.slowStatements).toEqual({ available: false, reason: expect.stringContaining('not installed') });
    expect(body.database.tableSizes.map((t: { table: string }) => t.table)).toEqual(
      expect.arrayContaining(['orders', 'payments', 'webhook_events']),
    );
    expect(body.database.indexUsage.map((i: { index: string }) => i.index)).toContain('orders_live_holds_idx');
  });
});
