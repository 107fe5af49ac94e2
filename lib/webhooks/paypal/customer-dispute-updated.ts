import { noteDisputeStatusInTx } from '../../disputes/record-dispute.js';
import type { EventHandler } from '../types.js';
import { ignored, processed } from '../types.js';
import { customerDisputeResolved } from './customer-dispute-resolved.js';
import { disputedCaptureIds, disputeOpening, disputeSchema, resourceOf } from './objects.js';

/**
 * CUSTOMER.DISPUTE.UPDATED: a status change (waiting for a response, under review, a new life-cycle stage):
 * no money moves, the status is audited. An update that already carries the end (status RESOLVED) is handled
 * as CUSTOMER.DISPUTE.RESOLVED; one for a dispute we never saw opened opens it.
 */
export const customerDisputeUpdated: EventHandler = async (tx, payload, context) => {
  const dispute = resourceOf(payload, disputeSchema);
  if (dispute.status === 'RESOLVED') return await customerDisputeResolved(tx, payload, context);
  const [captureId] = disputedCaptureIds(dispute);
  if (!captureId) return ignored('Dispute without a seller_transaction_id');
  const result = await noteDisputeStatusInTx(tx, {
    ...disputeOpening(dispute, captureId),
    actor: context.actor,
    providerStatus: dispute.status ?? 'OTHER',
    stage: dispute.dispute_life_cycle_stage,
  });
  if (result.outcome === 'payment_not_found') return ignored('No matching payment');
  return processed();
};
