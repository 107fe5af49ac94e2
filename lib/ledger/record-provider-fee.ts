import type { Tx } from '../db/client.js';
import { setPaymentFeeOnce } from '../db/models/payment-fees.js';
import { holdsCapturedMoney, lockPaymentById } from '../db/models/payments.js';
import { feeCurrencyDiffers } from './fee-currency-differs.js';
import { recordMovement } from './record-movement.js';

/**
 * The provider's processing fee of a captured payment, as the provider reports it: Stripe's balance
 * transaction (`fee`, `fee_details`), PayPal's capture `seller_receivable_breakdown` (`paypal_fee`,
 * `net_amount`). Stored once on the payment (payments.fee_cents) and booked in the ledger as a `fee`
 * row, in the same transaction. A second report of the same fee changes nothing.
 */
export interface ProviderFeeReport {
  paymentId: string;
  feeCents: number;
  currency: string;
  /** Stripe balance transaction id (txn_...) / PayPal capture id. */
  providerRef: string;
  /** What the provider says we get after the fee, when it says so (for reconciliation). */
  netCents?: number | undefined;
  /** Stripe fee_details, as given. */
  feeDetails?: unknown;
  occurredAt?: Date | null | undefined;
}

export type FeeOutcome = 'recorded' | 'already_recorded' | 'payment_not_captured' | 'currency_differs';

export async function recordProviderFeeInTx(tx: Tx, report: ProviderFeeReport): Promise<FeeOutcome> {
  if (!Number.isSafeInteger(report.feeCents) || report.feeCents < 0) {
    throw new RangeError(`fee of payment ${report.paymentId} must be a non-negative integer of minor units`);
  }
  const payment = await lockPaymentById(tx, report.paymentId);
  if (!payment || !holdsCapturedMoney(payment)) return 'payment_not_captured';
  if (feeCurrencyDiffers('provider fee', { paymentId: payment.id }, report.currency, payment.currency)) return 'currency_differs';
  if (!(await setPaymentFeeOnce(tx, payment.id, report.feeCents))) return 'already_recorded';
  await recordMovement(tx, {
    kind: 'fee',
    orderId: payment.orderId,
    paymentId: payment.id,
    provider: payment.provider,
    providerRef: report.providerRef,
    amountCents: report.feeCents,
    currency: payment.currency,
    occurredAt: report.occurredAt ?? payment.completedAt,
    details: {
      ...(report.netCents === undefined ? {} : { netCents: report.netCents }),
      ...(report.feeDetails === undefined ? {} : { feeDetails: report.feeDetails }),
    },
  });
  return 'recorded';
}
