import type { Queryable } from '../client.js';

/** ticket_checkins: one row per admitted ticket (its primary key is what admits a ticket once). */

export interface CheckIn {
  checkedInAt: Date;
  door: string | null;
}

/** Records the admission unless the ticket was admitted before (then undefined). */
export async function insertCheckInIfFirst(
  q: Queryable,
  checkIn: { orderItemId: string; orderId: string; eventId: string; ticketTypeId: string; door: string | null; by: string },
): Promise<CheckIn | undefined> {
  return await q.queryOne<CheckIn>(
    `INSERT INTO ticket_checkins (order_item_id, order_id, event_id, ticket_type_id, door, checked_in_by)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (order_item_id) DO NOTHING
     RETURNING checked_in_at AS "checkedInAt", door`,
    [checkIn.orderItemId, checkIn.orderId, checkIn.eventId, checkIn.ticketTypeId, checkIn.door, checkIn.by],
  );
}

export async function findCheckIn(q: Queryable, orderItemId: string): Promise<CheckIn | undefined> {
  return await q.queryOne<CheckIn>(`SELECT checked_in_at AS "checkedInAt", door FROM ticket_checkins WHERE order_item_id = $1`, [
    orderItemId,
  ]);
}
