import type { Queryable } from '../client.js';

/**
 * Orders left behind by a checkout that died between taking the hold and the provider call (the
 * function killed or crashed): `pending`, holding tickets, with no provider session. Migration 0080.
 */

/** Records the Idempotency-Key hash a new order was created under (in the order's own transaction). */
export async function tagOrderIdempotencyKey(q: Queryable, orderId: string, keyHash: string): Promise<void> {
  await q.query('UPDATE orders SET idempotency_key_hash = $2 WHERE id = $1', [orderId, keyHash]);
}

/** Locks the pending orders an earlier attempt of this Idempotency-Key left behind. */
export async function lockPendingOrdersForIdempotencyKey(q: Queryable, keyHash: string): Promise<{ id: string }[]> {
  return await q.queryMany<{ id: string }>(
    `SELECT id FROM orders WHERE idempotency_key_hash = $1 AND status = 'pending' ORDER BY created_at FOR UPDATE SKIP LOCKED`,
    [keyHash],
  );
}

/**
 * Locks up to `limit` pending orders created before `createdBefore` whose payment never got a provider
 * session: their checkout request is over (older than the function's limit) and died before the
 * provider call, so nobody can pay them. Skips rows another transaction holds.
 */
export async function lockAbandonedCheckouts(
  q: Queryable,
  options: { createdBefore: Date; limit: number },
): Promise<{ id: string }[]> {
  return await q.queryMany<{ id: string }>(
    `SELECT o.id FROM orders o
     WHERE o.status = 'pending' AND o.created_at <= $1
       AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.provider_session_id IS NOT NULL)
     ORDER BY o.created_at LIMIT $2 FOR UPDATE OF o SKIP LOCKED`,
    [options.createdBefore, options.limit],
  );
}
