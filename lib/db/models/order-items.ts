import type { Queryable } from '../client.js';
import type { Currency } from '../../money.js';

/** order_items: one row per ticket, with its attendee. */
export interface OrderItem {
  id: string;
  orderId: string;
  ticketTypeId: string;
  unitPriceCents: number;
  discountCents: number;
  priceCents: number;
  currency: Currency;
  attendeeFirstName: string | null;
  attendeeLastName: string | null;
  attendeeEmail: string | null;
  status: 'active' | 'refunded' | 'released';
}

export interface OrderItemWithType extends OrderItem {
  ticketTypeCode: string;
  ticketTypeName: string;
}

const COLUMNS = `i.id, i.order_id AS "orderId", i.ticket_type_id AS "ticketTypeId", i.unit_price_cents AS "unitPriceCents",
  i.discount_cents AS "discountCents", i.price_cents AS "priceCents", i.currency,
  i.attendee_first_name AS "attendeeFirstName", i.attendee_last_name AS "attendeeLastName",
  i.attendee_email AS "attendeeEmail", i.status`;

export interface NewOrderItem {
  ticketTypeId: string;
  unitPriceCents: number;
  discountCents: number;
  priceCents: number;
  currency: Currency;
  attendeeFirstName?: string | null;
  attendeeLastName?: string | null;
  attendeeEmail?: string | null;
}

/** Inserts all tickets of an order in one statement. */
export async function insertOrderItems(q: Queryable, orderId: string, items: readonly NewOrderItem[]): Promise<void> {
  if (items.length === 0) return;
  await q.query(
    `INSERT INTO order_items (order_id, ticket_type_id, unit_price_cents, discount_cents, price_cents, currency,
       attendee_first_name, attendee_last_name, attendee_email)
     SELECT $1, * FROM unnest($2::uuid[], $3::int[], $4::int[], $5::int[], $6::text[], $7::text[], $8::text[], $9::text[])`,
    [
      orderId,
      items.map((i) => i.ticketTypeId),
      items.map((i) => i.unitPriceCents),
      items.map((i) => i.discountCents),
      items.map((i) => i.priceCents),
      items.map((i) => i.currency),
      items.map((i) => i.attendeeFirstName ?? null),
      items.map((i) => i.attendeeLastName ?? null),
      items.map((i) => i.attendeeEmail ?? null),
    ],
  );
}

export async function listOrderItems(q: Queryable, orderId: string): Promise<OrderItemWithType[]> {
  return await q.queryMany<OrderItemWithType>(
    `SELECT ${COLUMNS}, t.code AS "ticketTypeCode", t.name AS "ticketTypeName"
     FROM order_items i JOIN ticket_types t ON t.id = i.ticket_type_id
     WHERE i.order_id = $1 ORDER BY t.sort_order, t.code, i.id`,
    [orderId],
  );
}

/** Quantity per ticket type of an order's active tickets (what its hold or sale covers). */
export async function countActiveItemsByType(
  q: Queryable,
  orderId: string,
): Promise<{ ticketTypeId: string; quantity: number }[]> {
  return await q.queryMany<{ ticketTypeId: string; quantity: number }>(
    `SELECT ticket_type_id AS "ticketTypeId", count(*)::int AS quantity
     FROM order_items WHERE order_id = $1 AND status = 'active'
     GROUP BY ticket_type_id ORDER BY ticket_type_id`,
    [orderId],
  );
}

/**
 * Marks an order's active items `refunded` and returns how many of each ticket type that was, in
 * ticket type order (so callers then update ticket type rows in a fixed order and never deadlock).
 */
export async function markActiveItemsRefunded(
  q: Queryable,
  orderId: string,
): Promise<Array<{ ticketTypeId: string; quantity: number }>> {
  return await q.queryMany<{ ticketTypeId: string; quantity: number }>(
    `WITH changed AS (
       UPDATE order_items SET status = 'refunded' WHERE order_id = $1 AND status = 'active' RETURNING ticket_type_id)
     SELECT ticket_type_id AS "ticketTypeId", count(*)::int AS quantity FROM changed
     GROUP BY ticket_type_id ORDER BY ticket_type_id`,
    [orderId],
  );
}
