import { ConfigError } from '../config.js';
import { type Tx, transaction } from '../db/client.js';
import { type Actor, appendAudit } from '../db/models/audit-log.js';
import { lockOrderById, type Order } from '../db/models/orders.js';
import { PAYMENT_COLUMNS, type Payment, refundableOf } from '../db/models/payments.js';
import { insertRefund, lockRefundById, type Refund } from '../db/models/refunds.js';
import { AppError } from '../errors.js';
import { log } from '../log.js';
import {
  type ProviderRefundResult,
  refundAtProvider,
  ProviderRefundError,
  UNCONFIRMED_REFUND_PREFIX,
} from '../payments/provider-refunds.js';
import { settleRefundInTx } from '../payments/settle-refund.js';
import { isPaid } from '../payments/state-machine.js';

/**
 * Staff refunds (POST /api/payments/refund). Never more than was captured, however many requests
 * race:
 *
 * 1. One transaction locks the order and its captured payment, computes
 *    refundable = captured − refunded − disputed − (refunds still pending)
 *    and records the new refund as `pending`. A pending refund counts against what is refundable
 *    while its provider call is in flight, so concurrent requests can only reserve what is left.
 * 2. The provider is called after commit, with an idempotency key derived from the refund id
 *    (Stripe refunds.create on the payment intent / PayPal refundCapturedPayment with PayPal-Request-Id).
 * 3. A second transaction records the answer through settleRefundInTx (the one place refunded money
 *    lands on payment and order, shared with the refund webhooks: whichever comes first counts it,
 *    the other changes nothing), and releases the tickets when asked.
 *    A provider failure marks the refund failed (nothing counted, the reservation ends) → 502.
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
}

const CAPTURED = `('completed', 'partially_refunded', 'refunded')`;

/** The order's captured payment (a unique index allows at most one). */
async function lockCapturedPayment(tx: Tx, orderId: string): Promise<Payment | undefined> {
  return await tx.queryOne<Payment>(
    `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE order_id = $1 AND status IN ${CAPTURED}
     LIMIT 1 FOR UPDATE`,
    [orderId],
  );
}

async function lockPayment(tx: Tx, id: string): Promise<Payment | undefined> {
  return await tx.queryOne<Payment>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = $1 FOR UPDATE`, [id]);
}

/** Money reserved by refunds of this payment that are still in flight. */
async function pendingRefundCents(tx: Tx, paymentId: string): Promise<number> {
  const row = await tx.queryOne<{ cents: number }>(
    `SELECT coalesce(sum(amount_cents), 0)::int AS cents FROM refunds WHERE payment_id = $1 AND status = 'pending'`,
    [paymentId],
  );
  return row?.cents ?? 0;
}

/** Provider idempotency key: one provider refund per refund row, whatever is retried. */
export function refundIdempotencyKey(refundId: string): string {
  return `refund-${refundId}`;
}

interface Reserved {
  refund: Refund;
  order: Order;
  payment: Payment;
  providerPaymentId: string;
}

/** Step 1: validate and reserve inside the locks. */
async function reserveRefund(input: RefundPaymentInput): Promise<Reserved> {
  return await transaction(async (tx) => {
    // Lock order → payment → refund, the same order as the webhooks.
    const order = await lockOrderById(tx, input.orderId);
    if (!order) throw new AppError('NOT_FOUND', 'No order with that id');
    if (!isPaid(order.status)) {
      throw new AppError('ORDER_NOT_PAID', `Order ${order.orderNumber} is ${order.status}; only paid orders can be refunded`);
    }
    const payment = await lockCapturedPayment(tx, order.id);
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
    const refund = await insertRefund(tx, {
      paymentId: payment.id,
      orderId: order.id,
      provider: payment.provider,
      amountCents,
      currency: payment.currency,
      reason: input.reason.trim(),
      source: 'admin',
      status: 'pending',
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
    return { refund, order, payment, providerPaymentId: payment.providerPaymentId };
  });
}

/** Step 3: record the provider's answer (or failure) under the locks. */
async function recordOutcome(
  reserved: Reserved,
  actor: Actor,
  report: { status: Refund['status']; providerRefundId?: string | undefined; failureReason?: string | undefined },
): Promise<RefundPaymentResult> {
  return await transaction(async (tx) => {
    const order = await lockOrderById(tx, reserved.order.id);
    const payment = await lockPayment(tx, reserved.payment.id);
    const refund = await lockRefundById(tx, reserved.refund.id);
    if (!order || !payment || !refund) throw new Error(`refund ${reserved.refund.id} lost its order, payment or row`);
    // A failed call never undoes what a webhook already confirmed (the call may have timed out after the refund was made).
    const settled =
      report.status === 'failed' && refund.status !== 'pending'
        ? { refund, order, payment, releasedTickets: 0 }
        : await settleRefundInTx(tx, { order, payment, refund, actor }, report);
    // settleRefundInTx releases the tickets when the refund succeeds (here, or earlier by a webhook).
    const releasedTickets = settled.releasedTickets;
    const pending = await pendingRefundCents(tx, settled.payment.id);
    return {
      refund: settled.refund,
      order: settled.order,
      payment: settled.payment,
      refundableCents: refundableOf(settled.payment, pending),
      releasedTickets,
    };
  });
}

export async function refundPayment(input: RefundPaymentInput): Promise<RefundPaymentResult> {
  const reserved = await reserveRefund(input);
  let answer: ProviderRefundResult;
  try {
    answer = await refundAtProvider({
      provider: reserved.payment.provider,
      providerPaymentId: reserved.providerPaymentId,
      amountCents: reserved.refund.amountCents,
      currency: reserved.refund.currency,
      idempotencyKey: refundIdempotencyKey(reserved.refund.id),
      refundId: reserved.refund.id,
      orderId: reserved.order.id,
      orderNumber: reserved.order.orderNumber,
      stripeReason: 'requested_by_customer',
    });
  } catch (error) {
    log.warn('provider refund failed', { refundId: reserved.refund.id, provider: reserved.payment.provider, error });
    const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
    // Unanswered (time-out, 5xx): the provider may have made it; its webhook can still confirm it.
    const unconfirmed = error instanceof ProviderRefundError && !error.refused;
    const recorded = await recordOutcome(reserved, input.actor, {
      status: 'failed',
      failureReason: unconfirmed ? `${UNCONFIRMED_REFUND_PREFIX}${message}` : message,
    });
    if (recorded.refund.status === 'succeeded') return recorded;
    if (error instanceof ConfigError) throw error;
    throw new AppError('PROVIDER_UNAVAILABLE', 'The payment provider did not make the refund; nothing was refunded', {
      details: { refundId: reserved.refund.id },
      cause: error,
    });
  }
  if (answer.amountCents !== reserved.refund.amountCents) {
    log.warn('provider refund amount differs', {
      refundId: reserved.refund.id,
      asked: reserved.refund.amountCents,
      got: answer.amountCents,
    });
  }
  const result = await recordOutcome(reserved, input.actor, { status: answer.status, providerRefundId: answer.providerRefundId });
  if (result.refund.status === 'failed' || result.refund.status === 'cancelled') {
    throw new AppError(
      'PROVIDER_UNAVAILABLE',
      `The payment provider reported the refund ${result.refund.status}; nothing was refunded`,
      {
        details: { refundId: result.refund.id },
      },
    );
  }
  return result;
}
