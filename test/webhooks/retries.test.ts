import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET as listEvents } from '../../api/admin/webhook-events.js';
import { GET as showEvent } from '../../api/admin/webhook-events/[id].js';
import { POST as replayEvent } from '../../api/admin/webhook-events/[id]/replay.js';
import { GET as retryCron } from '../../api/cron/retry-webhooks.js';
import { createApiKey } from '../../lib/auth/api-keys.js';
import { resetConfigForTests } from '../../lib/config.js';
import { db } from '../../lib/db/client.js';
import { listAuditForEntity } from '../../lib/db/models/audit-log.js';
import { insertWebhookEventIfNew } from '../../lib/db/models/webhook-events.js';
import { backoffSeconds, DEFAULT_RETRY_POLICY } from '../../lib/webhooks/inbox.js';
import { call } from '../support/http.js';
import {
  createPendingOrder,
  deliverStripe,
  inboxRow,
  orderState,
  paidSessionFor,
  refundedChargeFor,
  refundFor,
  stripeEvent,
} from './support.js';
import { configureStripe } from '../support/providers.js';

/**
 * A processing failure: failed with the error and attempt count, retried by the cron with
 * exponential backoff, dead after the limit, then replayed by an admin once the cause is gone.
 * The failure is real: a refund whose payment has not been captured here yet.
 */

const CRON_SECRET = 'cron-secret-webhooks-test-0123456789';
let adminHeader: Record<string, string>;
let readOnlyHeader: Record<string, string>;

beforeAll(async () => {
  configureStripe();
  process.env.CRON_SECRET = CRON_SECRET;
  resetConfigForTests();
  const actor = { type: 'system' as const, id: 'webhooks-test' };
  const admin = await createApiKey(
    { name: 'webhooks admin test', scopes: ['webhooks:admin'], environment: 'test', rateLimitPerMinute: 100_000 },
    actor,
  );
  const other = await createApiKey(
    { name: 'orders reader test', scopes: ['orders:read'], environment: 'test', rateLimitPerMinute: 100_000 },
    actor,
  );
  adminHeader = { authorization: `Bearer ${admin.key}` };
  readOnlyHeader = { authorization: `Bearer ${other.key}` };
});

afterAll(() => {
  delete process.env.CRON_SECRET;
  resetConfigForTests();
});

const cron = () => call(retryCron, { path: '/api/cron/retry-webhooks', headers: { authorization: `Bearer ${CRON_SECRET}` } });

/** Lets time pass for one event only: its next attempt is now due. */
async function makeDue(eventRowId: string): Promise<void> {
  await db.query(`UPDATE webhook_events SET next_attempt_at = now() - interval '1 second' WHERE id = $1`, [eventRowId]);
}

describe('retry cron, dead letters and replay', () => {
  it('the cron refuses calls without the cron secret', async () => {
    expect((await call(retryCron, { path: '/api/cron/retry-webhooks' })).status).toBe(401);
    expect((await call(retryCron, { path: '/api/cron/retry-webhooks', headers: { authorization: 'Bearer nope' } })).status).toBe(
      401,
    );
  });

  it('backoff doubles from 60 s and is capped', () => {
    expect([1, 2, 3, 4].map((n) => backoffSeconds(n))).toEqual([60, 120, 240, 480]);
    expect(backoffSeconds(30)).toBe(DEFAULT_RETRY_POLICY.maxDelaySeconds);
  });

  it('failed → retried with backoff → dead after the limit → replayed by an admin → applied once', async () => {
    const p = await createPendingOrder();
    const total = p.order.totalCents;
    const refund = refundFor(p);
    const refundEvent = stripeEvent('charge.refunded', refundedChargeFor(p, [refund]));
    expect((await deliverStripe(refundEvent)).status).toBe(200);
    let row = await inboxRow(String(refundEvent.id));
    expect(row).toMatchObject({ status: 'failed', attempts: 1 });
    const id = row?.id ?? '';

    // Not due yet: the cron leaves it alone.
    expect((await cron()).status).toBe(200);
    expect(await inboxRow(String(refundEvent.id))).toMatchObject({ status: 'failed', attempts: 1 });

    for (let attempt = 2; attempt <= DEFAULT_RETRY_POLICY.maxAttempts; attempt++) {
      await makeDue(id);
      const before = Date.now();
      const response = await cron();
      const after = Date.now();
      expect(response.status).toBe(200);
      row = await inboxRow(String(refundEvent.id));
      expect(row?.attempts).toBe(attempt);
      if (attempt < DEFAULT_RETRY_POLICY.maxAttempts) {
        expect(row?.status).toBe('failed');
        const delay = backoffSeconds(attempt) * 1000;
        const next = row?.nextAttemptAt?.getTime() ?? 0;
        expect(next).toBeGreaterThanOrEqual(before + delay - 1000);
        expect(next).toBeLessThanOrEqual(after + delay + 1000);
      }
    }
    expect(row).toMatchObject({ status: 'dead', nextAttemptAt: null });
    expect(row?.lastError).toMatch(/NotYetApplicable/);
    // Dead events are not retried any more.
    await db.query(`UPDATE webhook_events SET next_attempt_at = now() - interval '1 second' WHERE id = $1`, [id]);
    await cron();
    expect(await inboxRow(String(refundEvent.id))).toMatchObject({ status: 'dead', attempts: DEFAULT_RETRY_POLICY.maxAttempts });

    // Admin list by status, show one (with payload, no stack traces).
    const listed = await call(listEvents, {
      path: '/api/admin/webhook-events',
      query: { status: 'dead', provider: 'stripe', limit: '200' },
      headers: adminHeader,
    });
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((e: { id: string }) => e.id)).toContain(id);
    expect(listed.body.data.every((e: { status: string }) => e.status === 'dead')).toBe(true);
    const shown = await call(showEvent, { path: `/api/admin/webhook-events/${id}`, query: { id }, headers: adminHeader });
    expect(shown.status).toBe(200);
    expect(shown.body.data).toMatchObject({ id, status: 'dead', eventType: 'charge.refunded', attempts: 12 });
    expect(shown.body.data.payload.id).toBe(refundEvent.id);
    expect(shown.body.data.lastError).not.toMatch(/\n\s+at /);

    // The cause goes away (the capture arrives), then the admin replays the dead event.
    const paid = paidSessionFor(p);
    await deliverStripe(stripeEvent('checkout.session.completed', paid));
    const replayed = await call(replayEvent, {
      method: 'POST',
      path: `/api/admin/webhook-events/${id}/replay`,
      query: { id },
      headers: adminHeader,
    });
    expect(replayed.status).toBe(200);
    expect(replayed.body).toMatchObject({ applied: true, data: { status: 'processed' } });
    const s = await orderState(p.order.id, p.ticketType.id);
    expect(s.order).toMatchObject({ status: 'refunded', refundedCents: total });
    expect(s.refunds).toHaveLength(1);
    expect(s.audit.map((a) => a.action)).toEqual(['payment_completed', 'provider_refund_recorded']);

    // Replaying a processed event changes nothing (the replay itself is audited on the event).
    const again = await call(replayEvent, {
      method: 'POST',
      path: `/api/admin/webhook-events/${id}/replay`,
      query: { id },
      headers: adminHeader,
    });
    expect(again.status).toBe(200);
    expect(again.body.data.status).toBe('processed');
    const unchanged = await orderState(p.order.id, p.ticketType.id);
    expect(unchanged.order).toEqual(s.order);
    expect(unchanged.payments).toEqual(s.payments);
    expect(unchanged.refunds).toEqual(s.refunds);
    expect(unchanged.audit).toHaveLength(s.audit.length);
    const replays = await listAuditForEntity(db, 'webhook_event', id);
    expect(replays.map((a) => [a.action, a.actorType])).toEqual([
      ['webhook_replayed', 'admin'],
      ['webhook_replayed', 'admin'],
    ]);
  }, 60_000);

  it('an event stored but never applied (the function died after the store) is applied by the cron', async () => {
    const p = await createPendingOrder();
    const event = stripeEvent('checkout.session.completed', paidSessionFor(p));
    const stored = await insertWebhookEventIfNew(db, {
      provider: 'stripe',
      providerEventId: String(event.id),
      eventType: String(event.type),
      payload: event,
    });
    // Within the grace period the cron leaves it to the delivery that is (maybe) still applying it.
    await cron();
    expect(await inboxRow(String(event.id))).toMatchObject({ status: 'received', attempts: 0 });
    await db.query(`UPDATE webhook_events SET received_at = now() - interval '5 minutes' WHERE id = $1`, [stored?.id]);
    expect((await cron()).status).toBe(200);
    expect(await inboxRow(String(event.id))).toMatchObject({ status: 'processed', attempts: 1 });
    const s = await orderState(p.order.id, p.ticketType.id);
    expect(s.order.status).toBe('completed');
    expect(s.audit.map((a) => [a.action, a.actorType])).toEqual([['payment_completed', 'cron']]);
  });

  it('admin endpoints need an API key with the webhooks:admin scope', async () => {
    const path = '/api/admin/webhook-events';
    expect((await call(listEvents, { path })).status).toBe(401);
    expect((await call(listEvents, { path, headers: { authorization: 'Bearer bf_live_nope' } })).status).toBe(401);
    expect((await call(listEvents, { path, headers: readOnlyHeader })).status).toBe(403);
    const missing = '00000000-0000-4000-8000-000000000000';
    expect((await call(showEvent, { path: `${path}/${missing}`, query: { id: missing }, headers: adminHeader })).status).toBe(
      404,
    );
    expect((await call(showEvent, { path: `${path}/x`, query: { id: 'x' }, headers: adminHeader })).status).toBe(404);
    expect(
      (
        await call(replayEvent, {
          method: 'POST',
          path: `${path}/${missing}/replay`,
          query: { id: missing },
          headers: readOnlyHeader,
        })
      ).status,
    ).toBe(403);
    expect((await call(listEvents, { path, query: { status: 'bogus' }, headers: adminHeader })).status).toBe(400);
  });

  it('lists page by page with a cursor', async () => {
    for (let i = 0; i < 3; i++) await deliverStripe(stripeEvent('customer.created', { id: `cus_${i}`, object: 'customer' }));
    const first = await call(listEvents, {
      path: '/api/admin/webhook-events',
      query: { status: 'ignored', limit: '2' },
      headers: adminHeader,
    });
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await call(listEvents, {
      path: '/api/admin/webhook-events',
      query: { status: 'ignored', limit: '2', cursor: first.body.nextCursor },
      headers: adminHeader,
    });
    expect(second.status).toBe(200);
    const firstIds = new Set(first.body.data.map((e: { id: string }) => e.id));
    expect(second.body.data.some((e: { id: string }) => firstIds.has(e.id))).toBe(false);
  });
});
