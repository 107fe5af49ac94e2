import type { Queryable } from '../client.js';
import type { Currency } from '../../money.js';

/**
 * ticket_types: price, capacity and the two counters. `sold + held <= capacity` is a CHECK in the
 * database; every counter change below is one conditional UPDATE (never read-then-write), so
 * concurrent buyers can never oversell.
 */
export interface TicketType {
  id: string;
  eventId: string;
  code: string;
  name: string;
  description: string | null;
  priceCents: number;
  currency: Currency;
  capacity: number;
  sold: number;
  held: number;
  salesStartAt: Date | null;
  salesEndAt: Date | null;
  slidingScale: boolean;
  maxPerOrder: number;
  isActive: boolean;
  sortOrder: number;
}

export const TICKET_TYPE_COLUMNS = `id, event_id AS "eventId", code, name, description, price_cents AS "priceCents", currency,
  capacity, sold, held, sales_start_at AS "salesStartAt", sales_end_at AS "salesEndAt", sliding_scale AS "slidingScale",
  max_per_order AS "maxPerOrder", is_active AS "isActive", sort_order AS "sortOrder"`;

export async function listTicketTypesForEvent(q: Queryable, eventId: string): Promise<TicketType[]> {
  return await q.queryMany<TicketType>(
    `SELECT ${TICKET_TYPE_COLUMNS} FROM ticket_types WHERE event_id = $1 ORDER BY sort_order, code`,
    [eventId],
  );
}

export async function findTicketTypesByCodes(q: Queryable, eventId: string, codes: readonly string[]): Promise<TicketType[]> {
  return await q.queryMany<TicketType>(
    `SELECT ${TICKET_TYPE_COLUMNS} FROM ticket_types WHERE event_id = $1 AND code = ANY($2::text[]) ORDER BY code`,
    [eventId, codes],
  );
}

export async function findTicketTypeById(q: Queryable, id: string): Promise<TicketType | undefined> {
  return await q.queryOne<TicketType>(`SELECT ${TICKET_TYPE_COLUMNS} FROM ticket_types WHERE id = $1`, [id]);
}

/** Holds `quantity` if it fits; undefined when it does not (nothing changed). */
export async function tryTakeHold(q: Queryable, id: string, quantity: number): Promise<TicketType | undefined> {
  return await q.queryOne<TicketType>(
    `UPDATE ticket_types SET held = held + $2 WHERE id = $1 AND sold + held + $2 <= capacity RETURNING ${TICKET_TYPE_COLUMNS}`,
    [id, quantity],
  );
}

/** Gives held tickets back to sale (expired, failed or cancelled checkout). */
export async function releaseHold(q: Queryable, id: string, quantity: number): Promise<void> {
  await q.query('UPDATE ticket_types SET held = held - $2 WHERE id = $1', [id, quantity]);
}

/** Turns held tickets into sold ones (payment completed in time). */
export async function convertHoldToSold(q: Queryable, id: string, quantity: number): Promise<void> {
  await q.query('UPDATE ticket_types SET held = held - $2, sold = sold + $2 WHERE id = $1', [id, quantity]);
}

/** Sells without a hold (late payment after the hold expired) if capacity is there; false when not. */
export async function trySellWithoutHold(q: Queryable, id: string, quantity: number): Promise<boolean> {
  const result = await q.query('UPDATE ticket_types SET sold = sold + $2 WHERE id = $1 AND sold + held + $2 <= capacity', [
    id,
    quantity,
  ]);
  return result.rowCount === 1;
}

/**
 * Sells every line without a hold, all or nothing: a savepoint undoes the lines already sold when
 * one does not fit. Inside the caller's transaction; false when the capacity is not there.
 */
export async function trySellAllWithoutHold(
  q: Queryable,
  items: readonly { ticketTypeId: string; quantity: number }[],
): Promise<boolean> {
  await q.query('SAVEPOINT late_sale');
  for (const item of items) {
    if (!(await trySellWithoutHold(q, item.ticketTypeId, item.quantity))) {
      await q.query('ROLLBACK TO SAVEPOINT late_sale');
      return false;
    }
  }
  await q.query('RELEASE SAVEPOINT late_sale');
  return true;
}

/** Returns sold tickets to sale (refund with releaseTickets). */
export async function releaseSold(q: Queryable, id: string, quantity: number): Promise<void> {
  await q.query('UPDATE ticket_types SET sold = sold - $2 WHERE id = $1', [id, quantity]);
}

export interface NewTicketType {
  eventId: string;
  code: string;
  name: string;
  description?: string;
  priceCents: number;
  currency: Currency;
  capacity: number;
  salesStartAt?: Date | null;
  salesEndAt?: Date | null;
  slidingScale?: boolean;
  maxPerOrder?: number;
  isActive?: boolean;
  sortOrder?: number;
}

/** Inserts, or updates the catalogue fields of an existing (event, code); counters are never touched. */
export async function upsertTicketType(q: Queryable, t: NewTicketType): Promise<TicketType> {
  const row = await q.queryOne<TicketType>(
    `INSERT INTO ticket_types (event_id, code, name, description, price_cents, currency, capacity, sales_start_at,
       sales_end_at, sliding_scale, max_per_order, is_active, sort_order)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (event_id, code) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description,
       price_cents = EXCLUDED.price_cents, capacity = EXCLUDED.capacity, sales_start_at = EXCLUDED.sales_start_at,
       sales_end_at = EXCLUDED.sales_end_at, sliding_scale = EXCLUDED.sliding_scale,
       max_per_order = EXCLUDED.max_per_order, is_active = EXCLUDED.is_active, sort_order = EXCLUDED.sort_order
     RETURNING ${TICKET_TYPE_COLUMNS}`,
    [
      t.eventId,
      t.code,
      t.name,
      t.description ?? null,
      t.priceCents,
      t.currency,
      t.capacity,
      t.salesStartAt ?? null,
      t.salesEndAt ?? null,
      t.slidingScale ?? false,
      t.maxPerOrder ?? 10,
      t.isActive ?? true,
      t.sortOrder ?? 0,
    ],
  );
  if (!row) throw new Error('upsertTicketType returned no row');
  return row;
}

export interface TicketAvailability {
  id: string;
  capacity: number;
  sold: number;
  held: number;
  /** Tickets still counted in `held` by pending orders whose hold has already expired (reclaimable). */
  expiredHeld: number;
}

/**
 * Counters of the given ticket types plus what their expired-but-not-yet-reclaimed holds keep
 * back. The expired holds come from the partial index on live holds (orders_live_holds_idx), so
 * this stays cheap: normally there are none, because checkout and the cron reclaim them.
 */
export async function listTicketAvailability(
  q: Queryable,
  where: { ticketTypeIds: readonly string[] } | { eventId: string },
): Promise<TicketAvailability[]> {
  const byEvent = 'eventId' in where;
  return await q.queryMany<TicketAvailability>(
    `SELECT t.id, t.capacity, t.sold, t.held, COALESCE(x.n, 0)::int AS "expiredHeld"
     FROM ticket_types t
     LEFT JOIN (
       SELECT i.ticket_type_id, count(*) AS n
       FROM orders o JOIN order_items i ON i.order_id = o.id AND i.status = 'active'
       WHERE o.status IN ('pending', 'processing') AND o.status = 'pending' AND o.hold_expires_at <= now()
       GROUP BY i.ticket_type_id
     ) x ON x.ticket_type_id = t.id
     WHERE ${byEvent ? 't.event_id = $1' : 't.id = ANY($1::uuid[])'}
     ORDER BY t.sort_order, t.code`,
    [byEvent ? where.eventId : where.ticketTypeIds],
  );
}
