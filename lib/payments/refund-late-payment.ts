import { transaction } from '../db/client.js';
import type { Actor } from '../db/models/audit-log.js';
import { lockOrderById } from '../db/models/orders.js';
import { lockPaymentById, refundableOf } from '../db/models/payments.js';
import { insertRefund, lockRefundById, lockSystemRefundForPayment, type Refund } from '../db/models/refunds.js';
import { refundAtProvider } from './provider-refunds.js';
import { settleRefundInTx } from './settle-refund.js';

/**
 * Money we must give back by ourselves: a late payment whose tickets are gone
 * (finalize → late_no_capacity) or a second payment for an already paid order (duplicate_payment).
 *
 * Commit first, then call, then record:
 * 1. one transaction records a pending `system` refund for the whole unrefunded amount (or finds the
 *    one an earlier attempt recorded);
 * 2. the provider is asked for the refund with a key derived from that refund row, so any retry returns
 *    the same provider refund;
 * 3. a second transaction records the provider's answer (money + audit with the reason), unless the
 *    provider's refund webhook got there first (then nothing changes).
 */

export type UnwantedPaymentReason = 'late_payment_no_capacity' | 'duplicate_payment';

const REFUND_REASON: Record<UnwantedPaymentReason, string> = {
  late_payment_no_capacity:
    'late_payment_no_capacity: paid after the hold expired and the tickets were sold out; refunded in full',
  duplicate_payment: 'duplicate_payment: the order was already paid by another payment; refunded in full',
};

/**
 * Deterministic provider idempotency key, from the refund row: every retry of one system refund (and
 * every racing caller, who finds the same pending row) sends the same key; a refund the provider
 * answered `failed` gets a new row, hence a new key, so the money can still go back.
 */
export function systemRefundIdempotencyKey(refundId: string): string {
  return `system-refund-${refundId}`;
}

export interface RefundUnwantedPaymentInput {
  orderId: string;
  paymentId: string;
  reason: UnwantedPaymentReason;
  actor: Actor;
}

export async function refundUnwantedPayment(input: RefundUnwantedPaymentInput): Promise<Refund | undefined> {
  const prepared = await transaction(async (tx) => {
    const order = await lockOrderById(tx, input.orderId);
    const payment = await lockPaymentById(tx, input.paymentId);
    if (!order || !payment || payment.orderId !== order.id)
      throw new Error(`payment ${input.paymentId} of order ${input.orderId} not found`);
    if (!payment.providerPaymentId) throw new Error(`payment ${payment.id} has no provider payment id to refund`);
    const existing = await lockSystemRefundForPayment(tx, payment.id);
    if (existing) return { refund: existing, order, payment };
    const amountCents = refundableOf(payment, 0);
    if (amountCents <= 0) return undefined;
    const refund = await insertRefund(tx, {
      paymentId: payment.id,
      orderId: order.id,
      provider: payment.provider,
      amountCents,
      currency: payment.currency,
      reason: REFUND_REASON[input.reason],
      source: 'system',
      status: 'pending',
      requestedBy: 'system',
    });
    return { refund, order, payment };
  });
  if (!prepared) return undefined;
  if (prepared.refund.status === 'succeeded') return prepared.refund;

  const providerPaymentId = prepared.payment.providerPaymentId ?? '';
  const answer = await refundAtProvider({
    provider: prepared.payment.provider,
    providerPaymentId,
    amountCents: prepared.refund.amountCents,
    currency: prepared.refund.currency,
    idempotencyKey: systemRefundIdempotencyKey(prepared.refund.id),
    refundId: prepared.refund.id,
    orderId: prepared.order.id,
    orderNumber: prepared.order.orderNumber,
    stripeReason: input.reason === 'duplicate_payment' ? 'duplicate' : 'requested_by_customer',
    noteToPayer: 'Your payment arrived after the tickets sold out, so it has been refunded in full.',
  });

  return await transaction(async (tx) => {
    const order = await lockOrderById(tx, prepared.order.id);
    const payment = await lockPaymentById(tx, prepared.payment.id);
    const refund = await lockRefundById(tx, prepared.refund.id);
    if (!order || !payment || !refund) throw new Error(`refund ${prepared.refund.id} vanished`);
    const result = await settleRefundInTx(
      tx,
      { order, payment, refund, actor: input.actor, auditAction: 'system_refund_issued', auditReason: input.reason },
      { status: answer.status, providerRefundId: answer.providerRefundId },
    );
    return result.refund;
  });
}
