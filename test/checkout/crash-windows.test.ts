import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import * as expireHoldsCron from '../../api/cron/expire-holds.js';
import * as checkout from '../../api/payments/checkout-session.js';
import { checkoutSessionRequestSchema } from '../../lib/checkout/schemas.js';
import { getConfig } from '../../lib/config.js';
import { db } from '../../lib/db/client.js';
import { listAuditForEntity } from '../../lib/db/models/audit-log.js';
import { claimIdempotencyKey } from '../../lib/db/models/idempotency-keys.js';
import { hashRequest, idempotencyKeyHash } from '../../lib/http/idempotency.js';
import { armCrashPointForTests, disarmCrashPointsForTests } from '../../lib/testing/crash-points.js';
import { checkoutBody, createEventWithTicketTypes, eventFootprint, ticketCounters } from '../support/factories.js';
import { call } from '../support/http.js';
import { useProviderSandboxes } from '../support/providers.js';

/**
 * Issue 18, "Crash windows" (Must show 7): a forced throw at the step boundary (unsafeCrashPointForTests,
 * inert outside NODE_ENV=test) stands for the function dying there. The books end right at once, not
 * after a day-long (or 31-minute) wait. Checkout's windows here; the webhook's in test/webhooks/crash-windows.test.ts,
 * the crash points themselves in test/testing/crash-points.test.ts.
 */

const CRON_SECRET = 'cron-secret-crash-windows';
const SCOPE = 'POST /api/payments/checkout-session';
const providers = useProviderSandboxes({ CRON_SECRET });

afterEach(() => disarmCrashPointsForTests());

const post = (body: unknown, key?: string) =>
  call(checkout.POST, { method: 'POST', body, headers: key ? { 'idempotency-key': key } : {} });

async function liveOrders(eventId: string) {
  return await db.queryMany<{ id: string; status: string; sessionId: string | null }>(
    `SELECT o.id, o.status, p.provider_session_id AS "sessionId" FROM orders o JOIN payments p ON p.order_id = o.id
     WHERE o.event_id = $1 ORDER BY o.created_at`,
    [eventId],
  );
}

/** Time passes for an order: its request started `seconds` ago. */
async function ageOrder(orderId: string, seconds: number): Promise<void> {
  await db.query(`UPDATE orders SET created_at = now() - make_interval(secs => $2) WHERE id = $1`, [orderId, seconds]);
}

describe('crash between the hold and the provider call', () => {
  it('the retry with the same Idempotency-Key (claim left by the dead request) takes over once the function limit is past, releases the orphan and checks out once', async () => {
    const { event, types } = await createEventWithTicketTypes({ pass: { capacity: 10 } });
    const body = checkoutBody(event, [{ ticketType: 'pass', quantity: 3 }]);
    const key = `crash-${randomUUID()}`;

    armCrashPointForTests('checkout.after-hold');
    const crashed = await post(body, key);
    expect(crashed.status).toBe(500); // the platform's answer when the function dies
    const [orphan] = await liveOrders(event.id);
    expect(orphan).toMatchObject({ status: 'pending', sessionId: null });
    expect(await ticketCounters(types.pass.id)).toMatchObject({ held: 3 });
    // Died before the provider call: no session was ever asked for.
    const sessionCalls = (orderId: string) =>
      providers.stripe.requests.filter(
        (r: { headers: Record<string, string> }) => r.headers['idempotency-key'] === `checkout-${orderId}`,
      ).length;
    expect(sessionCalls(orphan?.id ?? '')).toBe(0);

    // A killed function never releases its idempotency claim: put it back as the dead request left it,
    // locked longer ago than the function's limit + margin (15 s; it used to take 120 s, then a second order).
    const keyHash = idempotencyKeyHash(SCOPE, key);
    const claim = await claimIdempotencyKey(db, {
      scope: SCOPE,
      keyHash,
      requestHash: hashRequest(checkoutSessionRequestSchema.parse(body)),
      staleAfterSeconds: 3600,
    });
    expect(claim?.status).toBe('in_progress');
    const staleAfter = getConfig().timeBudget.deadRequestAfterMs / 1000;
    expect(staleAfter).toBeLessThan(120);
    await db.query(`UPDATE idempotency_keys SET locked_at = now() - make_interval(secs => $3) WHERE scope = $1 AND key = $2`, [
      SCOPE,
      keyHash,
      staleAfter + 1,
    ]);

    const retried = await post(body, key);
    expect(retried.status).toBe(201);
    expect(retried.body.checkoutUrl).toEqual(expect.any(String));

    const orders = await liveOrders(event.id);
    expect(orders).toHaveLength(2);
    expect(orders.find((o) => o.id === orphan?.id)).toMatchObject({ status: 'expired' });
    expect(orders.find((o) => o.id === retried.body.orderId)).toMatchObject({ status: 'pending', sessionId: expect.any(String) });
    // One live hold: the orphan's tickets went back before the retry took its own.
    expect(await ticketCounters(types.pass.id)).toMatchObject({ held: 3, sold: 0 });
    const audit = await listAuditForEntity(db, 'order', orphan?.id ?? '');
    expect(audit.map((a) => a.action)).toEqual(['checkout_started', 'hold_expired']);
    expect(audit[1]?.reason).toMatch(/^checkout_recovered/);

    // And the answer is now stored: a further retry replays it, nothing new.
    const again = await post(body, key);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(retried.body);
    expect(await eventFootprint(event.id)).toMatchObject({ orders: 2, payments: 2 });
  });

  it('the hold cron releases an orphan with no provider session once its request is over, not at hold expiry', async () => {
    const { event, types } = await createEventWithTicketTypes({ pass: { capacity: 10 } });
    armCrashPointForTests('checkout.after-hold');
    expect((await post(checkoutBody(event, [{ ticketType: 'pass', quantity: 4 }]))).status).toBe(500);
    const [orphan] = await liveOrders(event.id);
    expect(await ticketCounters(types.pass.id)).toMatchObject({ held: 4 });

    const cron = () =>
      call(expireHoldsCron.GET, { path: '/api/cron/expire-holds', headers: { authorization: `Bearer ${CRON_SECRET}` } });
    // Still within its request's time: it might be running; left alone.
    expect((await cron()).status).toBe(200);
    expect((await liveOrders(event.id))[0]?.status).toBe('pending');

    await ageOrder(orphan?.id ?? '', getConfig().timeBudget.deadRequestAfterMs / 1000 + 1);
    const run = await cron();
    expect(run.body.abandonedCheckoutsReleased).toBeGreaterThanOrEqual(1);
    expect((await liveOrders(event.id))[0]?.status).toBe('expired');
    expect(await ticketCounters(types.pass.id)).toMatchObject({ held: 0, sold: 0 });
    const audit = await listAuditForEntity(db, 'order', orphan?.id ?? '');
    expect(audit.at(-1)?.reason).toMatch(/^checkout_abandoned/);

    // A normal checkout (with its session) of the same age is not touched by that sweep.
    const ok = await post(checkoutBody(event, [{ ticketType: 'pass', quantity: 1 }]));
    expect(ok.status).toBe(201);
    await ageOrder(ok.body.orderId, 600);
    await cron();
    expect((await liveOrders(event.id)).find((o) => o.id === ok.body.orderId)?.status).toBe('pending');
    expect(await ticketCounters(types.pass.id)).toMatchObject({ held: 1 });
  });
});
