import { openDisputeInTx } from '../../disputes/record-dispute.js';
import type { EventHandler } from '../types.js';
import { ignored, processed } from '../types.js';
import { dataObject, disputeSchema, idOf } from './objects.js';

/**
 * charge.dispute.created: the dispute is recorded (one row per Stripe dispute id), the disputed
 * amount is set aside on the payment (payments.disputed_cents), so it can no longer be refunded, the
 * order is flagged `disputed`, and the ledger gets its `dispute_opened` row. A repeated or
 * reordered delivery of the same dispute changes nothing.
 */
export const chargeDisputeCreated: EventHandler = async (tx, payload, { actor }) => {
  const dispute = dataObject(payload, disputeSchema);
  const paymentIntentId = idOf(dispute.payment_intent);
  if (!paymentIntentId) return ignored('Dispute without payment_intent');
  const result = await openDisputeInTx(tx, {
    provider: 'stripe',
    providerDisputeId: dispute.id,
    providerPaymentId: paymentIntentId,
    amountCents: dispute.amount,
    currency: dispute.currency,
    reason: dispute.reason ?? 'disputed',
    at: dispute.created ? new Date(dispute.created * 1000) : null,
    actor,
  });
  if (result.outcome === 'payment_not_found') return ignored('No matching payment');
  return processed();
};
