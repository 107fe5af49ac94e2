import { type Tx, transaction } from '../db/client.js';
import { type Actor, appendAudit } from '../db/models/audit-log.js';
import { countActiveItemsByType } from '../db/models/order-items.js';
import { lockOrderById, type Order, type Provider, updateOrder } from '../db/models/orders.js';
import {
  findPaymentByProviderPayment,
  isCaptured,
  lockLatestPaymentForOrder,
  lockPaymentById,
  type Payment,
  updatePayment,
} from '../db/models/payments.js';
import { convertHoldToSold, trySellWithoutHold } from '../db/models/ticket-types.js';
import { isHolding, isPaid } from './state-machine.js';

/**
 * The one finalize function: used by the PayPal return, every webhook that reports money captured,
 * and the reconciliation sweeper. The browser return and the webhook race each other; the order row
 * lock makes one of them do the work and the other find the order final and do nothing.
 */

export interface FinalizePaymentInput {
  orderId: string;
  provider: Provider;
  /** Stripe Checkout Session id / PayPal order id, when known. */
  providerSessionId?: string | undefined;
  /** Stripe PaymentIntent id / PayPal capture id: what refunds are made against. */
  providerPaymentId: string;
  /** What the provider says it captured, in minor units and its currency code (any case). */
  amountCents: number;
  currency: string;
  methodType?: string | undefined;
  methodBrand?: string | undefined;
  methodLast4?: string | undefined;
  actor: Actor;
}

export type FinalizeResult =
  /** Hold turned into sold tickets; order and payment completed. `late`: the hold had ended but capacity was there. */
  | { outcome: 'completed'; order: Order; payment: Payment; late: boolean }
  /** Already completed by this same payment (duplicate delivery, browser/webhook race): nothing changed. */
  | { outcome: 'already_final'; order: Order }
  /** The order was already paid by another payment: this money must go back (the caller refunds it). */
  | { outcome: 'duplicate_payment'; order: Order; payment: Payment }
  /** Amount or currency differ from the order: not completed, flagged and audited. */
  | { outcome: 'amount_mismatch'; order: Order }
  /** Late payment and the tickets are gone: payment recorded, order flagged; the caller refunds it in full. */
  | { outcome: 'late_no_capacity'; order: Order; payment: Payment }
  | { outcome: 'order_not_found' };

const cardDetails = (input: FinalizePaymentInput) => ({
  methodType: input.methodType ?? null,
  methodBrand: input.methodBrand ?? null,
  methodLast4: input.methodLast4 && /^[0-9]{4}$/.test(input.methodLast4) ? input.methodLast4 : null,
});

/** Sells every ticket of the order without a hold, all or nothing (savepoint). */
async function sellLate(tx: Tx, orderId: string): Promise<boolean> {
  const items = await countActiveItemsByType(tx, orderId);
  await tx.query('SAVEPOINT late_sale');
  for (const item of items) {
    if (!(await trySellWithoutHold(tx, item.ticketTypeId, item.quantity))) {
      await tx.query('ROLLBACK TO SAVEPOINT late_sale');
      return false;
    }
  }
  await tx.query('RELEASE SAVEPOINT late_sale');
  return true;
}

/** The payment row this money belongs to: the one already carrying the provider id, else the order's latest attempt. */
async function paymentFor(tx: Tx, input: FinalizePaymentInput): Promise<Payment | undefined> {
  const byProviderId = await findPaymentByProviderPayment(tx, input.provider, input.providerPaymentId);
  if (byProviderId && byProviderId.orderId === input.orderId) return await lockPaymentById(tx, byProviderId.id);
  return await lockLatestPaymentForOrder(tx, input.orderId);
}

export async function finalizeOrderPaymentInTx(tx: Tx, input: FinalizePaymentInput): Promise<FinalizeResult> {
  const order = await lockOrderById(tx, input.orderId);
  if (!order) return { outcome: 'order_not_found' };
  const payment = await paymentFor(tx, input);
  if (!payment) return { outcome: 'order_not_found' };
  const currency = input.currency.toUpperCase();

  if (isPaid(order.status)) {
    if (payment.providerPaymentId === input.providerPaymentId) {
      // The same duplicate payment reported again: still owed back (the caller's refund is idempotent).
      if (payment.status === 'cancelled' && payment.failureCode === 'duplicate_payment') {
        return { outcome: 'duplicate_payment', order, payment };
      }
      return { outcome: 'already_final', order };
    }
    // Paid twice (e.g. two captures): record the second payment, voided as a duplicate, so it can be refunded.
    const duplicate = await tx.queryOne<Payment>(
      `INSERT INTO payments (order_id, provider, status, amount_cents, currency, provider_payment_id, method_type, method_brand,
         method_last4, failure_code, failure_message)
       VALUES ($1, $2, 'cancelled', $3, $4, $5, $6, $7, $8, 'duplicate_payment', 'Order was already paid; refund due')
       ON CONFLICT (provider, provider_payment_id) DO UPDATE SET updated_at = now()
       RETURNING id, order_id AS "orderId", provider, status, amount_cents AS "amountCents", currency,
         refunded_cents AS "refundedCents", disputed_cents AS "disputedCents", provider_session_id AS "providerSessionId",
         provider_payment_id AS "providerPaymentId", checkout_url AS "checkoutUrl", method_type AS "methodType",
         method_brand AS "methodBrand", method_last4 AS "methodLast4", failure_count AS "failureCount",
         failure_code AS "failureCode", failure_message AS "failureMessage", completed_at AS "completedAt",
         created_at AS "createdAt", updated_at AS "updatedAt"`,
      [
        order.id,
        input.provider,
        input.amountCents,
        currency,
        input.providerPaymentId,
        cardDetails(input).methodType,
        cardDetails(input).methodBrand,
        cardDetails(input).methodLast4,
      ],
    );
    if (!duplicate) return { outcome: 'already_final', order };
    await appendAudit(tx, {
      entityType: 'order',
      entityId: order.id,
      action: 'duplicate_payment_received',
      actor: input.actor,
      newValues: { providerPaymentId: input.providerPaymentId, amountCents: input.amountCents, currency },
    });
    return { outcome: 'duplicate_payment', order, payment: duplicate };
  }

  if (input.amountCents !== order.totalCents || currency !== order.currency) {
    if (order.attentionReason === 'amount_mismatch') return { outcome: 'amount_mismatch', order };
    const flagged = await updateOrder(tx, order.id, { attentionReason: 'amount_mismatch' });
    await appendAudit(tx, {
      entityType: 'order',
      entityId: order.id,
      action: 'payment_amount_mismatch',
      actor: input.actor,
      reason: 'amount_mismatch',
      oldValues: { totalCents: order.totalCents, currency: order.currency },
      newValues: { amountCents: input.amountCents, currency, providerPaymentId: input.providerPaymentId },
    });
    return { outcome: 'amount_mismatch', order: flagged };
  }

  // The same late payment reported again after it was recorded without capacity: nothing new to
  // record (no second audit entry, and never a sale for money that is being refunded).
  if (
    order.attentionReason === 'late_payment_no_capacity' &&
    payment.providerPaymentId === input.providerPaymentId &&
    isCaptured(payment.status)
  ) {
    return { outcome: 'late_no_capacity', order, payment };
  }

  const late = !isHolding(order.status);
  const now = new Date();
  if (late) {
    if (!(await sellLate(tx, order.id))) {
      const recorded = await updatePayment(tx, payment.id, {
        status: 'completed',
        providerSessionId: input.providerSessionId ?? payment.providerSessionId,
        providerPaymentId: input.providerPaymentId,
        completedAt: now,
        ...cardDetails(input),
      });
      const flagged = await updateOrder(tx, order.id, { attentionReason: 'late_payment_no_capacity' });
      await appendAudit(tx, {
        entityType: 'order',
        entityId: order.id,
        action: 'late_payment_no_capacity',
        actor: input.actor,
        reason: 'late_payment_no_capacity',
        oldValues: { status: order.status },
        newValues: { paymentId: payment.id, providerPaymentId: input.providerPaymentId, amountCents: input.amountCents },
      });
      return { outcome: 'late_no_capacity', order: flagged, payment: recorded };
    }
  }

  const completedPayment = await updatePayment(tx, payment.id, {
    status: 'completed',
    providerSessionId: input.providerSessionId ?? payment.providerSessionId,
    providerPaymentId: input.providerPaymentId,
    completedAt: now,
    ...cardDetails(input),
  });
  const completedOrder = await updateOrder(tx, order.id, { status: 'completed', holdExpiresAt: null, completedAt: now });
  await appendAudit(tx, {
    entityType: 'order',
    entityId: order.id,
    action: late ? 'late_payment_completed' : 'payment_completed',
    actor: input.actor,
    oldValues: { status: order.status },
    newValues: {
      status: 'completed',
      paymentId: payment.id,
      provider: input.provider,
      providerPaymentId: input.providerPaymentId,
      amountCents: input.amountCents,
      currency,
    },
  });
  if (!late) {
    // The hold becomes sold. Last, so that the ticket type's row (the counter every buyer and every
    // completion of that type updates) stays locked for as short a time as possible.
    for (const item of await countActiveItemsByType(tx, order.id)) {
      await convertHoldToSold(tx, item.ticketTypeId, item.quantity);
    }
  }
  return { outcome: 'completed', order: completedOrder, payment: completedPayment, late };
}

/** Finalize in its own short transaction. */
export async function finalizeOrderPayment(input: FinalizePaymentInput): Promise<FinalizeResult> {
  return await transaction((tx) => finalizeOrderPaymentInTx(tx, input));
}
