import type { Tx } from '../db/client.js';
import { isUuid } from '../ids.js';
import type { Actor } from '../db/models/audit-log.js';
import { findOrderById, type Provider } from '../db/models/orders.js';
import { findPaymentByProviderPayment, findPaymentByProviderSession } from '../db/models/payments.js';
import { expireHeldOrderInTx } from '../checkout/holds.js';
import {
  storeAndFinalizeHeldOrder,
  finalizeOrderPaymentInTx,
  type FinalizePaymentInput,
  type FinalizeResult,
} from '../payments/finalize-order.js';
import {
  type ApplyOutcome,
  type FollowUp,
  ignored,
  type LeaselessFollowUp,
  processed,
  type StoreAndApplyContext,
  type StoredAndApplied,
} from './types.js';

/**
 * What the Stripe and PayPal handlers share: finding our order for a provider object and turning
 * the payment domain's outcomes into event outcomes. The payment transitions themselves live in
 * lib/payments/ (mark-payment-processing, fail-payment, record-payment-decline, finalize-order).
 */

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

/** Stripe's fee is on the charge's balance transaction: read after the completion commits (a provider call). */
function feeFollowUps(input: FinalizePaymentInput, paymentId: string): LeaselessFollowUp[] {
  return input.provider === 'stripe' && !input.fee ? [{ kind: 'record_fee', paymentId }] : [];
}

/**
 * The full refund of money finalize did not want: a late payment whose tickets are gone, or a second payment of
 * a paid order. A follow-up (a provider call after commit), asked the same way by the webhooks and the sweeper.
 */
export function unwantedPaymentRefund(
  result: Extract<FinalizeResult, { outcome: 'late_no_capacity' | 'duplicate_payment' }>,
): Extract<FollowUp, { kind: 'refund_payment' }> {
  return {
    kind: 'refund_payment',
    orderId: result.order.id,
    paymentId: result.payment.id,
    reason: result.outcome === 'late_no_capacity' ? 'late_payment_no_capacity' : 'duplicate_payment',
  };
}

/** Runs finalize and turns its outcome into the event outcome (refunds are follow-ups, after commit). */
export async function finalizeFromEvent(tx: Tx, input: FinalizePaymentInput): Promise<ApplyOutcome> {
  const result = await finalizeOrderPaymentInTx(tx, input);
  const fee = (paymentId: string) => feeFollowUps(input, paymentId);
  switch (result.outcome) {
    case 'completed':
      return processed(fee(result.payment.id));
    case 'already_final':
      return processed();
    case 'amount_mismatch':
      // Not completed; flagged and audited by finalize. Staff decide (refund or accept).
      return processed();
    case 'late_no_capacity':
    case 'duplicate_payment':
      return processed([...fee(result.payment.id), unwantedPaymentRefund(result)]);
    case 'order_not_found':
      return ignored('No matching order');
  }
}

/**
 * A fresh delivery stored, and its paid-in-time case of finalizeFromEvent applied, in one statement (an
 * event's `storeAndApply`). The Stripe fee read is the same follow-up, run after the response; it needs
 * no lease (needsLease), so the statement marks the event processed.
 */
export async function storeAndFinalizeFromEvent(
  input: FinalizePaymentInput,
  ctx: StoreAndApplyContext,
): Promise<StoredAndApplied | undefined> {
  const result = await storeAndFinalizeHeldOrder(input, ctx.delivery);
  if (!result?.completed) return result;
  // The statement has just written input.providerPaymentId on the payment, its fee still unknown.
  const fee = feeFollowUps(input, result.completed.paymentId).map((f) => ({ ...f, capturedAs: input.providerPaymentId }));
  return { event: result.event, afterResponse: fee };
}

/** Checkout session / PayPal order abandoned: the checkout's own hold expiry, now (not waiting for the clock). */
export async function expireOrderFromEvent(tx: Tx, orderId: string, actor: Actor, reason: string): Promise<boolean> {
  const outcome = await expireHeldOrderInTx(tx, orderId, { actor, reason, onlyIfDue: false });
  return outcome.expired;
}
