import { openDisputeInTx } from '../../disputes/record-dispute.js';
import type { EventHandler } from '../types.js';
import { ignored, processed } from '../types.js';
import { disputedCaptureIds, disputeOpening, disputeSchema, resourceOf } from './objects.js';

/**
 * CUSTOMER.DISPUTE.CREATED: the disputed capture (disputed_transactions[].seller_transaction_id) resolved to
 * our payment, the dispute_amount set aside on it, the order flagged `disputed` and the ledger given its
 * `dispute_opened` row, as for Stripe's charge.dispute.created. Repeated or reordered deliveries change nothing.
 */
export const customerDisputeCreated: EventHandler = async (tx, payload, { actor }) => {
  const dispute = resourceOf(payload, disputeSchema);
  const [captureId] = disputedCaptureIds(dispute);
  if (!captureId) return ignored('Dispute without a seller_transaction_id');
  const result = await openDisputeInTx(tx, {
    ...disputeOpening(dispute, captureId),
    actor,
  });
  if (result.outcome === 'payment_not_found') return ignored('No matching payment');
  return processed();
};
