import type { Queryable } from '../client.js';

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

// The live-hold count per client / email and its advisory locks (issue 18 caps) are taken inside checkout's
// one write statement (checkout_place_order, migration 0100; lib/checkout/hold-caps.ts names the refusal).
