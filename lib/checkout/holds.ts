import { type Tx, transaction } from '../db/client.js';
import { type Actor, appendAudit } from '../db/models/audit-log.js';
import { countActiveItemsByType } from '../db/models/order-items.js';
import { lockDueHeldOrders, lockOrderWithHoldDue, type Order } from '../db/models/orders.js';
import { lockLatestPaymentForOrder, type Payment } from '../db/models/payments.js';
import { releaseHold } from '../db/models/ticket-types.js';
import { canTransition } from '../payments/state-machine.js';
import { transition } from '../payments/transition.js';
import { notifyOrderEndedInTx } from '../messages/notify-buyer.js';

/**
 * Holds that end. A pending order keeps its tickets counted in ticket_types.taken (shown as held) until it is paid, fails
 * or its hold expires. Expiry happens in two places, both through `expireHeldOrderInTx`:
 *  - the cron (api/cron/expire-holds.ts → expireDueHolds in expire-holds.ts), every few minutes;
 *  - checkout itself: when a hold cannot be taken, the expired holds of that ticket type are
 *    reclaimed on the spot and the hold is tried once more, so an expired hold never blocks a
 *    sale even when the cron has not run.
 *
 * Only `pending` orders expire here. A `processing` order has a payment in flight at the provider;
 * it ends through the provider's webhook (completed or failed). Order items stay `active` on
 * expiry: a payment that still arrives late re-takes exactly those tickets (finalize-order).
 */

export interface ReleasedTickets {
  ticketTypeId: string;
  quantity: number;
}

export type ExpireOutcome =
  | { expired: true; order: Order; payment: Payment | undefined; released: ReleasedTickets[] }
  | { expired: false; reason: 'not_found' | 'not_pending' | 'not_due'; order: Order | undefined };

/** Gives an order's held tickets back to their ticket types (inside the caller's transaction); returns what went back. */
export async function releaseOrderHolds(tx: Tx, orderId: string): Promise<Array<{ ticketTypeId: string; quantity: number }>> {
  const released = await countActiveItemsByType(tx, orderId);
  for (const item of released) await releaseHold(tx, item.ticketTypeId, item.quantity);
  return released;
}

/**
 * Ends the hold of one pending order inside the caller's transaction: gives its tickets back,
 * order → expired, its open payment → expired, one audit entry. With `onlyIfDue` (default) it only
 * acts when the hold time has passed (database clock).
 */
export async function expireHeldOrderInTx(
  tx: Tx,
  orderId: string,
  options: { actor: Actor; reason: string; onlyIfDue?: boolean },
): Promise<ExpireOutcome> {
  const order = await lockOrderWithHoldDue(tx, orderId);
  if (!order) return { expired: false, reason: 'not_found', order: undefined };
  const { due, ...plain } = order;
  if (order.status !== 'pending' || !canTransition('order', order.status, 'expired')) {
    return { expired: false, reason: 'not_pending', order: plain };
  }
  if ((options.onlyIfDue ?? true) && !due) return { expired: false, reason: 'not_due', order: plain };

  const released = await releaseOrderHolds(tx, order.id);
  // Before the payment moves to expired: whether the buyer had started paying is read from it.
  await notifyOrderEndedInTx(tx, { orderId: order.id, how: 'expired', previousStatus: order.status });
  const expiredOrder = await transition(tx, 'order', plain, 'expired');
  let payment = await lockLatestPaymentForOrder(tx, order.id);
  if (payment && canTransition('payment', payment.status, 'expired') && payment.status !== 'expired') {
    payment = await transition(tx, 'payment', payment, 'expired');
  }
  await appendAudit(tx, {
    entityType: 'order',
    entityId: order.id,
    action: 'hold_expired',
    actor: options.actor,
    reason: options.reason,
    oldValues: { status: order.status, holdExpiresAt: order.holdExpiresAt?.toISOString() ?? null },
    newValues: { status: 'expired', released },
  });
  return { expired: true, order: expiredOrder, payment, released };
}

export interface ReclaimOptions {
  /** Only orders holding tickets of this type (checkout's reclaim); all types when absent (cron). */
  ticketTypeId?: string;
  limit?: number;
  actor: Actor;
  reason: string;
}

/**
 * Expires up to `limit` pending orders whose hold has passed, in one short transaction. Rows
 * another transaction is already expiring are skipped (SKIP LOCKED), so concurrent reclaimers never
 * queue behind each other. Returns the orders it expired.
 */
export async function reclaimExpiredHolds(options: ReclaimOptions): Promise<Extract<ExpireOutcome, { expired: true }>[]> {
  const limit = options.limit ?? 50;
  return await transaction(async (tx) => {
    const due = await lockDueHeldOrders(tx, { ticketTypeId: options.ticketTypeId, limit });
    const expired: Extract<ExpireOutcome, { expired: true }>[] = [];
    for (const { id } of due) {
      const outcome = await expireHeldOrderInTx(tx, id, { actor: options.actor, reason: options.reason });
      if (outcome.expired) expired.push(outcome);
    }
    return expired;
  });
}
