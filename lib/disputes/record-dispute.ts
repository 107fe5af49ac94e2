import type { Tx } from '../db/client.js';
import { type Actor, appendAudit } from '../db/models/audit-log.js';
import { closeDispute, type Dispute, insertDispute, lockDisputeByProviderId, withheldByDisputes } from '../db/models/disputes.js';
import { lockOrderById, type Provider, updateOrder } from '../db/models/orders.js';
import { findPaymentByProviderPayment, lockPaymentById, updatePayment } from '../db/models/payments.js';
import { recordMovement } from '../ledger/record-movement.js';

/**
 * A provider dispute (chargeback) from opening to its end. Opening sets the contested amount aside on
 * the payment (payments.disputed_cents: it can no longer be refunded) and flags the order; winning
 * gives it back; losing keeps it withheld and the ledger books the loss. Each step writes its ledger
 * row and audit entry in the caller's transaction; a repeated or reordered report changes nothing.
 * Locks: order, then payment, then dispute (the order every money path uses).
 */

export interface DisputeReport {
  provider: Provider;
  providerDisputeId: string;
  /** Stripe PaymentIntent id / PayPal capture id of the disputed payment. */
  providerPaymentId: string;
  amountCents: number;
  currency: string;
  reason?: string | null | undefined;
  /** When the provider opened / closed it. */
  at?: Date | null | undefined;
  actor: Actor;
}

export type DisputeOutcome = { outcome: 'recorded' | 'unchanged'; dispute: Dispute } | { outcome: 'payment_not_found' };

async function lockPaymentOf(tx: Tx, report: DisputeReport) {
  const found = await findPaymentByProviderPayment(tx, report.provider, report.providerPaymentId);
  if (!found) return undefined;
  const order = await lockOrderById(tx, found.orderId);
  const payment = await lockPaymentById(tx, found.id);
  if (!order || !payment) return undefined;
  return { order, payment };
}

async function syncWithheld(tx: Tx, paymentId: string, refundedCents: number, amountCents: number): Promise<number> {
  // Never above what is left after refunds (payments CHECK refunded + disputed <= amount).
  const withheld = Math.min(await withheldByDisputes(tx, paymentId), amountCents - refundedCents);
  await updatePayment(tx, paymentId, { disputedCents: withheld });
  return withheld;
}

export async function openDisputeInTx(tx: Tx, report: DisputeReport): Promise<DisputeOutcome> {
  const found = await lockPaymentOf(tx, report);
  if (!found) return { outcome: 'payment_not_found' };
  const { order, payment } = found;
  const existing = await lockDisputeByProviderId(tx, report.provider, report.providerDisputeId);
  if (existing) return { outcome: 'unchanged', dispute: existing };
  const amountCents = Math.max(
    0,
    Math.min(report.amountCents, payment.amountCents - payment.refundedCents - payment.disputedCents),
  );
  const dispute = await insertDispute(tx, {
    paymentId: payment.id,
    orderId: order.id,
    provider: report.provider,
    providerDisputeId: report.providerDisputeId,
    amountCents,
    currency: payment.currency,
    reason: report.reason ?? null,
    openedAt: report.at ?? null,
  });
  const withheld = await syncWithheld(tx, payment.id, payment.refundedCents, payment.amountCents);
  if (order.attentionReason !== 'disputed') await updateOrder(tx, order.id, { attentionReason: 'disputed' });
  await recordMovement(tx, {
    kind: 'dispute_opened',
    orderId: order.id,
    paymentId: payment.id,
    provider: report.provider,
    providerRef: report.providerDisputeId,
    amountCents,
    currency: payment.currency,
    occurredAt: report.at,
    details: { reason: report.reason ?? null },
  });
  await appendAudit(tx, {
    entityType: 'order',
    entityId: order.id,
    action: 'payment_disputed',
    actor: report.actor,
    reason: report.reason ?? 'disputed',
    oldValues: { attentionReason: order.attentionReason, disputedCents: payment.disputedCents },
    newValues: { attentionReason: 'disputed', disputedCents: withheld, disputeId: report.providerDisputeId, amountCents },
  });
  return { outcome: 'recorded', dispute };
}

/** The dispute ended: `won` gives the money back to the payment, `lost` books the loss. */
export async function closeDisputeInTx(tx: Tx, report: DisputeReport & { status: 'won' | 'lost' }): Promise<DisputeOutcome> {
  const found = await lockPaymentOf(tx, report);
  if (!found) return { outcome: 'payment_not_found' };
  const { order, payment } = found;
  let dispute = await lockDisputeByProviderId(tx, report.provider, report.providerDisputeId);
  if (!dispute) {
    // Closed before we saw it opened (events out of order): open it first, then close it.
    const opened = await openDisputeInTx(tx, report);
    if (opened.outcome === 'payment_not_found') return opened;
    dispute = opened.dispute;
  }
  if (dispute.status !== 'open') return { outcome: 'unchanged', dispute };
  const closed = await closeDispute(tx, dispute.id, report.status, report.at ?? null);
  const withheld = await syncWithheld(tx, payment.id, payment.refundedCents, payment.amountCents);
  await recordMovement(tx, {
    kind: report.status === 'won' ? 'dispute_won' : 'dispute_lost',
    orderId: order.id,
    paymentId: payment.id,
    provider: report.provider,
    providerRef: report.providerDisputeId,
    amountCents: dispute.amountCents,
    currency: payment.currency,
    occurredAt: report.at,
  });
  await appendAudit(tx, {
    entityType: 'order',
    entityId: order.id,
    action: `dispute_${report.status}`,
    actor: report.actor,
    reason: report.reason ?? undefined,
    oldValues: { disputeStatus: 'open', disputedCents: payment.disputedCents },
    newValues: {
      disputeStatus: report.status,
      disputedCents: withheld,
      disputeId: report.providerDisputeId,
      amountCents: dispute.amountCents,
    },
  });
  return { outcome: 'recorded', dispute: closed };
}

/**
 * The provider changed a dispute's status without ending it (PayPal CUSTOMER.DISPUTE.UPDATED: waiting for a
 * response, under review, escalated to a chargeback): no money moves, the new status goes to the audit log. A
 * dispute we had not seen opened (its opening event lost or late) is opened now, as a close does.
 */
export async function noteDisputeStatusInTx(
  tx: Tx,
  report: DisputeReport & { providerStatus: string; stage?: string | null | undefined },
): Promise<DisputeOutcome> {
  const found = await lockPaymentOf(tx, report);
  if (!found) return { outcome: 'payment_not_found' };
  const dispute = await lockDisputeByProviderId(tx, report.provider, report.providerDisputeId);
  if (!dispute) return await openDisputeInTx(tx, report);
  await appendAudit(tx, {
    entityType: 'order',
    entityId: found.order.id,
    action: 'dispute_updated',
    actor: report.actor,
    reason: report.reason ?? undefined,
    oldValues: { disputeStatus: dispute.status },
    newValues: {
      disputeStatus: dispute.status,
      disputeId: report.providerDisputeId,
      providerStatus: report.providerStatus,
      stage: report.stage ?? null,
    },
  });
  return { outcome: 'unchanged', dispute };
}
