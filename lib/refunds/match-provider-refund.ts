import type { Tx } from '../db/client.js';
import { type Actor, appendAudit } from '../db/models/audit-log.js';
import { findOrderById, lockOrderById, type Provider } from '../db/models/orders.js';
import { findPaymentByProviderPayment, holdsCapturedMoney, lockPaymentById, type Payment } from '../db/models/payments.js';
import {
  insertRefund,
  lockRefundById,
  lockRefundByProviderId,
  lockUnconfirmedRefund,
  type Refund,
  type RefundStatus,
} from '../db/models/refunds.js';
import { isUuid } from '../ids.js';
import { logRefundSettledAfterCommit, moveRefundedMoney, settleRefundInTx } from './settle-refund.js';
import { notifyRefundSucceededInTx } from '../messages/notify-buyer.js';
import { type RefundFeeReport, recordRefundFeeInTx } from '../ledger/record-refund-fee.js';

/**
 * A refund as a provider reports it (Stripe refund / charge.refunded, PayPal PAYMENT.CAPTURE.REFUNDED),
 * matched by provider refund id: our own refunds (admin or system) are found by the id we sent along
 * (Stripe metadata.refund_id, PayPal custom_id), by provider id, or as the unconfirmed refund of the
 * same amount; anything else was made in the provider's dashboard and is recorded with source `provider`.
 */
export interface ProviderRefundReport {
  provider: Provider;
  providerRefundId: string;
  /** Stripe PaymentIntent id / PayPal capture id the refund is against. */
  providerPaymentId: string;
  /** Our order id when the provider object carries it (metadata / custom_id): tells "not yet" from "not ours". */
  orderIdHint?: string | undefined;
  /** Our refund id when the refund carries it. */
  ourRefundId?: string | undefined;
  amountCents: number;
  currency: string;
  status: RefundStatus;
  failureReason?: string | undefined;
  /** The provider's fee given back with the refund, when the refund object says (PayPal seller_payable_breakdown). */
  fee?: RefundFeeReport | undefined;
}

export type MatchRefundResult =
  | { outcome: 'created' | 'updated' | 'unchanged'; refund: Refund }
  /** No payment of ours carries this provider payment id. */
  | { outcome: 'payment_not_found' }
  /** The payment exists but its capture has not been applied yet: retry later. */
  | { outcome: 'not_captured_yet' };

async function findOwnRefund(tx: Tx, report: ProviderRefundReport, payment: Payment): Promise<Refund | undefined> {
  if (isUuid(report.ourRefundId)) {
    const ours = await lockRefundById(tx, report.ourRefundId);
    if (ours && ours.paymentId === payment.id) return ours;
  }
  const byProviderId = await lockRefundByProviderId(tx, report.provider, report.providerRefundId);
  if (byProviderId) return byProviderId;
  return await lockUnconfirmedRefund(tx, payment.id, report.amountCents);
}

export async function matchProviderRefundInTx(tx: Tx, report: ProviderRefundReport, actor: Actor): Promise<MatchRefundResult> {
  const found = await findPaymentByProviderPayment(tx, report.provider, report.providerPaymentId);
  if (!found) {
    // The capture that names this payment id has not been applied yet (events out of order).
    if (isUuid(report.orderIdHint) && (await findOrderById(tx, report.orderIdHint))) {
      return { outcome: 'not_captured_yet' };
    }
    return { outcome: 'payment_not_found' };
  }
  // Lock order first, then payment, then refund (the order every money path uses).
  const order = await lockOrderById(tx, found.orderId);
  const payment = await lockPaymentById(tx, found.id);
  if (!order || !payment) return { outcome: 'payment_not_found' };
  if (!holdsCapturedMoney(payment)) return { outcome: 'not_captured_yet' };

  const existing = await findOwnRefund(tx, report, payment);
  if (existing) {
    const result = await settleRefundInTx(
      tx,
      { order, payment, refund: existing, actor },
      {
        status: report.status,
        providerRefundId: report.providerRefundId,
        failureReason: report.failureReason,
        fee: report.fee,
      },
    );
    return { outcome: result.changed ? 'updated' : 'unchanged', refund: result.refund };
  }

  // Made in the provider's dashboard: record it as it is now.
  const refund = await insertRefund(tx, {
    paymentId: payment.id,
    orderId: order.id,
    provider: report.provider,
    amountCents: report.amountCents,
    currency: payment.currency,
    reason: `Refund made in the ${report.provider} dashboard (${report.providerRefundId})`,
    source: 'provider',
    status: report.status,
    providerRefundId: report.providerRefundId,
  });
  const after =
    report.status === 'succeeded' ? await moveRefundedMoney(tx, order, payment, refund.amountCents, refund) : { order, payment };
  if (report.fee) await recordRefundFeeInTx(tx, payment, refund, report.fee);
  await appendAudit(tx, {
    entityType: 'order',
    entityId: order.id,
    action: 'provider_refund_recorded',
    actor,
    reason: 'refund made at the provider',
    oldValues: { status: order.status, refundedCents: order.refundedCents },
    newValues: {
      refundId: refund.id,
      providerRefundId: report.providerRefundId,
      refundStatus: refund.status,
      amountCents: refund.amountCents,
      status: after.order.status,
      refundedCents: after.order.refundedCents,
      paymentRefundedCents: after.payment.refundedCents,
    },
  });
  if (report.status === 'succeeded') {
    await notifyRefundSucceededInTx(tx, { order: after.order, payment: after.payment, refund, releasedTickets: 0 });
  }
  logRefundSettledAfterCommit(tx, refund, null);
  return { outcome: 'created', refund };
}
