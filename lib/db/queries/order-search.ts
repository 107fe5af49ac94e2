import { z } from 'zod';
import { db, type Queryable } from '../client.js';
import { ORDER_STATUSES } from '../models/orders.js';
import {
  Conditions,
  type Cursor,
  cursorParam,
  cursorTimestamp,
  emailParam,
  encodeCursor,
  likeEscape,
  limitParam,
  listOf,
  searchText,
} from './search-params.js';

/**
 * Customer-service search (scope orders:read): `email` = that customer's order history; `q` matches
 * an order number prefix, a customer email prefix, or a customer or attendee name (case-insensitive
 * substring); `status` filters. Newest first, keyset-paginated on (created_at desc, id desc).
 */

export const OrderSearchQuery = z.object({
  email: emailParam.optional(),
  status: listOf(ORDER_STATUSES).optional(),
  q: searchText(100).optional(),
  limit: limitParam(100, 25),
  cursor: cursorParam.optional(),
});
export type OrderSearch = z.infer<typeof OrderSearchQuery>;

/** The summary as the query returns it: the customer flat, timestamps as dates, and the keyset cursor's time. */
interface OrderSearchRow extends Omit<OrderSummary, 'customer' | 'createdAt' | 'completedAt'> {
  customerId: string;
  customerEmail: string;
  customerFirstName: string;
  customerLastName: string;
  createdAt: Date;
  completedAt: Date | null;
  cursorAt: string;
}

export interface OrderSummary {
  id: string;
  orderNumber: string;
  status: string;
  provider: string;
  currency: string;
  totalCents: number;
  refundedCents: number;
  ticketCount: number;
  attentionReason: string | null;
  eventSlug: string;
  customer: { id: string; email: string; firstName: string; lastName: string };
  createdAt: string;
  completedAt: string | null;
}

export async function searchOrders(
  search: OrderSearch,
  q: Queryable = db,
): Promise<{ data: OrderSummary[]; nextCursor: string | null }> {
  const where = new Conditions();
  if (search.email) where.add(`lower(c.email) = lower(${where.param(search.email)})`);
  if (search.status) where.add(`o.status = ANY(${where.param(search.status)}::text[])`);
  if (search.q) {
    const prefix = where.param(`${likeEscape(search.q)}%`);
    const contains = where.param(`%${likeEscape(search.q)}%`);
    where.add(`(o.order_number LIKE upper(${prefix}) ESCAPE '\\'
      OR lower(c.email) LIKE lower(${prefix}) ESCAPE '\\'
      OR (coalesce(o.buyer_first_name, c.first_name) || ' ' || coalesce(o.buyer_last_name, c.last_name)) ILIKE ${contains} ESCAPE '\\'
      OR EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id AND (
        (coalesce(i.attendee_first_name, '') || ' ' || coalesce(i.attendee_last_name, '')) ILIKE ${contains} ESCAPE '\\'
        OR lower(i.attendee_email) LIKE lower(${prefix}) ESCAPE '\\')))`);
  }
  const after: Cursor | undefined = search.cursor;
  if (after) where.add(`(o.created_at, o.id) < (${where.param(after.at)}::timestamptz, ${where.param(after.id)}::uuid)`);
  const limit = where.param(search.limit + 1);
  const rows = await q.queryMany<OrderSearchRow>(
    `SELECT o.id, o.order_number AS "orderNumber", o.status, o.provider, o.currency, o.total_cents AS "totalCents",
       o.refunded_cents AS "refundedCents",
       (SELECT count(*)::int FROM order_items i WHERE i.order_id = o.id) AS "ticketCount",
       o.attention_reason AS "attentionReason", e.slug AS "eventSlug", c.id AS "customerId",
       coalesce(o.buyer_email, c.email) AS "customerEmail", coalesce(o.buyer_first_name, c.first_name) AS "customerFirstName",
       coalesce(o.buyer_last_name, c.last_name) AS "customerLastName",
       o.created_at AS "createdAt", o.completed_at AS "completedAt", ${cursorTimestamp('o.created_at')} AS "cursorAt"
     FROM orders o
     JOIN customers c ON c.id = o.customer_id
     JOIN events e ON e.id = o.event_id
     ${where.where()}
     ORDER BY o.created_at DESC, o.id DESC
     LIMIT ${limit}`,
    where.params,
  );
  const page = rows.slice(0, search.limit);
  const last = page.at(-1);
  return {
    data: page.map((row) => ({
      id: row.id,
      orderNumber: row.orderNumber,
      status: row.status,
      provider: row.provider,
      currency: row.currency,
      totalCents: row.totalCents,
      refundedCents: row.refundedCents,
      ticketCount: row.ticketCount,
      attentionReason: row.attentionReason,
      eventSlug: row.eventSlug,
      customer: {
        id: row.customerId,
        email: row.customerEmail,
        firstName: row.customerFirstName,
        lastName: row.customerLastName,
      },
      createdAt: row.createdAt.toISOString(),
      completedAt: row.completedAt?.toISOString() ?? null,
    })),
    nextCursor: rows.length > search.limit && last ? encodeCursor({ at: last.cursorAt, id: last.id }) : null,
  };
}
