import type { Queryable } from '../client.js';
import { namedStatement } from '../statement.js';
import { CAPTURED_PAYMENT_STATUSES } from './payments.js';

/** payments.fee_cents: the provider's fee of a captured payment, set once (NULL: not known yet). */

export interface PaymentFeeState {
  provider: string;
  providerPaymentId: string | null;
  feeCents: number | null;
}

const FIND_PAYMENT_FEE_STATE = namedStatement(
  'find_payment_fee_state',
  `SELECT provider, provider_payment_id AS "providerPaymentId", fee_cents AS "feeCents" FROM payments WHERE id = $1`,
);

export async function findPaymentFeeState(q: Queryable, paymentId: string): Promise<PaymentFeeState | undefined> {
  return await q.queryOne<PaymentFeeState>(FIND_PAYMENT_FEE_STATE, [paymentId]);
}

/** Sets the fee when it is not known yet; false when it already was (the first report wins). */
export async function setPaymentFeeOnce(q: Queryable, paymentId: string, feeCents: number): Promise<boolean> {
  const updated = await q.query('UPDATE payments SET fee_cents = $2 WHERE id = $1 AND fee_cents IS NULL', [paymentId, feeCents]);
  return (updated.rowCount ?? 0) > 0;
}

/**
 * refunds.fee_returned_cents: the provider's fee given back with a refund (negative: a fee charged for
 * it), set once (NULL: not known). False when it already was known (the first report wins).
 */
export async function setRefundFeeReturnedOnce(q: Queryable, refundId: string, feeReturnedCents: number): Promise<boolean> {
  const updated = await q.query('UPDATE refunds SET fee_returned_cents = $2 WHERE id = $1 AND fee_returned_cents IS NULL', [
    refundId,
    feeReturnedCents,
  ]);
  return (updated.rowCount ?? 0) > 0;
}

/** What the provider gave back of its fee with this refund; null when not known. */
export async function findRefundFeeReturned(q: Queryable, refundId: string): Promise<number | null> {
  const row = await q.queryOne<{ feeReturnedCents: number | null }>(
    'SELECT fee_returned_cents AS "feeReturnedCents" FROM refunds WHERE id = $1',
    [refundId],
  );
  return row?.feeReturnedCents ?? null;
}

/**
 * Captured payments of `provider` whose fee is not known yet, completed between `completedAfter` and
 * `completedBefore`, oldest first (the fee retry's batch). `onlyIds`: just these (a test sharing its database).
 */
export async function findPaymentsMissingFee(
  q: Queryable,
  options: { provider: string; completedAfter: Date; completedBefore: Date; limit: number; onlyIds?: string[] | undefined },
): Promise<string[]> {
  const rows = await q.queryMany<{ id: string }>(
    `SELECT id FROM payments
     WHERE fee_cents IS NULL AND completed_at IS NOT NULL AND provider = $1
       AND completed_at >= $2 AND completed_at < $3
       AND (status = ANY($4) OR (status = 'cancelled' AND failure_code = 'duplicate_payment'))
       AND ($6::uuid[] IS NULL OR id = ANY($6::uuid[]))
     ORDER BY completed_at LIMIT $5`,
    [
      options.provider,
      options.completedAfter,
      options.completedBefore,
      CAPTURED_PAYMENT_STATUSES,
      options.limit,
      options.onlyIds ?? null,
    ],
  );
  return rows.map((row) => row.id);
}
