import { closeDisputeInTx } from '../../disputes/record-dispute.js';
import type { EventHandler } from '../types.js';
import { ignored, processed } from '../types.js';
import { dataObject, disputeSchema, idOf } from './objects.js';

/**
 * charge.dispute.closed: `won` (or `warning_closed`, an inquiry that never became a chargeback)
 * gives the set-aside money back to the payment; `lost` books the loss on the ledger. Other statuses
 * (still under review) change nothing. A dispute closed before we saw it opened is opened first.
 */
export const chargeDisputeClosed: EventHandler = async (tx, payload, { actor }) => {
  const dispute = dataObject(payload, disputeSchema);
  const paymentIntentId = idOf(dispute.payment_intent);
  if (!paymentIntentId) return ignored('Dispute without payment_intent');
  const status =
    dispute.status === 'lost' ? 'lost' : dispute.status === 'won' || dispute.status === 'warning_closed' ? 'won' : null;
  if (!status) return ignored(`Dispute status ${dispute.status ?? 'unknown'} does not close it`);
  const result = await closeDisputeInTx(tx, {
    provider: 'stripe',
    providerDisputeId: dispute.id,
    providerPaymentId: paymentIntentId,
    amountCents: dispute.amount,
    currency: dispute.currency,
    reason: dispute.reason ?? undefined,
    at: null,
    actor,
    status,
  });
  if (result.outcome === 'payment_not_found') return ignored('No matching payment');
  return processed();
};
