import type { Tx } from '../db/client.js';
import { findRefundFeeReturned, setRefundFeeReturnedOnce } from '../db/models/payment-fees.js';
import type { Payment } from '../db/models/payments.js';
import type { Refund } from '../db/models/refunds.js';
import { feeCurrencyDiffers } from './fee-currency-differs.js';
import { recordMovement } from './record-movement.js';

/**
 * The provider's fee given back with a refund, as the provider's refund object says it: PayPal's
 * `seller_payable_breakdown.paypal_fee` (the fee refunded; `net_amount` = gross - that fee), Stripe's
 * refund balance transaction `fee` negated (usually 0: Stripe keeps its fees). Signed: positive is
 * given back, negative a fee charged for the refund.
 */
export interface RefundFeeReport {
  feeReturnedCents: number;
  currency: string;
  /** PayPal refund id / Stripe balance transaction id (txn_...). */
  providerRef?: string | null | undefined;
}

export type RefundFeeOutcome = 'recorded' | 'already_recorded' | 'refund_not_succeeded' | 'currency_differs';

/**
 * Stores a succeeded refund's returned fee once (refunds.fee_returned_cents) and books it on the
 * ledger (a `fee` row naming the refund; nothing for 0), in the caller's transaction: settleRefundInTx
 * and the provider-dashboard refund path call it with the refund they settle. A repeated report
 * changes nothing (the first one wins). The caller holds the refund's lock.
 */
export async function recordRefundFeeInTx(
  tx: Tx,
  payment: Pick<Payment, 'id' | 'orderId' | 'provider' | 'currency'>,
  refund: Pick<Refund, 'id' | 'status' | 'completedAt' | 'providerRefundId'>,
  report: RefundFeeReport,
): Promise<RefundFeeOutcome> {
  if (refund.status !== 'succeeded') return 'refund_not_succeeded';
  if (!Number.isSafeInteger(report.feeReturnedCents)) {
    throw new RangeError(`returned fee of refund ${refund.id} must be an integer of minor units`);
  }
  if (feeCurrencyDiffers('refund fee', { refundId: refund.id }, report.currency, payment.currency)) return 'currency_differs';
  if (!(await setRefundFeeReturnedOnce(tx, refund.id, report.feeReturnedCents))) return 'already_recorded';
  if (report.feeReturnedCents !== 0) {
    await recordMovement(tx, {
      kind: 'fee_returned',
      orderId: payment.orderId,
      paymentId: payment.id,
      refundId: refund.id,
      provider: payment.provider,
      providerRef: report.providerRef ?? refund.providerRefundId,
      returnedCents: report.feeReturnedCents,
      currency: payment.currency,
      occurredAt: refund.completedAt,
    });
  }
  return 'recorded';
}

/** A refund that failed after succeeding: the fee it gave back goes again (nothing when none was). */
export async function reverseRefundFeeInTx(
  tx: Tx,
  payment: Pick<Payment, 'id' | 'orderId' | 'provider' | 'currency'>,
  refund: Pick<Refund, 'id' | 'providerRefundId'>,
): Promise<void> {
  const returned = await findRefundFeeReturned(tx, refund.id);
  if (!returned) return;
  await recordMovement(tx, {
    kind: 'fee_returned',
    reversal: true,
    orderId: payment.orderId,
    paymentId: payment.id,
    refundId: refund.id,
    provider: payment.provider,
    providerRef: refund.providerRefundId,
    returnedCents: returned,
    currency: payment.currency,
  });
}
