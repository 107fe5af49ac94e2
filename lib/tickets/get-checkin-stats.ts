import { z } from 'zod';
import { db } from '../db/client.js';
import { findEventBySlug } from '../db/models/events.js';
import { checkInCountsByType } from '../db/queries/checkin-stats.js';
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
  const event = await findEventBySlug(db, query.event);
  if (!event) throw new AppError('NOT_FOUND', 'No such event');
  const rows = await checkInCountsByType(db, event.id);
  return {
    event: { slug: event.slug, name: event.name },
    ticketTypes: rows,
    totals: {
      sold: rows.reduce((sum, row) => sum + row.sold, 0),
      admitted: rows.reduce((sum, row) => sum + row.admitted, 0),
    },
  };
}
