import type { Queryable } from '../client.js';

/** What one order's money summary (lib/ledger/get-order-money.ts) reads besides its ledger rows. */

export interface OrderMoneyHeader {
  id: string;
  orderNumber: string;
  status: string;
  currency: string;
  totalCents: number;
}

export async function findOrderMoneyHeader(q: Queryable, orderId: string): Promise<OrderMoneyHeader | undefined> {
  return await q.queryOne<OrderMoneyHeader>(
    `SELECT id, order_number AS "orderNumber", status, currency, total_cents AS "totalCents" FROM orders WHERE id = $1`,
    [orderId],
  );
}

/** What the order's books say it kept (captured - refunded - lost disputes) and its providers' fees. */
export async function readOrderBooks(q: Queryable, orderId: string): Promise<{ kept: number; fees: number }> {
  const row = await q.queryOne<{ kept: number; fees: number }>(
    `SELECT coalesce(sum(CASE WHEN p.status IN ('completed', 'partially_refunded', 'refunded')
                                OR (p.status = 'cancelled' AND p.failure_code = 'duplicate_payment')
                           THEN p.amount_cents - p.refunded_cents
                                - coalesce((SELECT sum(d.amount_cents) FROM disputes d WHERE d.payment_id = p.id AND d.status = 'lost'), 0)
                           ELSE 0 END), 0)::float8 AS kept,
            coalesce(sum(p.fee_cents), 0)::float8 AS fees
     FROM payments p WHERE p.order_id = $1`,
    [orderId],
  );
  return row ?? { kept: 0, fees: 0 };
}
