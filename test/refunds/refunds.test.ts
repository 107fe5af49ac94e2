import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as refundRoute from '../../api/payments/refund.js';
import { createCheckoutSession } from '../../lib/checkout/create-checkout-session.js';
import { checkoutSessionRequestSchema } from '../../lib/checkout/schemas.js';
import { getConfig } from '../../lib/config.js';
import { db } from '../../lib/db/client.js';
import { findOrderById } from '../../lib/db/models/orders.js';
import { listPaymentsForOrder } from '../../lib/db/models/payments.js';
import { listRefundsForOrder } from '../../lib/db/models/refunds.js';
import { checkUnconfirmedRefunds } from '../../lib/refunds/check-unconfirmed-refunds.js';
import type { StripeSandbox } from '../../sandbox/stripe-sandbox.js';
import { checkoutBody, createEventWithTicketTypes, ticketCounters } from '../support/factories.js';
import { call } from '../support/http.js';
import { makeKey, paidStripeOrder, type TestKey } from '../support/staff.js';
import { startStripeSandboxForApp } from '../support/providers.js';

let sandbox: StripeSandbox;
let staff: TestKey;

beforeAll(async () => {
  sandbox = await startStripeSandboxForApp();
  staff = await makeKey(['refunds:write', 'orders:read']);
});

afterAll(async () => {
  await sandbox.close();
});

function refund(
  body: Record<string, unknown>,
  options: { key?: TestKey; idempotencyKey?: string | null; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...(options.key ?? staff).header, ...options.headers };
  if (options.idempotencyKey !== null) headers['idempotency-key'] = options.idempotencyKey ?? randomUUID();
  return call(refundRoute.POST, { method: 'POST', path: '/api/payments/refund', headers, body });
}

const REASON = 'Customer cannot attend (box office request)';

describe('POST /api/payments/refund', () => {
  it('20 concurrent 10% refunds of a 100.00 order: exactly 10 succeed, the rest 422, never above captured (ours and the sandbox record)', async () => {
    const order = await paidStripeOrder(sandbox, { priceCents: 5_000, quantity: 2 });
    expect(order.totalCents).toBe(10_000);

    const answers = await Promise.all(
      Array.from({ length: 20 }, () => refund({ orderId: order.orderId, amountCents: 1_000, reason: REASON })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 422)).toHaveLength(10);
    for (const refused of answers.filter((a) => a.status === 422)) {
      expect(refused.body.error.code).toBe('REFUND_EXCEEDS_REFUNDABLE');
      expect(refused.body.error.details.refundableCents).toBe(0);
    }

    const after = await findOrderById(db, order.orderId);
    expect(after?.refundedCents).toBe(10_000);
    expect(after?.status).toBe('refunded');
    const [payment] = await listPaymentsForOrder(db, order.orderId);
    expect(payment?.refundedCents).toBe(10_000);
    expect(payment?.status).toBe('refunded');
    const rows = await listRefundsForOrder(db, order.orderId);
    expect(rows).toHaveLength(10);
    expect(rows.every((r) => r.status === 'succeeded' && r.providerRefundId?.startsWith('re_'))).toBe(true);
    expect(new Set(rows.map((r) => r.providerRefundId)).size).toBe(10);
    // The provider's own books agree.
    expect(sandbox.refundedAmount(order.paymentIntentId)).toBe(10_000);
    // And nothing more can go out.
    const more = await refund({ orderId: order.orderId, amountCents: 1, reason: REASON });
    expect(more.status).toBe(422);
    expect(more.body.error.code).toBe('REFUND_EXCEEDS_REFUNDABLE');
  });

  it('refunds what is left by default, releases the tickets when asked, and audits it with key id, IP and user agent', async () => {
    const order = await paidStripeOrder(sandbox, { priceCents: 4_000, quantity: 2 });
    const before = await ticketCounters(order.ticketTypeId);
    expect(before.sold).toBe(2);

    const partial = await refund({ orderId: order.orderId, amountCents: 3_000, reason: REASON });
    expect(partial.status).toBe(201);
    expect(partial.body.order).toMatchObject({ status: 'partially_refunded', refundedCents: 3_000, refundableCents: 5_000 });
    expect((await ticketCounters(order.ticketTypeId)).sold).toBe(2);

    const rest = await refund(
      { orderId: order.orderId, reason: `  ${REASON}  `, releaseTickets: true },
      { headers: { 'x-forwarded-for': '203.0.113.5', 'user-agent': 'BoxOffice/1.0' } },
    );
    expect(rest.status).toBe(201);
    expect(rest.body.refund).toMatchObject({
      amountCents: 5_000,
      status: 'succeeded',
      releaseTickets: true,
      releasedTickets: 2,
      reason: REASON,
    });
    expect(rest.body.order).toMatchObject({ status: 'refunded', refundedCents: 8_000, refundableCents: 0 });
    expect(await ticketCounters(order.ticketTypeId)).toMatchObject({ sold: 0, held: 0 });
    const items = await db.queryMany<{ status: string }>('SELECT status FROM order_items WHERE order_id = $1', [order.orderId]);
    expect(items.map((i) => i.status)).toEqual(['refunded', 'refunded']);
    expect(sandbox.refundedAmount(order.paymentIntentId)).toBe(8_000);

    const refundId: string = rest.body.refund.id;
    const audit = await db.queryMany<{ action: string; actorType: string; actorId: string; ip: string; userAgent: string }>(
      `SELECT action, actor_type AS "actorType", actor_id AS "actorId", ip, user_agent AS "userAgent" FROM payment_audit_log
       WHERE (entity_type = 'refund' AND entity_id = $1) OR (entity_type = 'order' AND entity_id = $2 AND new_values->>'refundId' = $1)
       ORDER BY id`,
      [refundId, order.orderId],
    );
    expect(audit.map((a) => a.action)).toEqual(['refund_requested', 'refund_succeeded', 'tickets_released']);
    for (const entry of audit) {
      expect(entry).toMatchObject({ actorType: 'admin', actorId: staff.id, ip: '203.0.113.5', userAgent: 'BoxOffice/1.0' });
    }
  });

  it('requires an Idempotency-Key, replays the same answer for the same key and refuses it for another body', async () => {
    const order = await paidStripeOrder(sandbox);
    const missing = await refund({ orderId: order.orderId, amountCents: 500, reason: REASON }, { idempotencyKey: null });
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('IDEMPOTENCY_KEY_REQUIRED');

    const key = randomUUID();
    const first = await refund({ orderId: order.orderId, amountCents: 500, reason: REASON }, { idempotencyKey: key });
    const again = await refund({ orderId: order.orderId, amountCents: 500, reason: REASON }, { idempotencyKey: key });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.refund.id).toBe(first.body.refund.id);
    const other = await refund({ orderId: order.orderId, amountCents: 600, reason: REASON }, { idempotencyKey: key });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await listRefundsForOrder(db, order.orderId)).toHaveLength(1);
    expect(sandbox.refundedAmount(order.paymentIntentId)).toBe(500);
  });

  it('answers 404 for an unknown order, 422 ORDER_NOT_PAID for an unpaid one, 422 above the refundable amount', async () => {
    const unknown = await refund({ orderId: randomUUID(), reason: REASON });
    expect(unknown.status).toBe(404);

    const { event } = await createEventWithTicketTypes({ ga: { priceCents: 2_500 } });
    const pending = await createCheckoutSession(
      checkoutSessionRequestSchema.parse(checkoutBody(event, [{ ticketType: 'ga', quantity: 1 }])),
      {
        actor: { type: 'buyer' },
      },
    );
    const unpaid = await refund({ orderId: pending.orderId, reason: REASON });
    expect(unpaid.status).toBe(422);
    expect(unpaid.body.error.code).toBe('ORDER_NOT_PAID');

    const order = await paidStripeOrder(sandbox, { priceCents: 1_000, quantity: 1 });
    const tooMuch = await refund({ orderId: order.orderId, amountCents: 1_001, reason: REASON });
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.error).toMatchObject({
      code: 'REFUND_EXCEEDS_REFUNDABLE',
      details: { refundableCents: 1_000, requestedCents: 1_001 },
    });
    expect(await listRefundsForOrder(db, order.orderId)).toHaveLength(0);
  });

  it('rejects server-owned fields (mass assignment) and short reasons with 400, writing nothing', async () => {
    const order = await paidStripeOrder(sandbox, { priceCents: 1_000, quantity: 1 });
    const bodies: Record<string, unknown>[] = [
      { orderId: order.orderId, reason: REASON, status: 'succeeded' },
      { orderId: order.orderId, reason: REASON, amount: 100 },
      { orderId: order.orderId, reason: REASON, refundedCents: 0 },
      { orderId: order.orderId, reason: REASON, refunded: true },
      { orderId: order.orderId, reason: REASON, providerRefundId: 're_fake' },
      { orderId: order.orderId, reason: REASON, source: 'provider' },
      { orderId: order.orderId, reason: 'too short ' },
      { orderId: order.orderId, reason: '          x          ' },
      { orderId: order.orderId, reason: REASON, amountCents: 0 },
      { orderId: order.orderId, reason: REASON, amountCents: 10.5 },
      { orderId: order.orderId, reason: REASON, amountCents: '500' },
      { orderId: 'not-a-uuid', reason: REASON },
    ];
    for (const body of bodies) {
      const res = await refund(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
    expect(await listRefundsForOrder(db, order.orderId)).toHaveLength(0);
    expect(sandbox.refundedAmount(order.paymentIntentId)).toBe(0);
  });

  it('a read-only key cannot refund (403) and nothing is written', async () => {
    const order = await paidStripeOrder(sandbox, { priceCents: 1_000, quantity: 1 });
    const reader = await makeKey(['orders:read', 'payments:read']);
    const res = await refund({ orderId: order.orderId, reason: REASON }, { key: reader });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
    expect(await listRefundsForOrder(db, order.orderId)).toHaveLength(0);
  });

  it('a provider refusal marks the refund failed, counts nothing and answers 502; an unanswered one stays pending (202) until checked', async () => {
    const order = await paidStripeOrder(sandbox, { priceCents: 2_000, quantity: 1 });
    sandbox.failNext({ match: 'POST /v1/refunds', kind: 'error', status: 402, code: 'insufficient_funds' });
    const refused = await refund({ orderId: order.orderId, amountCents: 700, reason: REASON });
    expect(refused.status).toBe(502);
    expect(refused.body.error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(refused.text).not.toMatch(/sk_test|stack/i);
    let rows = await listRefundsForOrder(db, order.orderId);
    expect(rows.map((r) => r.status)).toEqual(['failed']);
    expect(rows[0]?.failureReason).toBeTruthy();
    // A 4xx is a certain refusal: not marked as unconfirmed, so no later report can revive it.
    expect(rows[0]?.failureReason).not.toMatch(/^unconfirmed: /);
    expect((await findOrderById(db, order.orderId))?.refundedCents).toBe(0);
    expect(sandbox.refundedAmount(order.paymentIntentId)).toBe(0);

    // Provider down for longer than the SDK's own retries (issue 18: the outcome of a 5xx is unknown).
    const attempts = getConfig().timeBudget.stripe.refund.maxNetworkRetries + 1;
    sandbox.failNext({ match: 'POST /v1/refunds', kind: 'error', status: 500, times: attempts });
    const down = await refund({ orderId: order.orderId, amountCents: 700, reason: REASON });
    // Unanswered: the provider may have made it. Pending, amount reserved, staff told it is being checked.
    expect(down.status).toBe(202);
    expect(down.body.refund).toMatchObject({ status: 'pending', confirmation: 'unconfirmed' });
    expect(down.text).not.toMatch(/nothing was refunded/i);
    expect((await listRefundsForOrder(db, order.orderId))[1]?.status).toBe('pending');

    const ok = await refund({ orderId: order.orderId, reason: REASON });
    expect(ok.status).toBe(201);
    expect(ok.body.refund.amountCents).toBe(1_300);
    rows = await listRefundsForOrder(db, order.orderId);
    expect(rows.map((r) => r.status)).toEqual(['failed', 'pending', 'succeeded']);

    // The refund check asks Stripe again with the same key (the 500s made nothing): made once, settled.
    await db.query(`UPDATE refunds SET next_check_at = now() - interval '1 second' WHERE id = $1`, [down.body.refund.id]);
    expect(
      await checkUnconfirmedRefunds({ actor: { type: 'cron', id: 'test' }, onlyRefundIds: [down.body.refund.id] }),
    ).toMatchObject({ succeeded: 1 });
    rows = await listRefundsForOrder(db, order.orderId);
    expect(rows.map((r) => r.status)).toEqual(['failed', 'succeeded', 'succeeded']);
    expect(sandbox.refundedAmount(order.paymentIntentId)).toBe(2_000);
    expect((await findOrderById(db, order.orderId))?.status).toBe('refunded');
  });
});
