import type { Queryable } from '../client.js';
import type { Currency } from '../../money.js';
import type { Provider } from './orders.js';

/** refunds: staff refunds, provider-dashboard refunds and system (late payment) refunds. */

export type RefundStatus = 'pending' | 'succeeded' | 'failed' | 'cancelled';
export type RefundSource = 'admin' | 'provider' | 'system';

export interface Refund {
  id: string;
  paymentId: string;
  orderId: string;
  provider: Provider;
  amountCents: number;
  currency: Currency;
  status: RefundStatus;
  reason: string;
  source: RefundSource;
  providerRefundId: string | null;
  requestedBy: string | null;
  releaseTickets: boolean;
  failureReason: string | null;
  completedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const REFUND_COLUMNS = `id, payment_id AS "paymentId", order_id AS "orderId", provider, amount_cents AS "amountCents",
  currency, status, reason, source, provider_refund_id AS "providerRefundId", requested_by AS "requestedBy",
  release_tickets AS "releaseTickets", failure_reason AS "failureReason", completed_at AS "completedAt",
  created_at AS "createdAt", updated_at AS "updatedAt"`;

export interface NewRefund {
  paymentId: string;
  orderId: string;
  provider: Provider;
  amountCents: number;
  currency: Currency;
  reason: string;
  source: RefundSource;
  status?: RefundStatus;
  providerRefundId?: string | null;
  requestedBy?: string | null;
  releaseTickets?: boolean;
}

export async function insertRefund(q: Queryable, refund: NewRefund): Promise<Refund> {
  const row = await q.queryOne<Refund>(
    `INSERT INTO refunds (payment_id, order_id, provider, amount_cents, currency, reason, source, status,
       provider_refund_id, requested_by, release_tickets, completed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, CASE WHEN $8 = 'succeeded' THEN now() END)
     RETURNING ${REFUND_COLUMNS}`,
    [
      refund.paymentId,
      refund.orderId,
      refund.provider,
      refund.amountCents,
      refund.currency,
      refund.reason,
      refund.source,
      refund.status ?? 'pending',
      refund.providerRefundId ?? null,
      refund.requestedBy ?? null,
      refund.releaseTickets ?? false,
    ],
  );
  if (!row) throw new Error('insertRefund returned no row');
  return row;
}

export async function findRefundByProviderId(
  q: Queryable,
  provider: Provider,
  providerRefundId: string,
): Promise<Refund | undefined> {
  return await q.queryOne<Refund>(`SELECT ${REFUND_COLUMNS} FROM refunds WHERE provider = $1 AND provider_refund_id = $2`, [
    provider,
    providerRefundId,
  ]);
}

export async function lockRefundById(q: Queryable, id: string): Promise<Refund | undefined> {
  return await q.queryOne<Refund>(`SELECT ${REFUND_COLUMNS} FROM refunds WHERE id = $1 FOR UPDATE`, [id]);
}

export async function listRefundsForOrder(q: Queryable, orderId: string): Promise<Refund[]> {
  return await q.queryMany<Refund>(`SELECT ${REFUND_COLUMNS} FROM refunds WHERE order_id = $1 ORDER BY created_at, id`, [
    orderId,
  ]);
}

export interface RefundChanges {
  status?: RefundStatus;
  providerRefundId?: string | null;
  failureReason?: string | null;
  completedAt?: Date | null;
}

export async function updateRefund(q: Queryable, id: string, changes: RefundChanges): Promise<Refund> {
  const row = await q.queryOne<Refund>(
    `UPDATE refunds SET status = COALESCE($2, status), provider_refund_id = COALESCE($3, provider_refund_id),
       failure_reason = COALESCE($4, failure_reason), completed_at = COALESCE($5, completed_at)
     WHERE id = $1 RETURNING ${REFUND_COLUMNS}`,
    [id, changes.status ?? null, changes.providerRefundId ?? null, changes.failureReason ?? null, changes.completedAt ?? null],
  );
  if (!row) throw new Error(`refund ${id} not found`);
  return row;
}

/** Locks the refund with this provider id. */
export async function lockRefundByProviderId(
  q: Queryable,
  provider: Provider,
  providerRefundId: string,
): Promise<Refund | undefined> {
  return await q.queryOne<Refund>(
    `SELECT ${REFUND_COLUMNS} FROM refunds WHERE provider = $1 AND provider_refund_id = $2 FOR UPDATE`,
    [provider, providerRefundId],
  );
}

/**
 * Our own refund that the provider has not confirmed yet (no provider id stored): how a webhook that
 * arrives before the refund call's answer finds the row it belongs to. Oldest first, locked.
 */
export async function lockUnconfirmedRefund(q: Queryable, paymentId: string, amountCents: number): Promise<Refund | undefined> {
  return await q.queryOne<Refund>(
    `SELECT ${REFUND_COLUMNS} FROM refunds
     WHERE payment_id = $1 AND amount_cents = $2 AND provider_refund_id IS NULL AND status = 'pending'
     ORDER BY created_at, id LIMIT 1 FOR UPDATE`,
    [paymentId, amountCents],
  );
}

/** The system refund of a payment (late payment / duplicate payment), if one was started and has not failed. */
export async function lockSystemRefundForPayment(q: Queryable, paymentId: string): Promise<Refund | undefined> {
  return await q.queryOne<Refund>(
    `SELECT ${REFUND_COLUMNS} FROM refunds
     WHERE payment_id = $1 AND source = 'system' AND status IN ('pending', 'succeeded')
     ORDER BY created_at, id LIMIT 1 FOR UPDATE`,
    [paymentId],
  );
}

/** Money reserved by refunds of this payment that are still in flight. */
export async function pendingRefundCents(q: Queryable, paymentId: string): Promise<number> {
  const row = await q.queryOne<{ cents: number }>(
    `SELECT coalesce(sum(amount_cents), 0)::int AS cents FROM refunds WHERE payment_id = $1 AND status = 'pending'`,
    [paymentId],
  );
  return row?.cents ?? 0;
}
