import type { Tx } from '../db/client.js';
import { type Actor, appendAudit } from '../db/models/audit-log.js';
import { findOrderById, lockOrderById, type Order, type Provider, updateOrder } from '../db/models/orders.js';
import { recordPaymentFailure } from '../db/models/payment-failures.js';
import {
  findPaymentByProviderPayment,
  findPaymentByProviderSession,
  lockLatestPaymentForOrder,
  lockPaymentById,
  type Payment,
  type PaymentChanges,
  updatePayment,
} from '../db/models/payments.js';
import { expireHeldOrderInTx, releaseOrderHolds } from '../checkout/holds.js';
import { finalizeOrderPaymentInTx, type FinalizePaymentInput } from '../payments/finalize-order.js';
import { canTransition, isHolding } from '../payments/state-machine.js';
import { type ApplyOutcome, ignored, processed } from './types.js';

/**
 * Order-level effects shared by the Stripe and PayPal handlers. Every status write asks the state
 * machine first; a no-op writes nothing and audits nothing.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/**
 * Our order for a provider object: the order id we sent (client_reference_id / metadata / custom_id),
 * else the payment row carrying the provider's session or payment id.
 */
export async function resolveOrderId(
  tx: Tx,
  provider: Provider,
  refs: { orderId?: string | null | undefined; sessionId?: string | null | undefined; paymentId?: string | null | undefined },
): Promise<string | undefined> {
  if (isUuid(refs.orderId) && (await findOrderById(tx, refs.orderId))) return refs.orderId;
  if (refs.sessionId) {
    const bySession = await findPaymentByProviderSession(tx, provider, refs.sessionId);
    if (bySession) return bySession.orderId;
  }
  if (refs.paymentId) {
    const byPayment = await findPaymentByProviderPayment(tx, provider, refs.paymentId);
    if (byPayment) return byPayment.orderId;
  }
  return undefined;
}

/** Runs finalize and turns its outcome into the event outcome (refunds are follow-ups, after commit). */
export async function finalizeFromEvent(tx: Tx, input: FinalizePaymentInput): Promise<ApplyOutcome> {
  const result = await finalizeOrderPaymentInTx(tx, input);
  switch (result.outcome) {
    case 'completed':
    case 'already_final':
      return processed();
    case 'amount_mismatch':
      // Not completed; flagged and audited by finalize. Staff decide (refund or accept).
      return processed();
    case 'late_no_capacity':
      return processed([
        { kind: 'refund_payment', orderId: result.order.id, paymentId: result.payment.id, reason: 'late_payment_no_capacity' },
      ]);
    case 'duplicate_payment':
      return processed([
        { kind: 'refund_payment', orderId: result.order.id, paymentId: result.payment.id, reason: 'duplicate_payment' },
      ]);
    case 'order_not_found':
      return ignored('No matching order');
  }
}

/** Payment started but not settled (async method, PayPal pending capture): order and payment `processing`. */
export async function markOrderProcessing(
  tx: Tx,
  orderId: string,
  refs: { providerSessionId?: string | undefined; providerPaymentId?: string | undefined },
  actor: Actor,
): Promise<boolean> {
  const order = await lockOrderById(tx, orderId);
  if (order?.status !== 'pending' || !canTransition('order', order.status, 'processing')) return false;
  const payment = await lockLatestPaymentForOrder(tx, order.id);
  await updateOrder(tx, order.id, { status: 'processing' });
  if (payment) {
    const changes: PaymentChanges = {};
    if (canTransition('payment', payment.status, 'processing')) changes.status = 'processing';
    if (refs.providerSessionId && !payment.providerSessionId) changes.providerSessionId = refs.providerSessionId;
    if (refs.providerPaymentId && !payment.providerPaymentId) changes.providerPaymentId = refs.providerPaymentId;
    await updatePayment(tx, payment.id, changes);
  }
  await appendAudit(tx, {
    entityType: 'order',
    entityId: order.id,
    action: 'payment_processing',
    actor,
    oldValues: { status: order.status },
    newValues: { status: 'processing', providerPaymentId: refs.providerPaymentId ?? null },
  });
  return true;
}

/** Checkout session / PayPal order abandoned: the checkout's own hold expiry, now (not waiting for the clock). */
export async function expireOrderFromEvent(tx: Tx, orderId: string, actor: Actor, reason: string): Promise<boolean> {
  const outcome = await expireHeldOrderInTx(tx, orderId, { actor, reason, onlyIfDue: false });
  return outcome.expired;
}

export interface FailureReport {
  provider: Provider;
  code: string;
  declineCode?: string | null | undefined;
  message?: string | null | undefined;
  providerEventId: string;
  providerPaymentId?: string | undefined;
}

/**
 * The payment failed. For an order still holding tickets: order and payment failed, hold released,
 * failure recorded, one audit entry. For a payment still open on an order that is no longer holding:
 * the failure is recorded. Otherwise (already paid, already failed) nothing changes.
 */
export async function failOrderFromEvent(tx: Tx, orderId: string, failure: FailureReport, actor: Actor): Promise<boolean> {
  const order = await lockOrderById(tx, orderId);
  if (!order) return false;
  const payment = await paymentForFailure(tx, order, failure.providerPaymentId);
  const openPayment = payment && ['pending', 'processing'].includes(payment.status) ? payment : undefined;
  const endsOrder = isHolding(order.status) && canTransition('order', order.status, 'failed');
  if (!endsOrder && !openPayment) return false;

  let released: { ticketTypeId: string; quantity: number }[] = [];
  if (endsOrder) {
    released = await releaseOrderHolds(tx, order.id);
    await updateOrder(tx, order.id, { status: 'failed' });
  }
  if (openPayment) {
    await recordPaymentFailure(tx, failureRow(order.id, openPayment.id, failure));
    const changes: PaymentChanges = {};
    if (canTransition('payment', openPayment.status, 'failed')) changes.status = 'failed';
    if (failure.providerPaymentId && !openPayment.providerPaymentId) changes.providerPaymentId = failure.providerPaymentId;
    await updatePayment(tx, openPayment.id, changes);
  }
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

/** The payment_failures row a provider's failure report becomes. */
function failureRow(orderId: string, paymentId: string, failure: FailureReport) {
  return {
    paymentId,
    orderId,
    provider: failure.provider,
    code: failure.code,
    declineCode: failure.declineCode ?? null,
    message: failure.message ?? null,
    providerEventId: failure.providerEventId,
  };
}

async function paymentForFailure(tx: Tx, order: Order, providerPaymentId: string | undefined): Promise<Payment | undefined> {
  if (providerPaymentId) {
    const byId = await findPaymentByProviderPayment(tx, order.provider, providerPaymentId);
    if (byId && byId.orderId === order.id) return await lockPaymentById(tx, byId.id);
  }
  return await lockLatestPaymentForOrder(tx, order.id);
}

/**
 * A payment attempt was declined but the buyer may try again on the same checkout
 * (payment_intent.payment_failed): the failure is recorded with the decline code and the payment's
 * failure count goes up; order and hold stay as they are.
 */
export async function recordDeclineFromEvent(tx: Tx, orderId: string, failure: FailureReport, actor: Actor): Promise<boolean> {
  const order = await lockOrderById(tx, orderId);
  if (!order) return false;
  const payment = await paymentForFailure(tx, order, failure.providerPaymentId);
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
