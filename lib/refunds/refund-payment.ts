import { ConfigError } from '../config.js';
import type { Tx } from '../db/client.js';
import { type Actor, appendAudit } from '../db/models/audit-log.js';
import { lockOrderById, type Order } from '../db/models/orders.js';
import { lockCapturedPaymentForOrder, type Payment, refundableOf } from '../db/models/payments.js';
import { pendingRefundCents, type Refund } from '../db/models/refunds.js';
import { AppError } from '../errors.js';
import { isPaid } from '../payments/state-machine.js';
import { insertPendingRefund, issueRefund, type RefundReservation } from './issue-refund.js';

/**
 * Staff refunds (POST /api/payments/refund). Never more than was captured, however many requests
 * race: the reservation (step 1 of the one refund flow, issue-refund.ts) locks the order and its
 * captured payment, computes
 *    refundable = captured − refunded − disputed − (refunds still pending)
 * and records the new refund as `pending`, so concurrent requests can only reserve what is left.
 * The provider call and the settle step are the shared flow's. A provider refusal marks the refund
 * failed (nothing counted, the reservation ends) → 502. An unanswered call leaves it pending,
 * "unconfirmed, being checked" (202): the refund-check cron settles it with the provider's answer.
 */

export interface RefundPaymentInput {
  orderId: string;
  /** Omitted: everything still refundable. */
  amountCents?: number | undefined;
  reason: string;
  /** Return the order's tickets to sale once the refund succeeds. */
  releaseTickets?: boolean | undefined;
  actor: Actor;
}

export interface RefundPaymentResult {
  refund: Refund;
  order: Order;
  payment: Payment;
  /** What can still be refunded after this one (pending refunds reserved). */
  refundableCents: number;
  releasedTickets: number;
  /** The provider did not answer: the refund is pending, unconfirmed, being checked (202). */
  unconfirmed?: boolean;
}

export { refundIdempotencyKey } from './refund-call.js';

/** Step 1: validate and reserve inside the locks (order → payment, the same order as the webhooks). */
async function reserveStaffRefund(tx: Tx, input: RefundPaymentInput): Promise<RefundReservation> {
  const order = await lockOrderById(tx, input.orderId);
  if (!order) throw new AppError('NOT_FOUND', 'No order with that id');
  if (!isPaid(order.status)) {
    throw new AppError('ORDER_NOT_PAID', `Order ${order.orderNumber} is ${order.status}; only paid orders can be refunded`);
  }
  const payment = await lockCapturedPaymentForOrder(tx, order.id);
  if (!payment) throw new AppError('ORDER_NOT_PAID', `Order ${order.orderNumber} has no captured payment`);
  if (!payment.providerPaymentId) {
    throw new AppError('UNPROCESSABLE', `The payment of order ${order.orderNumber} has no provider payment id to refund`);
  }
  const refundable = refundableOf(payment, await pendingRefundCents(tx, payment.id));
  const amountCents = input.amountCents ?? refundable;
  if (amountCents <= 0 || amountCents > refundable) {
    throw new AppError(
      'REFUND_EXCEEDS_REFUNDABLE',
      refundable === 0
        ? `Nothing is left to refund on order ${order.orderNumber}`
        : `At most ${refundable} (minor units) can be refunded on order ${order.orderNumber}`,
      { details: { refundableCents: refundable, requestedCents: amountCents, currency: payment.currency } },
    );
  }
  const refund = await insertPendingRefund(tx, order, payment, {
    amountCents,
    reason: input.reason.trim(),
    source: 'admin',
    requestedBy: input.actor.id ?? input.actor.type,
    releaseTickets: input.releaseTickets ?? false,
  });
  await appendAudit(tx, {
    entityType: 'refund',
    entityId: refund.id,
    action: 'refund_requested',
    actor: input.actor,
    reason: refund.reason,
    newValues: {
      orderId: order.id,
      paymentId: payment.id,
      amountCents,
      currency: payment.currency,
      refundableBeforeCents: refundable,
      releaseTickets: refund.releaseTickets,
    },
  });
  return { refund, order, payment };
}

export async function refundPayment(input: RefundPaymentInput): Promise<RefundPaymentResult> {
  const issued = await issueRefund({
    actor: input.actor,
    reserve: (tx) => reserveStaffRefund(tx, input),
    onProviderFailure: 'mark_failed',
  });
  // The staff reservation always records a refund (or throws).
  if (!issued) throw new Error('staff refund reserved nothing');
  const { providerError, unconfirmed, ...result } = issued;
  if (providerError !== undefined) {
    // A webhook may have confirmed the refund while our call failed: then it is made.
    if (result.refund.status === 'succeeded') return result;
    // Unanswered: the refund may exist. It stays pending (its amount reserved) and is being checked.
    if (unconfirmed) return { ...result, unconfirmed: true };
    if (providerError instanceof ConfigError) throw providerError;
    throw new AppError('PROVIDER_UNAVAILABLE', 'The payment provider did not make the refund; nothing was refunded', {
      details: { refundId: result.refund.id },
      cause: providerError,
    });
  }
  if (result.refund.status === 'failed' || result.refund.status === 'cancelled') {
    throw new AppError(
      'PROVIDER_UNAVAILABLE',
      `The payment provider reported the refund ${result.refund.status}; nothing was refunded`,
      { details: { refundId: result.refund.id } },
    );
  }
  return result;
}
