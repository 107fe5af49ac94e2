import type { Tx } from '../db/client.js';
import { type Actor, appendAudit } from '../db/models/audit-log.js';
import type { Order } from '../db/models/orders.js';
import { isCaptured, type Payment, type PaymentChanges, type PaymentStatus } from '../db/models/payments.js';
import { type Refund, type RefundChanges, type RefundStatus, updateRefund } from '../db/models/refunds.js';
import { canTransition, isPaid } from '../payments/state-machine.js';
import { transition } from '../payments/transition.js';
import { recordMovement } from '../ledger/record-movement.js';
import { type RefundFeeReport, recordRefundFeeInTx, reverseRefundFeeInTx } from '../ledger/record-refund-fee.js';
import { releaseOrderTicketsInTx } from './release-tickets.js';
import { notifyRefundSucceededInTx } from '../messages/notify-buyer.js';
import { logBusinessEventAfterCommit } from '../ops/business-events.js';

/**
 * The one place a refund's status changes and its money lands on the payment and the order. Used by
 * the provider's refund reports (match-provider-refund.ts) and by the one refund flow (issue-refund.ts,
 * staff and system refunds), so that a webhook and the API answer racing each other count the money once:
 * a refund that is already `succeeded` is never applied again.
 *
 * The caller holds the row locks, taken in the order order → payment → refund.
 */

/** Marks a refund our own call could not confirm; only such a failure may later be turned into success by the provider. */
export const UNCONFIRMED_REFUND_PREFIX = 'unconfirmed: ';

export interface RefundReport {
  status: RefundStatus;
  providerRefundId?: string | undefined;
  failureReason?: string | undefined;
  /**
   * The provider's fee given back with this refund, when its refund object says (PayPal
   * seller_payable_breakdown.paypal_fee, Stripe's refund balance transaction): booked on the ledger in
   * this transaction once the refund has succeeded (lib/ledger/record-refund-fee.ts).
   */
  fee?: RefundFeeReport | undefined;
}

export interface SettleContext {
  order: Order;
  payment: Payment;
  refund: Refund;
  actor: Actor;
  /** Audit action and reason for this change (default `refund_<status>`). */
  auditAction?: string;
  auditReason?: string;
}

export interface SettleResult {
  changed: boolean;
  /** Tickets returned to sale by this change (refunds asked with releaseTickets). */
  releasedTickets: number;
  refund: Refund;
  order: Order;
  payment: Payment;
}

const clamp = (value: number, min: number, max: number) => Math.min(Math.max(value, min), max);

function refundedStatus<S extends 'completed' | 'partially_refunded' | 'refunded'>(refunded: number, total: number): S {
  return (refunded >= total ? 'refunded' : refunded > 0 ? 'partially_refunded' : 'completed') as S;
}

/**
 * Adds (or, for a refund that failed after succeeding, removes) refunded money on the payment and,
 * when this payment is what paid the order, on the order; statuses follow through the state machine.
 * The money that moved goes on the ledger in the same transaction: a `refund` row, or a
 * `refund_reversal` row when it came back.
 */
export async function moveRefundedMoney(
  tx: Tx,
  order: Order,
  payment: Payment,
  deltaCents: number,
  refund: Pick<Refund, 'id' | 'providerRefundId' | 'provider'>,
): Promise<{ order: Order; payment: Payment }> {
  const paysOrder = isPaid(order.status) && isCaptured(payment.status);
  const refunded = clamp(payment.refundedCents + deltaCents, 0, payment.amountCents);
  const paymentChanges: Omit<PaymentChanges, 'status'> = {
    refundedCents: refunded,
    // Money refunded can no longer be disputed (the CHECK refunded + disputed <= amount).
    disputedCents: Math.min(payment.disputedCents, payment.amountCents - refunded),
  };
  let paymentTarget = payment.status;
  if (isCaptured(payment.status)) {
    const target = refundedStatus<PaymentStatus & ('completed' | 'partially_refunded' | 'refunded')>(
      refunded,
      payment.amountCents,
    );
    if (canTransition('payment', payment.status, target)) paymentTarget = target;
  }
  const updatedPayment = await transition(tx, 'payment', payment, paymentTarget, paymentChanges);
  const moved = updatedPayment.refundedCents - payment.refundedCents;
  if (moved !== 0) {
    await recordMovement(tx, {
      kind: moved > 0 ? 'refund' : 'refund_reversal',
      orderId: payment.orderId,
      paymentId: payment.id,
      refundId: refund.id,
      provider: refund.provider,
      providerRef: refund.providerRefundId,
      amountCents: Math.abs(moved),
      currency: payment.currency,
    });
  }
  if (!paysOrder) return { order, payment: updatedPayment };
  const orderRefunded = clamp(order.refundedCents + deltaCents, 0, order.totalCents);
  const target = refundedStatus<'completed' | 'partially_refunded' | 'refunded'>(orderRefunded, order.totalCents);
  const orderTarget = canTransition('order', order.status, target) ? target : order.status;
  return {
    order: await transition(tx, 'order', order, orderTarget, { refundedCents: orderRefunded }),
    payment: updatedPayment,
  };
}

/**
 * The `refund settled` business-event line (lib/ops/business-events.ts), written after the commit when a
 * refund reaches a final status: here, and for a refund first seen already settled (made in the
 * provider's dashboard, match-provider-refund.ts). Ids and amounts only.
 */
export function logRefundSettledAfterCommit(tx: Tx, refund: Refund, previousStatus: RefundStatus | null): void {
  if (refund.status === 'pending') return;
  logBusinessEventAfterCommit(tx, {
    event: 'refund.settled',
    refundId: refund.id,
    orderId: refund.orderId,
    paymentId: refund.paymentId,
    provider: refund.provider,
    providerRefundId: refund.providerRefundId,
    status: refund.status,
    previousStatus,
    amountCents: refund.amountCents,
    currency: refund.currency,
    source: refund.source,
  });
}

export async function settleRefundInTx(tx: Tx, context: SettleContext, report: RefundReport): Promise<SettleResult> {
  const { refund } = context;
  let { order, payment } = context;
  const changes: RefundChanges = {};
  if (report.providerRefundId && refund.providerRefundId !== report.providerRefundId && !refund.providerRefundId) {
    changes.providerRefundId = report.providerRefundId;
  }
  // A failed refund comes back only when the failure was ours (the call went unanswered) and the provider now
  // reports it succeeded; a refund the provider itself reported failed stays failed whatever arrives later.
  const revivable = refund.status !== 'failed' || (refund.failureReason ?? '').startsWith(UNCONFIRMED_REFUND_PREFIX);
  const moves = report.status !== refund.status && revivable && canTransition('refund', refund.status, report.status);
  if (moves) {
    changes.status = report.status;
    if (report.status === 'succeeded') changes.completedAt = new Date();
    if (report.status === 'failed' || report.status === 'cancelled') {
      changes.failureReason = (report.failureReason ?? `Reported ${report.status} by ${refund.provider}`).slice(0, 1000);
    }
  }
  if (Object.keys(changes).length === 0) {
    // Settled already (e.g. by the webhook, whose refund object had no fee): the provider's answer may still bring the fee.
    const fee = report.fee ? await recordRefundFeeInTx(tx, payment, refund, report.fee) : undefined;
    return { changed: fee === 'recorded', releasedTickets: 0, refund, order, payment };
  }

  const updated = await updateRefund(tx, refund.id, changes);
  let releasedTickets = 0;
  if (moves && report.status === 'succeeded') {
    ({ order, payment } = await moveRefundedMoney(tx, order, payment, refund.amountCents, updated));
  } else if (moves && refund.status === 'succeeded') {
    // Succeeded earlier, failed now (Stripe refund.failed): the money came back to us, the returned fee went again.
    ({ order, payment } = await moveRefundedMoney(tx, order, payment, -refund.amountCents, updated));
    await reverseRefundFeeInTx(tx, payment, updated);
  }
  // The fee the provider gave back with it, booked with the refund (same transaction).
  if (report.fee) await recordRefundFeeInTx(tx, payment, updated, report.fee);
  await appendAudit(tx, {
    entityType: 'order',
    entityId: order.id,
    action: context.auditAction ?? (moves ? `refund_${report.status}` : 'refund_provider_id_recorded'),
    actor: context.actor,
    // System refunds carry their why (late_payment_no_capacity / duplicate_payment) as the reason's first word.
    reason: context.auditReason ?? (refund.source === 'system' ? refund.reason.split(':')[0] : undefined),
    oldValues: { refundId: refund.id, status: refund.status, providerRefundId: refund.providerRefundId },
    newValues: {
      refundId: refund.id,
      status: updated.status,
      providerRefundId: updated.providerRefundId,
      amountCents: refund.amountCents,
      source: refund.source,
      orderStatus: order.status,
      orderRefundedCents: order.refundedCents,
      paymentRefundedCents: payment.refundedCents,
    },
  });
  // A refund asked with releaseTickets releases them when it succeeds (through the API or a later webhook).
  if (moves && report.status === 'succeeded' && refund.releaseTickets) {
    const released = await releaseOrderTicketsInTx(tx, { orderId: order.id, refundId: refund.id, actor: context.actor });
    releasedTickets = released.reduce((sum, item) => sum + item.quantity, 0);
  }
  // The buyer's refund email, queued in this transaction (once per refund: its id is the cause).
  if (moves && report.status === 'succeeded') {
    await notifyRefundSucceededInTx(tx, { order, payment, refund: updated, releasedTickets });
  }
  // The business-event line once this commits: a refund reaching a final status (or leaving `succeeded`).
  if (moves) logRefundSettledAfterCommit(tx, updated, refund.status);
  return { changed: true, releasedTickets, refund: updated, order, payment };
}
