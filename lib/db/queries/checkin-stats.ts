import type { Queryable } from '../client.js';

/** Per ticket type of an event: tickets that admit (active, of paid and not fully refunded orders) and admissions. */
export async function checkInCountsByType(
  q: Queryable,
  eventId: string,
): Promise<{ code: string; name: string; sold: number; admitted: number }[]> {
  return await q.queryMany<{ code: string; name: string; sold: number; admitted: number }>(
    `SELECT t.code, t.name,
       (SELECT count(*)::int FROM order_items i JOIN orders o ON o.id = i.order_id
        WHERE i.ticket_type_id = t.id AND i.status = 'active' AND o.status IN ('completed', 'partially_refunded')) AS sold,
       (SELECT count(*)::int FROM ticket_checkins k WHERE k.ticket_type_id = t.id) AS admitted
     FROM ticket_types t WHERE t.event_id = $1 ORDER BY t.sort_order, t.code`,
    [eventId],
  );
}
