import { getConfig } from '../config.js';
import { db, type Tx, transaction } from '../db/client.js';
import { type Actor, appendAudit } from '../db/models/audit-log.js';
import { countActiveItemsByType } from '../db/models/order-items.js';
import {
  type AttentionReason,
  HOLDING_ORDER_STATUSES,
  lockOrderById,
  type Order,
  type Provider,
  updateOrder,
} from '../db/models/orders.js';
import {
  findPaymentByProviderPayment,
  insertDuplicatePayment,
  isCaptured,
  lockLatestPaymentForOrder,
  lockPaymentById,
  type Payment,
} from '../db/models/payments.js';
import { trySellAllWithoutHold } from '../db/models/ticket-types.js';
import { recordMovement } from '../ledger/record-movement.js';
import { feeCurrencyDiffers } from '../ledger/fee-currency-differs.js';
import { recordProviderFeeInTx } from '../ledger/record-provider-fee.js';
import { isHolding, isPaid, statusesMovingTo } from './state-machine.js';
import { transition } from './transition.js';
import { notifyOrderCompletedInTx } from '../messages/notify-buyer.js';
import { logBusinessEvent, logBusinessEventAfterCommit } from '../ops/business-events.js';
import {
  completionGroupKey,
  type OneStatementCompletion,
  type StoreAndComplete,
  storeAndCompleteHeldOrders,
} from '../db/models/order-completion.js';
import { halfThePool, statementGroups } from '../db/statement-groups.js';
import type { StorableEvent } from '../db/models/webhook-events.js';
import { isUuid } from '../ids.js';
import { scheduleDelivery } from '../messages/schedule-delivery.js';

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
  /** The provider's fee when the report carries it (PayPal's seller_receivable_breakdown); Stripe's is read after commit. */
  fee?: { cents: number; currency: string; netCents?: number | undefined; providerRef: string } | undefined;
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

/** The payment's money is captured: completed (through the state machine), with the provider's ids and card details. */
async function completePayment(tx: Tx, payment: Payment, input: FinalizePaymentInput, now: Date): Promise<Payment> {
  return await transition(tx, 'payment', payment, 'completed', {
    providerSessionId: input.providerSessionId ?? payment.providerSessionId,
    providerPaymentId: input.providerPaymentId,
    completedAt: now,
    ...cardDetails(input),
  });
}

/**
 * The money is in: the capture goes on the ledger (and the provider's fee, when the report carries
 * it), in this transaction. Every path below that records captured money calls it once.
 */
async function bookCapture(tx: Tx, payment: Payment, input: FinalizePaymentInput, at: Date): Promise<void> {
  await recordMovement(tx, {
    kind: 'capture',
    orderId: payment.orderId,
    paymentId: payment.id,
    provider: input.provider,
    providerRef: input.providerPaymentId,
    amountCents: input.amountCents,
    currency: input.currency,
    occurredAt: at,
  });
  if (input.fee) {
    await recordProviderFeeInTx(tx, {
      paymentId: payment.id,
      feeCents: input.fee.cents,
      currency: input.fee.currency,
      providerRef: input.fee.providerRef,
      netCents: input.fee.netCents,
    });
  }
}

/** Flags the order for staff (amount mismatch, late payment without capacity) with its audit entry; the action is the reason. */
async function flagOrder(
  tx: Tx,
  order: Order,
  reason: AttentionReason,
  actor: Actor,
  values: { oldValues: Record<string, unknown>; newValues: Record<string, unknown> },
): Promise<Order> {
  const flagged = await updateOrder(tx, order.id, { attentionReason: reason });
  await appendAudit(tx, {
    entityType: 'order',
    entityId: order.id,
    action: reason === 'amount_mismatch' ? 'payment_amount_mismatch' : reason,
    actor,
    reason,
    ...values,
  });
  return flagged;
}

/** Sells every ticket of the order without a hold, all or nothing. */
async function sellLate(tx: Tx, orderId: string): Promise<boolean> {
  return await trySellAllWithoutHold(tx, await countActiveItemsByType(tx, orderId));
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
    const duplicate = await insertDuplicatePayment(tx, {
      orderId: order.id,
      provider: input.provider,
      amountCents: input.amountCents,
      currency,
      providerPaymentId: input.providerPaymentId,
      ...cardDetails(input),
    });
    if (!duplicate) return { outcome: 'already_final', order };
    await bookCapture(tx, duplicate, input, duplicate.createdAt);
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
    const flagged = await flagOrder(tx, order, 'amount_mismatch', input.actor, {
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
      const recorded = await completePayment(tx, payment, input, now);
      await bookCapture(tx, recorded, input, now);
      const flagged = await flagOrder(tx, order, 'late_payment_no_capacity', input.actor, {
        oldValues: { status: order.status },
        newValues: { paymentId: payment.id, providerPaymentId: input.providerPaymentId, amountCents: input.amountCents },
      });
      return { outcome: 'late_no_capacity', order: flagged, payment: recorded };
    }
  }

  const completedPayment = await completePayment(tx, payment, input, now);
  await bookCapture(tx, completedPayment, input, now);
  const completedOrder = await transition(tx, 'order', order, 'completed', { holdExpiresAt: null, completedAt: now });
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
  // An order paid in time changes no ticket-type counter: its hold is already counted in `taken`, and
  // it is "sold" because its status is now paid (sold / held derive from the order items). The hot
  // ticket-type row every checkout locks is not touched by a completion (issue 17).
  // The confirmation email, queued in this transaction (sent after the commit; never fails the payment).
  await notifyOrderCompletedInTx(tx, { orderId: order.id, paymentId: payment.id });
  logBusinessEventAfterCommit(tx, {
    event: 'order.paid',
    orderId: order.id,
    orderNumber: order.orderNumber,
    paymentId: payment.id,
    provider: input.provider,
    providerPaymentId: input.providerPaymentId,
    amountCents: input.amountCents,
    currency,
    late,
  });
  return { outcome: 'completed', order: completedOrder, payment: completedPayment, late };
}

/** Finalize in its own short transaction. */
export async function finalizeOrderPayment(input: FinalizePaymentInput): Promise<FinalizeResult> {
  return await transaction((tx) => finalizeOrderPaymentInTx(tx, input));
}

/** Order statuses the one-statement completion may complete: a live hold the state machine lets complete. */
const ON_TIME_ORDER_FROM = statusesMovingTo('order', 'completed', HOLDING_ORDER_STATUSES);
/** Payment statuses the state machine lets complete. */
const PAYMENT_FROM = statusesMovingTo('payment', 'completed');

/**
 * The one-statement completions of concurrent deliveries share statements (group commit,
 * lib/db/statement-groups.ts): up to half the pool's connections run such a statement at once, and the
 * deliveries that arrive meanwhile go in the next one, up to 50 per statement. Two deliveries of the same
 * event or for the same order never share one.
 */
const heldCompletions = statementGroups<OneStatementCompletion, StoreAndComplete>({
  maxInFlight: () => halfThePool(),
  maxGroup: 50,
  keysOf: (c) => [`event:${c.provider}:${c.inbox.providerEventId}`, `order:${c.orderId}`],
  groupOf: completionGroupKey,
  runGroup: (list) => storeAndCompleteHeldOrders(db, list),
});

/**
 * A webhook delivery stored in the inbox and, in the common case of finalize, applied, in ONE statement
 * (lib/db/models/order-completion.ts): the order's hold is live, nothing is flagged, the amount and
 * currency are the order's. Everything finalizeOrderPaymentInTx writes for that case (payment + order
 * completed through the state machine's allowed moves, the ledger capture and a reported fee, the audit
 * entry, the queued confirmation) and the inbox row (processed) commit together, in one database
 * round trip.
 *
 * Answers `completed`, or `stored`: the row stored as `received`, nothing else written (the caller
 * applies the event the usual way, where finalizeOrderPaymentInTx decides every other outcome: already
 * paid, duplicate, mismatch, late payment), or a duplicate (already stored: nothing written).
 * Undefined, before any query, when the input cannot be that case (the caller stores the event itself).
 * The after-commit work is the same as finalize's: the email is scheduled and the business event logged
 * once the statement has committed.
 */
export async function storeAndFinalizeHeldOrder(
  input: FinalizePaymentInput,
  delivery: StorableEvent,
): Promise<StoreAndComplete | undefined> {
  if (!isUuid(input.orderId)) return undefined;
  // A fee that is not whole minor units is refused by recordProviderFeeInTx on the usual path.
  if (input.fee && !(Number.isSafeInteger(input.fee.cents) && input.fee.cents >= 0)) return undefined;
  const currency = input.currency.toUpperCase();
  const card = cardDetails(input);
  const stored = await heldCompletions.run({
    inbox: delivery,
    orderId: input.orderId,
    provider: input.provider,
    providerSessionId: input.providerSessionId ?? null,
    providerPaymentId: input.providerPaymentId,
    amountCents: input.amountCents,
    currency,
    methodType: card.methodType,
    methodBrand: card.methodBrand,
    methodLast4: card.methodLast4,
    fee: input.fee
      ? {
          cents: input.fee.cents,
          currency: input.fee.currency,
          netCents: input.fee.netCents ?? null,
          providerRef: input.fee.providerRef,
        }
      : null,
    actor: input.actor,
    orderFrom: ON_TIME_ORDER_FROM,
    paymentFrom: PAYMENT_FROM,
    ledgerWrites: getConfig().ledger.writes,
    at: new Date(),
  });
  const { completed } = stored;
  if (!completed) return stored;
  if (input.fee) feeCurrencyDiffers('provider fee', { paymentId: completed.paymentId }, input.fee.currency, currency);
  // After the commit (the statement was its own transaction): the email, then the business event.
  if (completed.outboxMessageId) scheduleDelivery([completed.outboxMessageId]);
  logBusinessEvent({
    event: 'order.paid',
    orderId: completed.orderId,
    orderNumber: completed.orderNumber,
    paymentId: completed.paymentId,
    provider: input.provider,
    providerPaymentId: input.providerPaymentId,
    amountCents: input.amountCents,
    currency,
    late: false,
  });
  return stored;
}
