import { appendAudit } from '../../db/models/audit-log.js';
import { lockOrderById, updateOrder } from '../../db/models/orders.js';
import { findPaymentByProviderPayment, lockPaymentById, updatePayment } from '../../db/models/payments.js';
import type { EventHandler } from '../types.js';
import { ignored, processed } from '../types.js';
import { dataObject, disputeSchema, idOf } from './objects.js';

/**
 * charge.dispute.created: the order is flagged `disputed` and the disputed amount is set aside on
 * the payment (payments.disputed_cents), so it can no longer be refunded. Setting (not adding) the
 * amount makes a repeated or reordered delivery change nothing.
 */
export const chargeDisputeCreated: EventHandler = async (tx, payload, { actor }) => {
  const dispute = dataObject(payload, disputeSchema);
  const paymentIntentId = idOf(dispute.payment_intent);
  if (!paymentIntentId) return ignored('Dispute without payment_intent');
  const found = await findPaymentByProviderPayment(tx, 'stripe', paymentIntentId);
  if (!found) return ignored('No matching payment');
  const order = await lockOrderById(tx, found.orderId);
  const payment = await lockPaymentById(tx, found.id);
  if (!order || !payment) return ignored('No matching payment');
  const disputed = Math.min(dispute.amount, payment.amountCents - payment.refundedCents);
  const moreDisputed = disputed > payment.disputedCents;
  const flag = order.attentionReason !== 'disputed';
  if (!moreDisputed && !flag) return processed();
  if (moreDisputed) await updatePayment(tx, payment.id, { disputedCents: disputed });
  if (flag) await updateOrder(tx, order.id, { attentionReason: 'disputed' });
  await appendAudit(tx, {
    entityType: 'order',
    entityId: order.id,
    action: 'payment_disputed',
    actor,
    reason: dispute.reason ?? 'disputed',
    oldValues: { attentionReason: order.attentionReason, disputedCents: payment.disputedCents },
    newValues: { attentionReason: 'disputed', disputedCents: Math.max(disputed, payment.disputedCents), disputeId: dispute.id },
  });
  return processed();
};
