import type { Queryable } from '../client.js';
import { REFUND_COLUMNS, type Refund } from './refunds.js';

/**
 * The refund-check schedule (refunds.next_check_at / check_attempts / last_check_error, migration 0080):
 * our own refunds whose provider call went unanswered, so they are `pending` with no provider refund id
 * and their outcome is unknown. lib/refunds/check-unconfirmed-refunds.ts asks the provider again.
 */

export interface RefundCheckState {
  nextCheckAt: Date | null;
  checkAttempts: number;
  lastCheckError: string | null;
}

export type CheckedRefund = Refund & RefundCheckState;

const CHECK_COLUMNS = `${REFUND_COLUMNS}, next_check_at AS "nextCheckAt", check_attempts AS "checkAttempts",
  last_check_error AS "lastCheckError"`;

/** The call went unanswered: ask again at `at` (the provider is asked with the same idempotency key). */
export async function scheduleRefundCheck(q: Queryable, refundId: string, at: Date, error: string): Promise<void> {
  await q.query(`UPDATE refunds SET next_check_at = $2, last_check_error = $3 WHERE id = $1 AND status = 'pending'`, [
    refundId,
    at,
    error.slice(0, 1000),
  ]);
}

/**
 * Claims up to `limit` unconfirmed refunds that are due: a scheduled check whose time has come, or one
 * never scheduled (the function died mid-call) once `deadBefore` has passed since it was created, and
 * created after `notBefore` (older ones are past the provider's idempotency window: never re-asked).
 * A claimed row's next check moves to `leaseUntil` and its attempt is counted, so concurrent runs
 * never ask twice at once (SKIP LOCKED) and a run that dies leaves it due again later.
 */
export async function claimDueRefundChecks(
  q: Queryable,
  options: { now: Date; deadBefore: Date; notBefore: Date; leaseUntil: Date; limit: number; onlyIds?: string[] | undefined },
): Promise<CheckedRefund[]> {
  return await q.queryMany<CheckedRefund>(
    `UPDATE refunds SET next_check_at = $4::timestamptz, check_attempts = check_attempts + 1
     WHERE id IN (
       SELECT id FROM refunds
       WHERE status = 'pending' AND provider_refund_id IS NULL AND source IN ('admin', 'system')
         AND (next_check_at <= $1::timestamptz OR (next_check_at IS NULL AND created_at <= $2::timestamptz))
         AND created_at > $3::timestamptz AND ($6::uuid[] IS NULL OR id = ANY($6::uuid[]))
       ORDER BY coalesce(next_check_at, created_at), id
       LIMIT $5
       FOR UPDATE SKIP LOCKED)
     RETURNING ${CHECK_COLUMNS}`,
    [options.now, options.deadBefore, options.notBefore, options.leaseUntil, options.limit, options.onlyIds ?? null],
  );
}

/** Unconfirmed refunds too old to re-ask safely (past the idempotency window): for staff to check by hand. */
export async function countStaleUnconfirmedRefunds(q: Queryable, notBefore: Date): Promise<number> {
  const row = await q.queryOne<{ n: number }>(
    `SELECT count(*)::int AS n FROM refunds
     WHERE status = 'pending' AND provider_refund_id IS NULL AND source IN ('admin', 'system') AND created_at <= $1`,
    [notBefore],
  );
  return row?.n ?? 0;
}

export async function findRefundCheckState(q: Queryable, refundId: string): Promise<CheckedRefund | undefined> {
  return await q.queryOne<CheckedRefund>(`SELECT ${CHECK_COLUMNS} FROM refunds WHERE id = $1`, [refundId]);
}
