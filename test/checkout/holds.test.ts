import { describe, expect, it } from 'vitest';
import * as cron from '../../api/cron/expire-holds.js';
import * as checkout from '../../api/payments/checkout-session.js';
import * as tickets from '../../api/tickets.js';
import { resetConfigForTests } from '../../lib/config.js';
import { db } from '../../lib/db/client.js';
import { listAuditForEntity } from '../../lib/db/models/audit-log.js';
import { findOrderById } from '../../lib/db/models/orders.js';
import { listPaymentsForOrder } from '../../lib/db/models/payments.js';
import { finalizeOrderPayment } from '../../lib/payments/finalize-order.js';
import { checkoutBody, createEventWithTicketTypes, expireHoldNow, ticketCounters } from '../support/factories.js';
import { call } from '../support/http.js';
import { useProviderSandboxes } from '../support/providers.js';

const CRON_SECRET = 'cron-secret-for-tests-0123456789';
const providers = useProviderSandboxes({ CRON_SECRET });

async function buy(event: { slug: string }, ticketType: string, quantity = 1, provider = 'stripe') {
  const res = await call(checkout.POST, { method: 'POST', body: checkoutBody(event, [{ ticketType, quantity }], { provider }) });
  return res;
}

const runCron = (authorization?: string) =>
  call(cron.GET, { path: '/api/cron/expire-holds', headers: authorization ? { authorization } : {} });

describe('an expired hold never blocks a sale', () => {
  it('checkout reclaims the expired holds of the sold-out type and sells (cron not run)', async () => {
    const { event, types } = await createEventWithTicketTypes({ pass: { capacity: 2 } });
    const first = await buy(event, 'pass', 2);
    expect(first.status).toBe(201);
    expect((await buy(event, 'pass', 1)).status).toBe(409);

    await expireHoldNow(first.body.orderId);
    const second = await buy(event, 'pass', 1);
    expect(second.status).toBe(201);

    const expired = await findOrderById(db, first.body.orderId);
    expect(expired?.status).toBe('expired');
    const [payment] = await listPaymentsForOrder(db, first.body.orderId);
    expect(payment?.status).toBe('expired');
    const audit = await listAuditForEntity(db, 'order', first.body.orderId);
    expect(audit.map((a) => a.action)).toEqual(['checkout_started', 'hold_expired']);
    expect(audit[1]).toMatchObject({ actorType: 'system', reason: 'expired hold reclaimed by checkout' });
    expect(await ticketCounters(types.pass.id)).toMatchObject({ held: 1, sold: 0 });
  });

  it('a live hold is not reclaimed: still SOLD_OUT', async () => {
    const { event, types } = await createEventWithTicketTypes({ pass: { capacity: 1 } });
    const first = await buy(event, 'pass');
    expect(first.status).toBe(201);
    const second = await buy(event, 'pass');
    expect(second.status).toBe(409);
    expect((await findOrderById(db, first.body.orderId))?.status).toBe('pending');
    expect(await ticketCounters(types.pass.id)).toMatchObject({ held: 1 });
  });

  it('the catalogue counts only live holds', async () => {
    const { event } = await createEventWithTicketTypes({ pass: { capacity: 5 } });
    const a = await buy(event, 'pass', 2);
    await buy(event, 'pass', 1);
    const catalog = async () =>
      (await call(tickets.GET, { query: { event: event.slug } })).body.ticketTypes.find((t: any) => t.code === 'pass').available;
    expect(await catalog()).toBe(2);
    await expireHoldNow(a.body.orderId);
    expect(await catalog()).toBe(4);
  });
});

describe('GET /api/cron/expire-holds', () => {
  it('needs the cron secret', async () => {
    expect((await runCron()).status).toBe(401);
    expect((await runCron('Bearer wrong-secret')).status).toBe(401);
  });

  it('expires pending orders past their hold, releases tickets, audits, and expires the Stripe session', async () => {
    const { event, types } = await createEventWithTicketTypes({ pass: { capacity: 10 }, other: { capacity: 10 } });
    const due = await buy(event, 'pass', 3);
    const alsoDue = await buy(event, 'other', 2, 'paypal');
    const live = await buy(event, 'pass', 1);
    await expireHoldNow(due.body.orderId);
    await expireHoldNow(alsoDue.body.orderId);
    const [duePayment] = await listPaymentsForOrder(db, due.body.orderId);

    const res = await runCron(`Bearer ${CRON_SECRET}`);
    expect(res.status).toBe(200);
    expect(res.body.expiredOrders).toBeGreaterThanOrEqual(2);
    expect(res.body.stripeSessionsExpired).toBeGreaterThanOrEqual(1);

    expect((await findOrderById(db, due.body.orderId))?.status).toBe('expired');
    expect((await findOrderById(db, alsoDue.body.orderId))?.status).toBe('expired');
    expect((await findOrderById(db, live.body.orderId))?.status).toBe('pending');
    expect(await ticketCounters(types.pass.id)).toMatchObject({ held: 1 });
    expect(await ticketCounters(types.other.id)).toMatchObject({ held: 0 });
    const audit = await listAuditForEntity(db, 'order', due.body.orderId);
    expect(audit.at(-1)).toMatchObject({ action: 'hold_expired', actorType: 'cron', newValues: { status: 'expired' } });

    // The Stripe session was expired at the sandbox, with a deterministic idempotency key.
    expect(providers.stripe.getSession(duePayment?.providerSessionId ?? '')?.status).toBe('expired');
    const expireCall = providers.stripe.requests.find(
      (r) => r.path === `/v1/checkout/sessions/${duePayment?.providerSessionId}/expire`,
    );
    expect(expireCall?.headers['idempotency-key']).toBe(`expire-${due.body.orderId}`);

    // Running it again changes nothing.
    const again = await runCron(`Bearer ${CRON_SECRET}`);
    expect(again.status).toBe(200);
    expect(await ticketCounters(types.pass.id)).toMatchObject({ held: 1 });
    expect((await listAuditForEntity(db, 'order', due.body.orderId)).filter((a) => a.action === 'hold_expired')).toHaveLength(1);
  });

  it('tolerates a Stripe session that is already expired or complete', async () => {
    const { event } = await createEventWithTicketTypes({ pass: { capacity: 10 } });
    const a = await buy(event, 'pass');
    const [payment] = await listPaymentsForOrder(db, a.body.orderId);
    await providers.stripe.expireSession(payment?.providerSessionId ?? '');
    await expireHoldNow(a.body.orderId);
    const res = await runCron(`Bearer ${CRON_SECRET}`);
    expect(res.status).toBe(200);
    expect(res.body.stripeSessionErrors).toBe(0);
    expect(res.body.stripeSessionsAlreadyClosed).toBeGreaterThanOrEqual(1);
    expect((await findOrderById(db, a.body.orderId))?.status).toBe('expired');
  });

  it('a late payment for an expired order re-takes its tickets (items stay active on expiry)', async () => {
    const { event, types } = await createEventWithTicketTypes({ pass: { capacity: 10, priceCents: 5000 } });
    const a = await buy(event, 'pass', 2);
    await expireHoldNow(a.body.orderId);
    await runCron(`Bearer ${CRON_SECRET}`);
    expect(await ticketCounters(types.pass.id)).toMatchObject({ held: 0, sold: 0 });
    const result = await finalizeOrderPayment({
      orderId: a.body.orderId,
      provider: 'stripe',
      providerPaymentId: `pi_late_${a.body.orderId.slice(0, 8)}`,
      amountCents: 10_000,
      currency: 'USD',
      actor: { type: 'provider' },
    });
    expect(result).toMatchObject({ outcome: 'completed', late: true });
    expect(await ticketCounters(types.pass.id)).toMatchObject({ held: 0, sold: 2 });
  });

  it('deletes expired idempotency keys', async () => {
    await db.query(
      `INSERT INTO idempotency_keys (scope, key, request_hash, status, created_at, expires_at)
       VALUES ('test-cron', 'old-key', repeat('a', 64), 'in_progress', now() - interval '3 days', now() - interval '2 days')`,
    );
    const res = await runCron(`Bearer ${CRON_SECRET}`);
    expect(res.body.idempotencyKeysDeleted).toBeGreaterThanOrEqual(1);
    expect(await db.queryOne(`SELECT 1 FROM idempotency_keys WHERE scope = 'test-cron'`)).toBeUndefined();
  });

  it('without a configured CRON_SECRET nothing gets in', async () => {
    delete process.env.CRON_SECRET;
    resetConfigForTests();
    try {
      expect((await runCron('Bearer ')).status).toBe(401);
      expect((await runCron(`Bearer ${CRON_SECRET}`)).status).toBe(401);
    } finally {
      process.env.CRON_SECRET = CRON_SECRET;
      resetConfigForTests();
    }
  });
});
