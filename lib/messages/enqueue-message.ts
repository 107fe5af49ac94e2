import { afterCommit } from '../db/after-commit.js';
import type { Tx } from '../db/client.js';
import { insertOutboxMessageIfNew, type NewOutboxMessage, type OutboxMessage } from '../db/models/outbox-messages.js';
import { scheduleDelivery } from './schedule-delivery.js';

/**
 * Queues an email in the caller's transaction, the one that makes the change the email reports, so the
 * email exists exactly when the change does. (order, kind, cause) is unique: the same change reported
 * twice (a webhook replay, 20 concurrent deliveries) queues it once. Sending starts after COMMIT.
 * Nothing here can fail for a mail reason (no SMTP, no rendering): the payment never depends on email.
 */
export async function enqueueMessageInTx(tx: Tx, message: NewOutboxMessage): Promise<OutboxMessage | undefined> {
  const queued = await insertOutboxMessageIfNew(tx, message);
  if (!queued) return undefined;
  afterCommit(tx, () => scheduleDelivery([queued.id]));
  return queued;
}

/** The confirmation of an order that `paymentId` has just paid. */
export async function enqueueOrderConfirmationInTx(tx: Tx, input: { orderId: string; paymentId: string }) {
  return await enqueueMessageInTx(tx, {
    orderId: input.orderId,
    kind: 'order_confirmation',
    cause: `payment:${input.paymentId}`,
  });
}

/** A refund that has just succeeded: its amount, and what stays paid afterwards. */
export async function enqueueRefundNoticeInTx(
  tx: Tx,
  input: {
    orderId: string;
    refundId: string;
    amountCents: number;
    currency: string;
    refundedTotalCents: number;
    remainingPaidCents: number;
    releasedTickets: number;
    latePayment: boolean;
  },
) {
  return await enqueueMessageInTx(tx, {
    orderId: input.orderId,
    kind: input.latePayment ? 'late_payment_refund' : 'refund_notification',
    cause: `refund:${input.refundId}`,
    payload: {
      amountCents: input.amountCents,
      currency: input.currency,
      refundedTotalCents: input.refundedTotalCents,
      remainingPaidCents: input.remainingPaidCents,
      releasedTickets: input.releasedTickets,
    },
  });
}

/** An order that ended unpaid after the buyer had started paying (expired hold, cancellation). */
export async function enqueueOrderEndedInTx(tx: Tx, input: { orderId: string; how: 'expired' | 'cancelled' }) {
  return await enqueueMessageInTx(tx, {
    orderId: input.orderId,
    kind: input.how === 'expired' ? 'order_expired' : 'order_cancelled',
    cause: input.how,
  });
}
