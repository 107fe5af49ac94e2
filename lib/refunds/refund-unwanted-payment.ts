import type { Tx } from '../db/client.js';
import type { Actor } from '../db/models/audit-log.js';
import { lockOrderById } from '../db/models/orders.js';
import { lockPaymentById, refundableOf } from '../db/models/payments.js';
import { lockSystemRefundForPayment, type Refund } from '../db/models/refunds.js';
import { insertPendingRefund, issueRefund, type RefundReservation } from './issue-refund.js';

/**
 * Money we must give back by ourselves: a late payment whose tickets are gone
 * (finalize → late_no_capacity) or a second payment for an already paid order (duplicate_payment).
 * The one refund flow (issue-refund.ts) with a `system` reservation: a pending refund for the whole
 * unrefunded amount (or the one an earlier attempt recorded). A failed provider call leaves that row
 * pending and throws, so the webhook retry asks again with the same key.
 */

export type UnwantedPaymentReason = 'late_payment_no_capacity' | 'duplicate_payment';

const REFUND_REASON: Record<UnwantedPaymentReason, string> = {
  late_payment_no_capacity:
    'late_payment_no_capacity: paid after the hold expired and the tickets were sold out; refunded in full',
  duplicate_payment: 'duplicate_payment: the order was already paid by another payment; refunded in full',
};

export { systemRefundIdempotencyKey } from './refund-call.js';

export interface RefundUnwantedPaymentInput {
  orderId: string;
  paymentId: string;
  reason: UnwantedPaymentReason;
  actor: Actor;
}

async function reserveSystemRefund(tx: Tx, input: RefundUnwantedPaymentInput): Promise<RefundReservation | undefined> {
  const order = await lockOrderById(tx, input.orderId);
  const payment = await lockPaymentById(tx, input.paymentId);
  if (!order || !payment || payment.orderId !== order.id)
    throw new Error(`payment ${input.paymentId} of order ${input.orderId} not found`);
  if (!payment.providerPaymentId) throw new Error(`payment ${payment.id} has no provider payment id to refund`);
  const existing = await lockSystemRefundForPayment(tx, payment.id);
  if (existing) return { refund: existing, order, payment };
  const amountCents = refundableOf(payment, 0);
  if (amountCents <= 0) return undefined;
  const refund = await insertPendingRefund(tx, order, payment, {
    amountCents,
    reason: REFUND_REASON[input.reason],
    source: 'system',
    requestedBy: 'system',
  });
  return { refund, order, payment };
}

export async function refundUnwantedPayment(input: RefundUnwantedPaymentInput): Promise<Refund | undefined> {
  const issued = await issueRefund({
    actor: input.actor,
    reserve: (tx) => reserveSystemRefund(tx, input),
    auditAction: 'system_refund_issued',
    auditReason: input.reason,
    onProviderFailure: 'keep_pending',
  });
  return issued?.refund;
}
