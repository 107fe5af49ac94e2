import type { Queryable } from '../client.js';

/** order_link_tokens: the order-page links of confirmation emails (only the token's SHA-256 is stored). */

/** Stores a link token for the order, valid until `daysAfterEvent` days after the order's event ends. */
export async function insertOrderLinkToken(
  q: Queryable,
  link: { tokenHash: string; orderId: string; messageId: string | null; daysAfterEvent: number },
): Promise<void> {
  await q.query(
    `INSERT INTO order_link_tokens (token_hash, order_id, message_id, expires_at)
     SELECT $1, o.id, $3, greatest(e.ends_at, now()) + make_interval(days => $4)
     FROM orders o JOIN events e ON e.id = o.event_id WHERE o.id = $2`,
    [link.tokenHash, link.orderId, link.messageId, link.daysAfterEvent],
  );
}

/** True when an unexpired link token with this hash belongs to the order. */
export async function orderLinkTokenIsValid(q: Queryable, tokenHash: string, orderId: string): Promise<boolean> {
  const row = await q.queryOne<{ ok: boolean }>(
    `SELECT true AS ok FROM order_link_tokens WHERE token_hash = $1 AND order_id = $2 AND expires_at > now()`,
    [tokenHash, orderId],
  );
  return row?.ok === true;
}
