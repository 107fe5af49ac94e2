import { AppError } from '../errors.js';
import { HOLDING_ORDER_STATUSES, type OrderStatus, PAID_ORDER_STATUSES } from '../db/models/orders.js';
import type { PaymentStatus } from '../db/models/payments.js';
import type { RefundStatus } from '../db/models/refunds.js';

/**
 * The one table of allowed status transitions for orders, payments and refunds. Webhooks arrive in
 * any order; every order and payment status write goes through `transition()` (transition.ts), which
 * asks this table (refund statuses change only in refunds/settle-refund.ts, which asks it too), so
 * the final state does not depend on the order of arrival: `expired` after `completed` is refused
 * (ignored), `completed` after `expired` is a late payment (allowed, handled by finalize-order).
 */

const ORDER: Record<OrderStatus, readonly OrderStatus[]> = {
  pending: ['processing', 'completed', 'expired', 'failed', 'cancelled'],
  processing: ['completed', 'expired', 'failed', 'cancelled'],
  completed: ['partially_refunded', 'refunded'],
  partially_refunded: ['partially_refunded', 'refunded'],
  refunded: [],
  // Money that arrives after the hold ended: a late payment.
  expired: ['completed'],
  failed: ['completed'],
  cancelled: ['completed'],
};

const PAYMENT: Record<PaymentStatus, readonly PaymentStatus[]> = {
  pending: ['processing', 'completed', 'failed', 'cancelled', 'expired'],
  processing: ['completed', 'failed', 'cancelled', 'expired'],
  completed: ['partially_refunded', 'refunded'],
  partially_refunded: ['partially_refunded', 'refunded'],
  refunded: [],
  failed: ['completed'],
  cancelled: ['completed'],
  expired: ['completed'],
};

const REFUND: Record<RefundStatus, readonly RefundStatus[]> = {
  pending: ['succeeded', 'failed', 'cancelled'],
  // Stripe can report a refund as failed after it first succeeded (refund.failed).
  succeeded: ['failed'],
  // Only for a refund we marked failed ourselves because the provider call went unanswered (timeout,
  // 5xx): the provider's own report that it succeeded then wins. settle-refund.ts enforces the "only".
  failed: ['succeeded'],
  cancelled: [],
};

const TABLES = { order: ORDER, payment: PAYMENT, refund: REFUND } as const;

type StatusOf = { order: OrderStatus; payment: PaymentStatus; refund: RefundStatus };
export type StatefulEntity = keyof StatusOf;

export function canTransition<E extends StatefulEntity>(entity: E, from: StatusOf[E], to: StatusOf[E]): boolean {
  const table = TABLES[entity] as Record<string, readonly string[]>;
  return table[from]?.includes(to) ?? false;
}

export function assertTransition<E extends StatefulEntity>(entity: E, from: StatusOf[E], to: StatusOf[E]): void {
  if (!canTransition(entity, from, to)) {
    throw new AppError('INVALID_STATE_TRANSITION', `A ${entity} cannot go from ${from} to ${to}`);
  }
}

/**
 * Every status the table lets move to `to`, from the given candidates: for a write folded into one SQL
 * statement, whose WHERE clause takes this list (`status = ANY($n)`) so that the allowed transitions
 * are still decided here, in this one table (finalize-order.ts's one-statement completion).
 */
export function statusesMovingTo<E extends StatefulEntity>(
  entity: E,
  to: StatusOf[E],
  candidates: readonly StatusOf[E][] = Object.keys(TABLES[entity]) as StatusOf[E][],
): StatusOf[E][] {
  return candidates.filter((from) => from !== to && canTransition(entity, from, to));
}

export function isPaid(status: OrderStatus): boolean {
  return PAID_ORDER_STATUSES.includes(status);
}

export function isHolding(status: OrderStatus): boolean {
  return HOLDING_ORDER_STATUSES.includes(status);
}
