import { describe, expect, it } from 'vitest';
import * as cancel from '../../api/orders/[id]/cancel.js';
import * as order from '../../api/orders/[id].js';
import * as checkout from '../../api/payments/checkout-session.js';
import { db } from '../../lib/db/client.js';
import { listAuditForEntity } from '../../lib/db/models/audit-log.js';
import { listPaymentsForOrder } from '../../lib/db/models/payments.js';
import type { TicketType } from '../../lib/db/models/ticket-types.js';
import { TEST_STRIPE_WEBHOOK_SECRET, useProviderSandboxes } from '../support/providers.js';
import { checkoutBody, createEventWithTicketTypes, ticketCounters } from '../support/factories.js';
import { call } from '../support/http.js';
import { deliverStripe } from '../webhooks/support.js';

/** POST /api/orders/{id}/cancel: the buyer gives an unpaid order's tickets back. */

const providers = useProviderSandboxes({ STRIPE_WEBHOOK_SECRET: TEST_STRIPE_WEBHOOK_SECRET });

interface Placed {
  orderId: string;
  accessToken: string;
  orderNumber: string;
  totalCents: number;
  type: TicketType;
}

async function placeOrder(provider: 'stripe' | 'paypal' = 'stripe', quantity = 2, type?: TicketType): Promise<Placed> {
  const ticketType =
    type ?? (await createEventWithTicketTypes({ pass: { name: 'Weekend Pass', priceCents: 6500, capacity: 10 } })).types.pass;
  const event = await db.queryOne<{ slug: string }>('SELECT slug FROM events WHERE id = $1', [ticketType.eventId]);
  if (!event) throw new Error('event missing');
  const res = await call(checkout.POST, {
    method: 'POST',
    body: checkoutBody(event, [{ ticketType: ticketType.code, quantity }], { provider }),
  });
  expect(res.status).toBe(201);
  return { ...(res.body as Omit<Placed, 'type'>), type: ticketType };
}

const cancelCall = (id: string, token?: string) =>
  call(cancel.POST, {
    method: 'POST',
    path: `/api/orders/${id}/cancel`,
    query: { id },
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });

const lookup = (id: string, token: string) =>
  call(order.GET, { path: `/api/orders/${id}`, query: { id }, headers: { authorization: `Bearer ${token}` } });

async function sessionIdOf(orderId: string): Promise<string> {
  const [payment] = await listPaymentsForOrder(db, orderId);
  if (!payment?.providerSessionId) throw new Error('no provider session');
  return payment.providerSessionId;
}

describe('POST /api/orders/{id}/cancel', () => {
  it('pending → cancelled: the hold goes back at once, the payment is cancelled, audited, the Stripe session expired', async () => {
    const placed = await placeOrder('stripe', 3);
    expect(await ticketCounters(placed.type.id)).toMatchObject({ held: 3, sold: 0 });
    const res = await cancelCall(placed.orderId, placed.accessToken);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    expect(res.body).toMatchObject({ orderId: placed.orderId, status: 'cancelled', checkoutUrl: null, holdExpiresAt: null });
    expect(await ticketCounters(placed.type.id)).toMatchObject({ held: 0, sold: 0 });
    const payments = await listPaymentsForOrder(db, placed.orderId);
    expect(payments.map((p) => p.status)).toEqual(['cancelled']);
    const audit = await listAuditForEntity(db, 'order', placed.orderId);
    const entry = audit.find((a) => a.action === 'order_cancelled');
    expect(entry).toMatchObject({ actorType: 'buyer', oldValues: { status: 'pending' }, newValues: { status: 'cancelled' } });
    expect(entry?.newValues?.released).toEqual([{ ticketTypeId: placed.type.id, quantity: 3 }]);
    // Outside the transaction: the Stripe session can no longer be paid.
    expect(providers.stripe.getSession(await sessionIdOf(placed.orderId))?.status).toBe('expired');
    // The catalog counts them as available again.
    expect((await lookup(placed.orderId, placed.accessToken)).body.status).toBe('cancelled');
  });

  it('a repeat answers the same and writes nothing more', async () => {
    const placed = await placeOrder();
    const first = await cancelCall(placed.orderId, placed.accessToken);
    const auditBefore = await listAuditForEntity(db, 'order', placed.orderId);
    const second = await cancelCall(placed.orderId, placed.accessToken);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(await listAuditForEntity(db, 'order', placed.orderId)).toHaveLength(auditBefore.length);
    expect(await ticketCounters(placed.type.id)).toMatchObject({ held: 0, sold: 0 });
  });

  it('PayPal: cancelled and the tickets back; the PayPal order is left to lapse (cannot be captured for us)', async () => {
    const placed = await placeOrder('paypal', 1);
    const res = await cancelCall(placed.orderId, placed.accessToken);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'cancelled', provider: 'paypal' });
    expect(await ticketCounters(placed.type.id)).toMatchObject({ held: 0, sold: 0 });
  });

  it('a paid order → 409 ORDER_NOT_CANCELLABLE and nothing changes', async () => {
    const placed = await placeOrder('stripe', 2);
    const paid = await providers.stripe.pay(await sessionIdOf(placed.orderId), '4242424242424242');
    if (paid.outcome !== 'succeeded') throw new Error(`sandbox payment ${paid.outcome}`);
    expect((await deliverStripe(paid.event)).status).toBe(200);
    expect(await ticketCounters(placed.type.id)).toMatchObject({ held: 0, sold: 2 });
    const auditBefore = await listAuditForEntity(db, 'order', placed.orderId);
    const res = await cancelCall(placed.orderId, placed.accessToken);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'ORDER_NOT_CANCELLABLE' });
    expect(typeof res.body.error.requestId).toBe('string');
    expect((await lookup(placed.orderId, placed.accessToken)).body.status).toBe('completed');
    expect(await ticketCounters(placed.type.id)).toMatchObject({ held: 0, sold: 2 });
    expect(await listAuditForEntity(db, 'order', placed.orderId)).toHaveLength(auditBefore.length);
  });

  it('a processing order (payment in flight) → 409 ORDER_NOT_CANCELLABLE, the hold stays', async () => {
    const placed = await placeOrder('stripe', 1);
    await db.query(`UPDATE orders SET status = 'processing' WHERE id = $1`, [placed.orderId]);
    const res = await cancelCall(placed.orderId, placed.accessToken);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('ORDER_NOT_CANCELLABLE');
    expect(await ticketCounters(placed.type.id)).toMatchObject({ held: 1 });
  });

  it('no token, a wrong token, another order’s token, a malformed or unknown id → the same 404, nothing changes', async () => {
    const placed = await placeOrder();
    const other = await placeOrder();
    const answers = await Promise.all([
      cancelCall(placed.orderId),
      cancelCall(placed.orderId, 'x'.repeat(43)),
      cancelCall(placed.orderId, other.accessToken),
      cancelCall('not-a-uuid', placed.accessToken),
      cancelCall('00000000-0000-4000-8000-000000000000', placed.accessToken),
    ]);
    for (const res of answers) {
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({ code: 'NOT_FOUND', message: 'No such order' });
    }
    expect((await lookup(placed.orderId, placed.accessToken)).body.status).toBe('pending');
    expect((await lookup(other.orderId, other.accessToken)).body.status).toBe('pending');
    expect(await ticketCounters(placed.type.id)).toMatchObject({ held: 2 });
  });

  it('a cancel racing the payment webhook: exactly one wins, and the books agree', async () => {
    const outcomes = { cancelWon: 0, paymentWon: 0 };
    for (let round = 0; round < 8; round++) {
      const placed = await placeOrder('stripe', 2);
      // The buyer paid at Stripe; the webhook and the buyer's cancel arrive at the same moment.
      const paid = await providers.stripe.pay(await sessionIdOf(placed.orderId), '4242424242424242');
      if (paid.outcome !== 'succeeded') throw new Error(`sandbox payment ${paid.outcome}`);
      const [cancelled, webhook] = await Promise.all([cancelCall(placed.orderId, placed.accessToken), deliverStripe(paid.event)]);
      expect(webhook.status).toBe(200);
      // In the order the rows were written (id), i.e. the order the row lock let them through; created_at is
      // each transaction's start, and the loser's transaction may have started first and waited.
      const audit = (
        await db.queryMany<{ action: string }>(
          `SELECT action FROM payment_audit_log WHERE entity_type = 'order' AND entity_id = $1 ORDER BY id`,
          [placed.orderId],
        )
      ).map((a) => a.action);
      if (cancelled.status === 200) {
        // The cancel changed the order first; the money that then arrived is a late payment, sold on
        // capacity that was there (tickets given back a moment ago).
        outcomes.cancelWon += 1;
        expect(cancelled.body.status).toBe('cancelled');
        expect(audit).toContain('order_cancelled');
        expect(audit).toContain('late_payment_completed');
        expect(audit.indexOf('order_cancelled')).toBeLessThan(audit.indexOf('late_payment_completed'));
      } else {
        outcomes.paymentWon += 1;
        expect(cancelled.status).toBe(409);
        expect(cancelled.body.error.code).toBe('ORDER_NOT_CANCELLABLE');
        expect(audit).not.toContain('order_cancelled');
        expect(audit).toContain('payment_completed');
      }
      // Either way the books agree: the money is captured once, the tickets sold once, no hold left.
      const view = (await lookup(placed.orderId, placed.accessToken)).body;
      expect(view.status).toBe('completed');
      const payments = await listPaymentsForOrder(db, placed.orderId);
      expect(payments.filter((p) => p.status === 'completed')).toHaveLength(1);
      expect(await ticketCounters(placed.type.id)).toMatchObject({ sold: 2, held: 0 });
      const active = await db.queryOne<{ n: number }>(
        `SELECT count(*)::int AS n FROM order_items WHERE order_id = $1 AND status = 'active'`,
        [placed.orderId],
      );
      expect(active?.n).toBe(2);
    }
    expect(outcomes.cancelWon + outcomes.paymentWon).toBe(8);
  });
});
