import { db, transaction } from '../db/client.js';
import { findPaymentFeeState } from '../db/models/payment-fees.js';
import { getStripeClient } from '../providers/index.js';
import { type FeeOutcome, recordProviderFeeInTx } from './record-provider-fee.js';

/**
 * Stripe's fee of a completed payment: the PaymentIntent retrieved with its latest charge's balance
 * transaction expanded (`fee`, `fee_details`, `net`), then booked by recordProviderFeeInTx. Runs
 * after the completion committed (a provider call never happens inside a transaction); a fee
 * already booked is not asked for again. `not_available`: Stripe has no balance transaction yet
 * (it can lag the charge); charge.updated / a later run books it.
 *
 * `capturedAs`: the PaymentIntent id of a Stripe payment the caller has just completed with its fee unknown
 * (the webhook's one-statement completion): the payment is not read again. A fee booked meanwhile by
 * charge.updated costs one Stripe read; recordProviderFeeInTx still books it once.
 */
export async function recordStripeFee(paymentId: string, capturedAs?: string): Promise<FeeOutcome | 'not_available'> {
  let intentId = capturedAs;
  if (intentId === undefined) {
    const payment = await findPaymentFeeState(db, paymentId);
    if (payment?.provider !== 'stripe' || !payment.providerPaymentId) return 'payment_not_captured';
    if (payment.feeCents !== null) return 'already_recorded';
    intentId = payment.providerPaymentId;
  }
  const stripe = await getStripeClient('checkout');
  const intent = await stripe.paymentIntents.retrieve(intentId, {
    expand: ['latest_charge.balance_transaction'],
  });
  const charge = typeof intent.latest_charge === 'object' ? intent.latest_charge : null;
  const balance = charge && typeof charge.balance_transaction === 'object' ? charge.balance_transaction : null;
  if (!balance) return 'not_available';
  return await transaction((tx) =>
    recordProviderFeeInTx(tx, {
      paymentId,
      feeCents: balance.fee,
      currency: balance.currency,
      providerRef: balance.id,
      netCents: balance.net,
      feeDetails: balance.fee_details,
      occurredAt: null,
    }),
  );
}
