import type { Queryable } from '../client.js';

/**
 * What the buyer emails say, read at send time: the order as the buyer placed it (the order's buyer
 * snapshot, else the customer record), its event, the payment method, its tickets.
 */

export interface OrderFacts {
  id: string;
  orderNumber: string;
  status: string;
  currency: string;
  subtotalCents: number;
  discountCents: number;
  totalCents: number;
  refundedCents: number;
  slidingScalePercent: number;
  provider: 'stripe' | 'paypal';
  buyerFirstName: string;
  buyerLastName: string;
  eventName: string;
  eventVenue: string | null;
  eventTimezone: string;
  eventStartsAt: Date;
  eventEndsAt: Date;
  methodBrand: string | null;
  methodLast4: string | null;
}

export interface TicketFacts {
  id: string;
  typeName: string;
  firstName: string | null;
  lastName: string | null;
  status: string;
  priceCents: number;
}

export async function findOrderFacts(q: Queryable, orderId: string): Promise<OrderFacts | undefined> {
  return await q.queryOne<OrderFacts>(
    `SELECT o.id, o.order_number AS "orderNumber", o.status, o.currency, o.subtotal_cents AS "subtotalCents",
       o.discount_cents AS "discountCents", o.total_cents AS "totalCents", o.refunded_cents AS "refundedCents",
       o.sliding_scale_percent AS "slidingScalePercent", o.provider,
       coalesce(o.buyer_first_name, c.first_name) AS "buyerFirstName", coalesce(o.buyer_last_name, c.last_name) AS "buyerLastName",
       e.name AS "eventName", e.venue AS "eventVenue", e.timezone AS "eventTimezone",
       e.starts_at AS "eventStartsAt", e.ends_at AS "eventEndsAt",
       p.method_brand AS "methodBrand", p.method_last4 AS "methodLast4"
     FROM orders o JOIN customers c ON c.id = o.customer_id JOIN events e ON e.id = o.event_id
     LEFT JOIN LATERAL (SELECT method_brand, method_last4 FROM payments
                        WHERE order_id = o.id AND status IN ('completed', 'partially_refunded', 'refunded')
                        ORDER BY created_at LIMIT 1) p ON true
     WHERE o.id = $1`,
    [orderId],
  );
}

/** The order's tickets by type, then attendee name. */
export async function listTicketFacts(q: Queryable, orderId: string): Promise<TicketFacts[]> {
  return await q.queryMany<TicketFacts>(
    `SELECT i.id, t.name AS "typeName", i.attendee_first_name AS "firstName", i.attendee_last_name AS "lastName",
       i.status, i.price_cents AS "priceCents"
     FROM order_items i JOIN ticket_types t ON t.id = i.ticket_type_id
     WHERE i.order_id = $1
     ORDER BY t.sort_order, t.code, lower(i.attendee_last_name), lower(i.attendee_first_name), i.id`,
    [orderId],
  );
}

/** A paid (not fully refunded) order with this number placed with this email (lower-cased), if any. */
export async function findPaidOrderByNumberAndEmail(
  q: Queryable,
  orderNumber: string,
  email: string,
): Promise<{ id: string } | undefined> {
  return await q.queryOne<{ id: string }>(
    `SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id
     WHERE o.order_number = $1 AND lower(coalesce(o.buyer_email, c.email)) = $2
       AND o.status IN ('completed', 'partially_refunded')`,
    [orderNumber, email],
  );
}

/** Whether the buyer had started paying: a payment attempt failed, or one is in flight at the provider. */
export async function buyerStartedPaying(q: Queryable, orderId: string): Promise<boolean> {
  const row = await q.queryOne<{ yes: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM payment_failures WHERE order_id = $1)
         OR EXISTS (SELECT 1 FROM payments WHERE order_id = $1 AND (status = 'processing' OR failure_count > 0)) AS yes`,
    [orderId],
  );
  return row?.yes === true;
}
