import { type Tx, transaction } from '../db/client.js';
import { type Actor, appendAudit } from '../db/models/audit-log.js';
import { lockOrderById, type Order } from '../db/models/orders.js';
import { lockPaymentById, type Payment, refundableOf } from '../db/models/payments.js';
import { insertRefund, lockRefundById, pendingRefundCents, type Refund } from '../db/models/refunds.js';
import { log } from '../log.js';
import { ProviderError } from '../providers/checkout-provider.js';
import { getRefundProvider } from '../providers/index.js';
import { unsafeCrashPointForTests } from '../testing/crash-points.js';
import type { ProviderRefundResult } from '../providers/refund-provider.js';
import { getConfig } from '../config.js';
import { scheduleRefundCheck } from '../db/models/refund-checks.js';
import { providerRefundRequest } from './refund-call.js';
import { type RefundReport, settleRefundInTx } from './settle-refund.js';

/**
 * The one refund flow, for staff refunds (refund-payment.ts) and system refunds of unwanted money
 * (refund-unwanted-payment.ts): reserve → provider call → settle.
 *
 * 1. `reserve`, one transaction: lock order → payment, record (or find) the pending refund row. A
 *    pending refund counts against what is refundable while its provider call is in flight.
 * 2. The provider call, after commit (never inside a transaction), with an idempotency key derived
 *    from the refund row: every retry of one refund sends the same key, so it returns the same refund.
 *    An unanswered call leaves the refund pending ("unconfirmed, being checked"): the refund-check cron
 *    (check-unconfirmed-refunds.ts) asks again with the same key and settles the answer here.
 * 3. A second transaction locks order → payment → refund and records the answer through
 *    settleRefundInTx (shared with the provider's refund webhooks: whichever comes first counts the
 *    money, the other changes nothing). A failed call never undoes what a webhook already confirmed.
 */

export interface RefundReservation {
  refund: Refund;
  order: Order;
  payment: Payment;
}

export interface IssueRefundPlan {
  actor: Actor;
  /** Step 1, inside the transaction; undefined when there is nothing to refund. */
  reserve: (tx: Tx) => Promise<RefundReservation | undefined>;
  /** Audit action and reason of the settle step (default `refund_<status>`). */
  auditAction?: string;
  auditReason?: string;
  /**
   * A provider call that failed: a certain refusal (4xx) with `mark_failed` ends the reservation (the
   * refund is `failed`, nothing moved) and returns with `providerError`. An unanswered call (time-out,
   * 5xx, network: the provider may have made it) never fails the row: it stays `pending`, scheduled for
   * the refund-check cron, which asks again with the same key; with `mark_failed` it returns with
   * `providerError` and `unconfirmed`. `keep_pending` throws in both cases, leaving the pending row for
   * the retry (same row, same key).
   */
  onProviderFailure: 'mark_failed' | 'keep_pending';
}

export interface IssuedRefund {
  refund: Refund;
  order: Order;
  payment: Payment;
  /** Tickets returned to sale (refunds asked with releaseTickets, once they succeed). */
  releasedTickets: number;
  /** What can still be refunded on the payment (pending refunds reserved). */
  refundableCents: number;
  /** Set when the provider call failed (with `mark_failed`). */
  providerError?: unknown;
  /** The call went unanswered: the refund stays pending, its outcome unknown until the check confirms it. */
  unconfirmed?: boolean;
}

/** The pending refund row a reservation records against the payment (the provider and currency are the payment's). */
export async function insertPendingRefund(
  tx: Tx,
  order: Order,
  payment: Payment,
  fields: { amountCents: number; reason: string; source: 'admin' | 'system'; requestedBy: string; releaseTickets?: boolean },
): Promise<Refund> {
  return await insertRefund(tx, {
    ...fields,
    paymentId: payment.id,
    orderId: order.id,
    provider: payment.provider,
    currency: payment.currency,
    status: 'pending',
  });
}

/** Step 3: record the provider's answer (or our failed call) under the locks. */
export async function settleIssuedRefund(
  reserved: RefundReservation,
  plan: Pick<IssueRefundPlan, 'actor' | 'auditAction' | 'auditReason'>,
  report: RefundReport,
): Promise<Omit<IssuedRefund, 'providerError'>> {
  return await transaction(async (tx) => {
    const order = await lockOrderById(tx, reserved.order.id);
    const payment = await lockPaymentById(tx, reserved.payment.id);
    const refund = await lockRefundById(tx, reserved.refund.id);
    if (!order || !payment || !refund) throw new Error(`refund ${reserved.refund.id} lost its order, payment or row`);
    // A failure never undoes what a webhook already confirmed (the call may have timed out after the refund was made).
    const settled =
      report.status === 'failed' && refund.status !== 'pending'
        ? { refund, order, payment, releasedTickets: 0 }
        : await settleRefundInTx(
            tx,
            { order, payment, refund, actor: plan.actor, auditAction: plan.auditAction, auditReason: plan.auditReason },
            report,
          );
    return {
      refund: settled.refund,
      order: settled.order,
      payment: settled.payment,
      releasedTickets: settled.releasedTickets,
      refundableCents: refundableOf(settled.payment, await pendingRefundCents(tx, settled.payment.id)),
    };
  });
}

/** What a provider call for a reserved refund came to. */
export type RefundCallOutcome =
  | { kind: 'answered'; settled: Omit<IssuedRefund, 'providerError'> }
  /** A certain refusal (4xx): nothing was refunded. Not settled yet (the caller decides). */
  | { kind: 'refused'; error: unknown }
  /** No answer (time-out, 5xx, network): the refund may exist; the row stays pending, its check scheduled. */
  | { kind: 'unconfirmed'; error: unknown; settled: Omit<IssuedRefund, 'providerError'> };

/**
 * Steps 2 and 3 for a pending refund row: the provider call (never inside a transaction) with the request
 * derived from the row (refund-call.ts: same parameters and idempotency key every time), then the answer
 * settled. Shared by the first call and by the unconfirmed-refund check.
 */
export async function callProviderForRefund(
  reserved: RefundReservation,
  plan: Pick<IssueRefundPlan, 'actor' | 'auditAction' | 'auditReason'>,
): Promise<RefundCallOutcome> {
  const { refund, order, payment } = reserved;
  let answer: ProviderRefundResult;
  try {
    const provider = await getRefundProvider(payment.provider);
    answer = await provider.refund(providerRefundRequest(refund, order, payment));
  } catch (error) {
    log.warn('provider refund failed', { refundId: refund.id, provider: payment.provider, error });
    if (!(error instanceof ProviderError) || error.refused) return { kind: 'refused', error };
    const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
    const retryAt = new Date(Date.now() + getConfig().timeBudget.deadRequestAfterMs);
    const settled = await transaction(async (tx) => {
      const lockedOrder = await lockOrderById(tx, order.id);
      const lockedPayment = await lockPaymentById(tx, payment.id);
      const current = await lockRefundById(tx, refund.id);
      if (!lockedOrder || !lockedPayment || !current) throw new Error(`refund ${refund.id} lost its order, payment or row`);
      // The provider's webhook may have settled it while our call hung: then that is what is known.
      if (current.status === 'pending' && !current.providerRefundId) {
        await scheduleRefundCheck(tx, refund.id, retryAt, message);
        await appendAudit(tx, {
          entityType: 'order',
          entityId: order.id,
          action: 'refund_unconfirmed',
          actor: plan.actor,
          reason: 'the provider did not answer; the refund is being checked',
          newValues: { refundId: refund.id, status: 'pending', amountCents: refund.amountCents, providerError: error.code },
        });
      }
      return {
        refund: current,
        order: lockedOrder,
        payment: lockedPayment,
        releasedTickets: 0,
        refundableCents: refundableOf(lockedPayment, await pendingRefundCents(tx, payment.id)),
      };
    });
    if (settled.refund.status !== 'pending' || settled.refund.providerRefundId) return { kind: 'answered', settled };
    return { kind: 'unconfirmed', error, settled };
  }
  if (answer.amountCents !== refund.amountCents) {
    log.warn('provider refund amount differs', { refundId: refund.id, asked: refund.amountCents, got: answer.amountCents });
  }
  const settled = await settleIssuedRefund(reserved, plan, {
    status: answer.status,
    providerRefundId: answer.providerRefundId,
    fee: answer.fee,
  });
  return { kind: 'answered', settled };
}

export async function issueRefund(plan: IssueRefundPlan): Promise<IssuedRefund | undefined> {
  const reserved = await transaction(plan.reserve);
  if (!reserved) return undefined;
  if (reserved.refund.status === 'succeeded') {
    return await settleIssuedRefund(reserved, plan, { status: 'succeeded' });
  }
  unsafeCrashPointForTests('refund.after-reserve');
  const outcome = await callProviderForRefund(reserved, plan);
  if (outcome.kind === 'answered') return outcome.settled;
  if (plan.onProviderFailure === 'keep_pending') throw outcome.error;
  if (outcome.kind === 'unconfirmed') return { ...outcome.settled, providerError: outcome.error, unconfirmed: true };
  const message = (outcome.error instanceof Error ? outcome.error.message : String(outcome.error)).slice(0, 500);
  const recorded = await settleIssuedRefund(reserved, plan, { status: 'failed', failureReason: message });
  return { ...recorded, providerError: outcome.error };
}
