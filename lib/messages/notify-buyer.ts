import type { Tx } from '../db/client.js';
import type { Order, OrderStatus } from '../db/models/orders.js';
import { CAPTURED_PAYMENT_STATUSES, type Payment } from '../db/models/payments.js';
import type { Refund } from '../db/models/refunds.js';
import { buyerStartedPaying } from '../db/queries/message-facts.js';
import { isPaid } from '../payments/state-machine.js';
import { enqueueMessageInTx } from './enqueue-message.js';

/**
 * The buyer emails the money flows queue, each in the transaction of the change it reports (called by
 * finalize, refund settlement, hold expiry and cancellation). Every one is keyed by its cause, so a
 * replay of the same change queues nothing new. Nothing here sends anything or can fail for a mail reason.
 */

/** The order was just completed by `paymentId` (the one finalize function). */
export async function notifyOrderCompletedInTx(tx: Tx, input: { orderId: string; paymentId: string }) {
  return await enqueueMessageInTx(tx, {
    orderId: input.orderId,
    kind: 'order_confirmation',
    cause: `payment:${input.paymentId}`,
  });
}

/**
 * A refund has just succeeded (order, payment: as they are after the money moved). A system refund of
 * a late payment whose tickets were gone is its own kind of email; every other refund is a refund notice
 * with what remains paid: of the order when this payment is what paid it, else of this payment.
 */
export async function notifyRefundSucceededInTx(
  tx: Tx,
  input: { order: Order; payment: Payment; refund: Refund; releasedTickets: number },
) {
  const { order, payment, refund } = input;
  const latePayment = refund.source === 'system' && refund.reason.startsWith('late_payment_no_capacity');
  const paysOrder = isPaid(order.status) && CAPTURED_PAYMENT_STATUSES.includes(payment.status);
  const refundedTotalCents = paysOrder ? order.refundedCents : payment.refundedCents;
  const remainingPaidCents = paysOrder ? order.totalCents - order.refundedCents : payment.amountCents - payment.refundedCents;
  return await enqueueMessageInTx(tx, {
    orderId: order.id,
    kind: latePayment ? 'late_payment_refund' : 'refund_notification',
    cause: `refund:${refund.id}`,
    payload: {
      amountCents: refund.amountCents,
      currency: refund.currency,
      refundedTotalCents,
      remainingPaidCents: Math.max(0, remainingPaidCents),
      releasedTickets: input.releasedTickets,
    },
  });
}

/**
 * The order ended unpaid (hold expired, or cancelled). The buyer hears about it only when they had
 * started paying: the order was `processing` (payment in flight), or a payment attempt failed. A buyer who
 * merely opened the checkout and left gets no email.
 */
export async function notifyOrderEndedInTx(
  tx: Tx,
  input: { orderId: string; how: 'expired' | 'cancelled'; previousStatus: OrderStatus },
) {
  const started = input.previousStatus === 'processing' || (await buyerStartedPaying(tx, input.orderId));
  if (!started) return undefined;
  return await enqueueMessageInTx(tx, {
    orderId: input.orderId,
    kind: input.how === 'expired' ? 'order_expired' : 'order_cancelled',
    cause: input.how,
  });
}

/**
 * The payment failed after the buyer had started paying (Stripe checkout.session.async_payment_failed, PayPal
 * PAYMENT.CAPTURE.DENIED / DECLINED) and the order failed with it, its tickets released (lib/payments/fail-payment.ts,
 * in that transaction). Keyed by the payment: a replayed or duplicated webhook queues nothing new. `failureCode`
 * is our code (e.g. `async_payment_failed`), never a provider id.
 */
export async function notifyPaymentFailedInTx(
  tx: Tx,
  input: { orderId: string; paymentId: string | undefined; failureCode: string },
) {
  return await enqueueMessageInTx(tx, {
    orderId: input.orderId,
    kind: 'payment_failed',
    cause: input.paymentId ? `payment:${input.paymentId}` : 'order-failed',
    payload: { failureCode: input.failureCode },
  });
}
