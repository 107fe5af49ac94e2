import type { Tx } from '../db/client.js';
import { type Actor, appendAudit } from '../db/models/audit-log.js';
import { lockOrderById } from '../db/models/orders.js';
import { recordPaymentFailure } from '../db/models/payment-failures.js';
import { releaseOrderHolds } from '../checkout/holds.js';
import { notifyPaymentFailedInTx } from '../messages/notify-buyer.js';
import { type FailureReport, failureRow, lockPaymentForFailure } from './failure-report.js';
import { canTransition, isHolding } from './state-machine.js';
import { transition } from './transition.js';

/**
 * The payment failed (Stripe async payment failed, PayPal capture denied). For an order still
 * holding tickets: order and payment failed, hold released, failure recorded, one audit entry. For
 * a payment still open on an order that is no longer holding: the failure is recorded. Otherwise
 * (already paid, already failed) nothing changes. An order that fails here queues the buyer's "payment did not go
 * through" email in the same transaction.
 */
export async function failPaymentInTx(tx: Tx, orderId: string, failure: FailureReport, actor: Actor): Promise<boolean> {
  const order = await lockOrderById(tx, orderId);
  if (!order) return false;
  const payment = await lockPaymentForFailure(tx, order, failure.providerPaymentId);
  const openPayment = payment && ['pending', 'processing'].includes(payment.status) ? payment : undefined;
  const endsOrder = isHolding(order.status) && canTransition('order', order.status, 'failed');
  if (!endsOrder && !openPayment) return false;

  let released: { ticketTypeId: string; quantity: number }[] = [];
  if (endsOrder) {
    released = await releaseOrderHolds(tx, order.id);
    await transition(tx, 'order', order, 'failed');
  }
  if (openPayment) {
    await recordPaymentFailure(tx, failureRow(order.id, openPayment.id, failure));
    const providerPaymentId =
      failure.providerPaymentId && !openPayment.providerPaymentId ? { providerPaymentId: failure.providerPaymentId } : {};
    const to = canTransition('payment', openPayment.status, 'failed') ? 'failed' : openPayment.status;
    await transition(tx, 'payment', openPayment, to, providerPaymentId);
  }
  // The buyer hears that the payment did not go through (queued in this transaction, sent after it commits).
  if (endsOrder) await notifyPaymentFailedInTx(tx, { orderId: order.id, paymentId: payment?.id, failureCode: failure.code });
  await appendAudit(tx, {
    entityType: 'order',
    entityId: order.id,
    action: endsOrder ? 'payment_failed' : 'payment_failure_recorded',
    actor,
    reason: failure.code,
    oldValues: { status: order.status },
    newValues: {
      status: endsOrder ? 'failed' : order.status,
      declineCode: failure.declineCode ?? null,
      released,
    },
  });
  return true;
}
