import { z } from 'zod';
import { db } from '../db/client.js';
import { AppError } from '../errors.js';

/**
 * GET /api/checkin/stats?event=<slug>: per ticket type, how many tickets admit (sold: active tickets of
 * paid, not fully refunded orders) and how many were admitted at the door.
 */

export const CheckInStatsQuery = z.strictObject({ event: z.string().trim().min(1).max(63) });

export interface CheckInStats {
  event: { slug: string; name: string };
  ticketTypes: { code: string; name: string; sold: number; admitted: number }[];
  totals: { sold: number; admitted: number };
}

export async function getCheckInStats(query: z.infer<typeof CheckInStatsQuery>): Promise<CheckInStats> {
  const event = await db.queryOne<{ id: string; slug: string; name: string }>(
    'SELECT id, slug, name FROM events WHERE slug = $1',
    [query.event],
  );
  if (!event) throw new AppError('NOT_FOUND', 'No such event');
  const rows = await db.queryMany<{ code: string; name: string; sold: number; admitted: number }>(
    `SELECT t.code, t.name,
       (SELECT count(*)::int FROM order_items i JOIN orders o ON o.id = i.order_id
        WHERE i.ticket_type_id = t.id AND i.status = 'active' AND o.status IN ('completed', 'partially_refunded')) AS sold,
       (SELECT count(*)::int FROM ticket_checkins k WHERE k.ticket_type_id = t.id) AS admitted
     FROM ticket_types t WHERE t.event_id = $1 ORDER BY t.sort_order, t.code`,
    [event.id],
  );
  return {
    event: { slug: event.slug, name: event.name },
    ticketTypes: rows,
    totals: {
      sold: rows.reduce((sum, row) => sum + row.sold, 0),
      admitted: rows.reduce((sum, row) => sum + row.admitted, 0),
    },
  };
}
