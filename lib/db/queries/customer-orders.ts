import { z } from 'zod';
import { db, type Queryable } from '../client.js';
import { emailParam, limitParam } from './search-params.js';

/**
 * A customer's order history by email (customer service), newest first, each order with its money
 * from the ledger: captured, refunded, lost to disputes, fees, and net.
 */

/** GET /api/customers/orders query string. */
export const CustomerOrdersQuery = z.strictObject({ email: emailParam, limit: limitParam(200, 50) });

export interface CustomerOrder {
  orderId: string;
  orderNumber: string;
  event: string;
  status: string;
  provider: string;
  currency: string;
  totalCents: number;
  tickets: number;
  createdAt: Date;
  completedAt: Date | null;
  capturedCents: number;
  refundedCents: number;
  disputesLostCents: number;
  feesCents: number;
  netCents: number;
}

export interface CustomerOrderHistory {
  email: string;
  customer: { firstName: string; lastName: string } | null;
  orders: CustomerOrder[];
  hasMore: boolean;
}

export async function listCustomerOrders(email: string, limit: number, q: Queryable = db): Promise<CustomerOrderHistory> {
  const customer = await q.queryOne<{ id: string; firstName: string; lastName: string }>(
    `SELECT id, first_name AS "firstName", last_name AS "lastName" FROM customers WHERE lower(email) = lower($1)`,
    [email],
  );
  if (!customer) return { email, customer: null, orders: [], hasMore: false };
  const rows = await q.queryMany<CustomerOrder>(
    `SELECT o.id AS "orderId", o.order_number AS "orderNumber", e.slug AS event, o.status, o.provider, o.currency,
       o.total_cents AS "totalCents", (SELECT count(*) FROM order_items i WHERE i.order_id = o.id)::int AS tickets,
       o.created_at AS "createdAt", o.completed_at AS "completedAt",
       coalesce(m.captured, 0)::float8 AS "capturedCents", coalesce(m.refunded, 0)::float8 AS "refundedCents",
       coalesce(m.lost, 0)::float8 AS "disputesLostCents", coalesce(m.fees, 0)::float8 AS "feesCents",
       coalesce(m.net, 0)::float8 AS "netCents"
     FROM orders o JOIN events e ON e.id = o.event_id
     LEFT JOIN LATERAL (
       SELECT sum(amount_cents) FILTER (WHERE kind = 'capture') AS captured,
              -sum(amount_cents) FILTER (WHERE kind IN ('refund', 'refund_reversal')) AS refunded,
              -sum(amount_cents) FILTER (WHERE kind = 'dispute_lost') AS lost,
              -sum(amount_cents) FILTER (WHERE kind = 'fee') AS fees,
              sum(amount_cents) AS net
       FROM money_ledger l WHERE l.order_id = o.id) m ON true
     WHERE o.customer_id = $1
     ORDER BY o.created_at DESC, o.id DESC
     LIMIT $2`,
    [customer.id, limit + 1],
  );
  return {
    email,
    customer: { firstName: customer.firstName, lastName: customer.lastName },
    orders: rows.slice(0, limit),
    hasMore: rows.length > limit,
  };
}
