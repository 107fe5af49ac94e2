import type { Queryable } from '../client.js';
import type { Provider } from './orders.js';

/** disputes: one row per provider dispute (chargeback), open until won or lost. */

export type DisputeStatus = 'open' | 'won' | 'lost';

export interface Dispute {
  id: string;
  paymentId: string;
  orderId: string;
  provider: Provider;
  providerDisputeId: string;
  amountCents: number;
  currency: string;
  status: DisputeStatus;
  reason: string | null;
  openedAt: Date;
  closedAt: Date | null;
}

const COLUMNS = `id, payment_id AS "paymentId", order_id AS "orderId", provider, provider_dispute_id AS "providerDisputeId",
  amount_cents AS "amountCents", currency, status, reason, opened_at AS "openedAt", closed_at AS "closedAt"`;

export async function lockDisputeByProviderId(
  q: Queryable,
  provider: Provider,
  providerDisputeId: string,
): Promise<Dispute | undefined> {
  return await q.queryOne<Dispute>(
    `SELECT ${COLUMNS} FROM disputes WHERE provider = $1 AND provider_dispute_id = $2 FOR UPDATE`,
    [provider, providerDisputeId],
  );
}

/** A dispute to insert: it opens (status open, not closed), id from the database. */
export interface NewDispute extends Omit<Dispute, 'id' | 'status' | 'openedAt' | 'closedAt'> {
  /** null: now. */
  openedAt: Date | null;
}

export async function insertDispute(q: Queryable, dispute: NewDispute): Promise<Dispute> {
  const row = await q.queryOne<Dispute>(
    `INSERT INTO disputes (payment_id, order_id, provider, provider_dispute_id, amount_cents, currency, reason, opened_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8, now())) RETURNING ${COLUMNS}`,
    [
      dispute.paymentId,
      dispute.orderId,
      dispute.provider,
      dispute.providerDisputeId,
      dispute.amountCents,
      dispute.currency,
      dispute.reason,
      dispute.openedAt,
    ],
  );
  if (!row) throw new Error('insertDispute returned no row');
  return row;
}

export async function closeDispute(q: Queryable, id: string, status: 'won' | 'lost', closedAt: Date | null): Promise<Dispute> {
  const row = await q.queryOne<Dispute>(
    `UPDATE disputes SET status = $2, closed_at = coalesce($3, now()) WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, status, closedAt],
  );
  if (!row) throw new Error(`dispute ${id} not found`);
  return row;
}

/** What the payment's disputes withhold: open and lost ones (payments.disputed_cents). */
export async function withheldByDisputes(q: Queryable, paymentId: string): Promise<number> {
  const row = await q.queryOne<{ cents: number }>(
    `SELECT coalesce(sum(amount_cents), 0)::int AS cents FROM disputes WHERE payment_id = $1 AND status IN ('open', 'lost')`,
    [paymentId],
  );
  return row?.cents ?? 0;
}
