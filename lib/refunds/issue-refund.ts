import { type Tx, transaction } from '../db/client.js';
import type { Actor } from '../db/models/audit-log.js';
import { lockOrderById, type Order } from '../db/models/orders.js';
import { lockPaymentById, type Payment, refundableOf } from '../db/models/payments.js';
import { insertRefund, lockRefundById, pendingRefundCents, type Refund } from '../db/models/refunds.js';
import { log } from '../log.js';
import { ProviderError } from '../providers/checkout-provider.js';
import { getRefundProvider } from '../providers/index.js';
import type { ProviderRefundResult } from '../providers/refund-provider.js';
import { type RefundReport, settleRefundInTx, UNCONFIRMED_REFUND_PREFIX } from './settle-refund.js';

/**
 * The one refund flow, for staff refunds (refund-payment.ts) and system refunds of unwanted money
 * (refund-unwanted-payment.ts): reserve → provider call → settle.
 *
 * 1. `reserve`, one transaction: lock order → payment, record (or find) the pending refund row. A
 *    pending refund counts against what is refundable while its provider call is in flight.
 * 2. The provider call, after commit (never inside a transaction), with an idempotency key derived
 *    from the refund row: every retry of one refund sends the same key, so it returns the same refund.
 * 3. A second transaction locks order → payment → refund and records the answer through
 *    settleRefundInTx (shared with the provider's refund webhooks: whichever comes first counts the
 *    money, the other changes nothing). A failed call never undoes what a webhook already confirmed.
 */

export interface RefundReservation {
  refund: Refund;
  order: Order;
  payment: Payment;
}

export interface IssueRefundPlan {
  actor: Actor;
  /** Step 1, inside the transaction; undefined when there is nothing to refund. */
  reserve: (tx: Tx) => Promise<RefundReservation | undefined>;
  idempotencyKey: (refundId: string) => string;
  stripeReason: 'duplicate' | 'requested_by_customer';
  noteToPayer?: string;
  /** Audit action and reason of the settle step (default `refund_<status>`). */
  auditAction?: string;
  auditReason?: string;
  /**
   * A failed provider call: `mark_failed` ends the reservation (the refund is `failed`, marked
   * unconfirmed when the call went unanswered, so that the provider's webhook can still confirm it)
   * and returns with `providerError`; `keep_pending` throws, leaving the pending row for the retry
   * (same row, same key).
   */
  onProviderFailure: 'mark_failed' | 'keep_pending';
}

export interface IssuedRefund {
  refund: Refund;
  order: Order;
  payment: Payment;
  /** Tickets returned to sale (refunds asked with releaseTickets, once they succeed). */
  releasedTickets: number;
  /** What can still be refunded on the payment (pending refunds reserved). */
  refundableCents: number;
  /** Set when the provider call failed (with `mark_failed`). */
  providerError?: unknown;
}

/** The pending refund row a reservation records against the payment (the provider and currency are the payment's). */
export async function insertPendingRefund(
  tx: Tx,
  order: Order,
  payment: Payment,
  fields: { amountCents: number; reason: string; source: 'admin' | 'system'; requestedBy: string; releaseTickets?: boolean },
): Promise<Refund> {
  return await insertRefund(tx, {
    ...fields,
    paymentId: payment.id,
    orderId: order.id,
    provider: payment.provider,
    currency: payment.currency,
    status: 'pending',
  });
}

/** Step 3: record the provider's answer (or our failed call) under the locks. */
async function settleIssuedRefund(
  reserved: RefundReservation,
  plan: IssueRefundPlan,
  report: RefundReport,
): Promise<Omit<IssuedRefund, 'providerError'>> {
  return await transaction(async (tx) => {
    const order = await lockOrderById(tx, reserved.order.id);
    const payment = await lockPaymentById(tx, reserved.payment.id);
    const refund = await lockRefundById(tx, reserved.refund.id);
    if (!order || !payment || !refund) throw new Error(`refund ${reserved.refund.id} lost its order, payment or row`);
    // A failure never undoes what a webhook already confirmed (the call may have timed out after the refund was made).
    const settled =
      report.status === 'failed' && refund.status !== 'pending'
        ? { refund, order, payment, releasedTickets: 0 }
        : await settleRefundInTx(
            tx,
            { order, payment, refund, actor: plan.actor, auditAction: plan.auditAction, auditReason: plan.auditReason },
            report,
          );
    return {
      refund: settled.refund,
      order: settled.order,
      payment: settled.payment,
      releasedTickets: settled.releasedTickets,
      refundableCents: refundableOf(settled.payment, await pendingRefundCents(tx, settled.payment.id)),
    };
  });
}

export async function issueRefund(plan: IssueRefundPlan): Promise<IssuedRefund | undefined> {
  const reserved = await transaction(plan.reserve);
  if (!reserved) return undefined;
  const { refund, order, payment } = reserved;
  if (refund.status === 'succeeded') {
    return await settleIssuedRefund(reserved, plan, { status: 'succeeded' });
  }

  let answer: ProviderRefundResult;
  try {
    const provider = await getRefundProvider(payment.provider);
    answer = await provider.refund({
      providerPaymentId: payment.providerPaymentId ?? '',
      amountCents: refund.amountCents,
      currency: refund.currency,
      idempotencyKey: plan.idempotencyKey(refund.id),
      refundId: refund.id,
      orderId: order.id,
      orderNumber: order.orderNumber,
      stripeReason: plan.stripeReason,
      ...(plan.noteToPayer ? { noteToPayer: plan.noteToPayer } : {}),
    });
  } catch (error) {
    log.warn('provider refund failed', { refundId: refund.id, provider: payment.provider, error });
    if (plan.onProviderFailure === 'keep_pending') throw error;
    const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
    // Unanswered (time-out, 5xx): the provider may have made it; its webhook can still confirm it.
    const unconfirmed = error instanceof ProviderError && !error.refused;
    const recorded = await settleIssuedRefund(reserved, plan, {
      status: 'failed',
      failureReason: unconfirmed ? `${UNCONFIRMED_REFUND_PREFIX}${message}` : message,
    });
    return { ...recorded, providerError: error };
  }
  if (answer.amountCents !== refund.amountCents) {
    log.warn('provider refund amount differs', { refundId: refund.id, asked: refund.amountCents, got: answer.amountCents });
  }
  return await settleIssuedRefund(reserved, plan, { status: answer.status, providerRefundId: answer.providerRefundId });
}
