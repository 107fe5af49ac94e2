import { closeDisputeInTx } from '../../disputes/record-dispute.js';
import type { EventHandler } from '../types.js';
import { ignored, processed } from '../types.js';
import { disputedCaptureIds, disputeSchema, minorUnits, paypalTime, resourceOf } from './objects.js';

/**
 * PayPal's dispute_outcome.outcome_code → how the dispute ended for us: the buyer's favour (the money went
 * back to the buyer) is lost; the seller's favour, or the buyer cancelling it, is won. Others (a payout,
 * an offer accepted or denied, NONE) do not say it: the dispute stays open.
 */
export function paypalDisputeResult(outcomeCode: string | null | undefined): 'won' | 'lost' | null {
  if (outcomeCode === 'RESOLVED_BUYER_FAVOUR') return 'lost';
  if (outcomeCode === 'RESOLVED_SELLER_FAVOUR' || outcomeCode === 'CANCELED_BY_BUYER') return 'won';
  return null;
}

/**
 * CUSTOMER.DISPUTE.RESOLVED: lost gives the ledger its `dispute_lost` row (the money stays withheld), won its
 * `dispute_won` row (the money is the payment's again), as for Stripe's charge.dispute.closed. A dispute
 * resolved before we saw it opened is opened first.
 */
export const customerDisputeResolved: EventHandler = async (tx, payload, { actor }) => {
  const dispute = resourceOf(payload, disputeSchema);
  const [captureId] = disputedCaptureIds(dispute);
  if (!captureId) return ignored('Dispute without a seller_transaction_id');
  const outcomeCode = dispute.dispute_outcome?.outcome_code;
  const status = paypalDisputeResult(outcomeCode);
  if (!status) return ignored(`Dispute outcome ${outcomeCode ?? 'unknown'} does not close it`);
  const result = await closeDisputeInTx(tx, {
    provider: 'paypal',
    providerDisputeId: dispute.dispute_id,
    providerPaymentId: captureId,
    amountCents: minorUnits(dispute.dispute_amount),
    currency: dispute.dispute_amount.currency_code,
    reason: dispute.reason ?? undefined,
    at: paypalTime(dispute.update_time) ?? null,
    actor,
    status,
  });
  if (result.outcome === 'payment_not_found') return ignored('No matching payment');
  return processed();
};
