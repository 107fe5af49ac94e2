import type { Queryable, Tx } from '../client.js';

/**
 * The buyer details an order was placed with (issue 18: an unauthenticated checkout never rewrites
 * the customer record; the order keeps its own copy, which staff search, order detail and the
 * finance CSV read), plus the normalised client address and email its hold counts against.
 */

export interface OrderBuyer {
  email: string;
  firstName: string;
  lastName: string;
  phone: string | null;
}

export interface OrderHoldKeys {
  /** lib/http/client-address.ts clientKey(): IPv4, or IPv6 /64; null when unknown. */
  clientKey: string | null;
  /** Lower-cased buyer email. */
  emailKey: string;
}

export async function recordOrderBuyer(q: Queryable, orderId: string, buyer: OrderBuyer, keys: OrderHoldKeys): Promise<void> {
  await q.query(
    `UPDATE orders SET buyer_email = $2, buyer_first_name = $3, buyer_last_name = $4, buyer_phone = $5,
       client_key = $6, held_email_key = $7
     WHERE id = $1`,
    [orderId, buyer.email, buyer.firstName, buyer.lastName, buyer.phone, keys.clientKey, keys.emailKey],
  );
}

export async function findOrderBuyer(q: Queryable, orderId: string): Promise<OrderBuyer | undefined> {
  return await q.queryOne<OrderBuyer>(
    `SELECT buyer_email AS email, buyer_first_name AS "firstName", buyer_last_name AS "lastName", buyer_phone AS phone
     FROM orders WHERE id = $1 AND buyer_email IS NOT NULL`,
    [orderId],
  );
}

/** Tickets (one order_items row each) held right now (pending / processing orders with a live hold) by one client address and by one email. */
export async function liveHeldTickets(
  q: Queryable,
  keys: { clientKey: string | null; emailKey: string },
): Promise<{ byClient: number; byEmail: number }> {
  const row = await q.queryOne<{ byClient: number; byEmail: number }>(
    `SELECT
       count(*) FILTER (WHERE o.client_key = $1)::int AS "byClient",
       count(*) FILTER (WHERE o.held_email_key = $2)::int AS "byEmail"
     FROM orders o JOIN order_items i ON i.order_id = o.id AND i.status = 'active'
     WHERE o.status IN ('pending', 'processing') AND o.hold_expires_at > now()
       AND (o.client_key = $1 OR o.held_email_key = $2)`,
    [keys.clientKey, keys.emailKey],
  );
  return row ?? { byClient: 0, byEmail: 0 };
}

/**
 * Serialises the hold-cap count of one client and one email: transaction-level advisory locks, taken in a
 * fixed order (client, then email) so two checkouts never wait on each other in a cycle.
 */
export async function lockHoldKeys(tx: Tx, keys: { clientKey: string | null; emailKey: string }): Promise<void> {
  if (keys.clientKey !== null) {
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 18))', [`hold:client:${keys.clientKey}`]);
  }
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 18))', [`hold:email:${keys.emailKey}`]);
}
