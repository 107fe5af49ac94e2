import type { Tx } from '../db/client.js';
import { type Actor, appendAudit } from '../db/models/audit-log.js';
import { lockOrderById } from '../db/models/orders.js';
import { recordPaymentFailure } from '../db/models/payment-failures.js';
import { type FailureReport, failureRow, lockPaymentForFailure } from './failure-report.js';

/**
 * A payment attempt was declined but the buyer may try again on the same checkout (Stripe
 * payment_intent.payment_failed; a PayPal capture declined, from the browser return or the webhook's
 * capture): the failure is recorded with the decline code and the payment's failure count goes up;
 * order and hold stay as they are. One audit action: `payment_declined`.
 */
export async function recordPaymentDeclineInTx(tx: Tx, orderId: string, failure: FailureReport, actor: Actor): Promise<boolean> {
  const order = await lockOrderById(tx, orderId);
  if (!order) return false;
  const payment = await lockPaymentForFailure(tx, order, failure.providerPaymentId);
  if (!payment || !['pending', 'processing', 'failed'].includes(payment.status)) return false;
  const recorded = await recordPaymentFailure(tx, failureRow(order.id, payment.id, failure));
  await appendAudit(tx, {
    entityType: 'order',
    entityId: order.id,
    action: 'payment_declined',
    actor,
    reason: failure.declineCode ?? failure.code,
    newValues: { paymentId: payment.id, failureId: recorded.id, retryCount: recorded.retryCount, code: failure.code },
  });
  return true;
}
