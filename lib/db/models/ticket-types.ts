import type { Queryable } from '../client.js';
import type { Currency } from '../../money.js';
import { HOLDING_ORDER_STATUSES, PAID_ORDER_STATUSES } from './orders.js';

/**
 * ticket_types: price, capacity and one counter, `taken` (capacity in use: held by live checkouts or
 * sold). `0 <= taken <= capacity` is a CHECK in the database (migration 0099); every counter change
 * below is one conditional UPDATE (never read-then-write), so concurrent buyers can never oversell.
 * Only holds and releases change it: completing a paid order does not touch the row (issue 17: the
 * row every checkout of the type locks). How many are sold / held is derived from the order items
 * (ticketTypeCounts below), never stored; the report reads held from the live holds and sold as
 * `taken - held` (ticketTypeCountsFromHolds, no scan of the sold items).
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
  /** Capacity in use: held by pending / processing orders plus sold (see ticketTypeCounts). */
  taken: number;
  salesStartAt: Date | null;
  salesEndAt: Date | null;
  slidingScale: boolean;
  maxPerOrder: number;
  isActive: boolean;
  sortOrder: number;
}

export const TICKET_TYPE_COLUMNS = `id, event_id AS "eventId", code, name, description, price_cents AS "priceCents", currency,
  capacity, taken, sales_start_at AS "salesStartAt", sales_end_at AS "salesEndAt", sliding_scale AS "slidingScale",
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

/**
 * Takes a hold of `quantity` if it fits; undefined when it does not (nothing changed).
 *   UPDATE ticket_types SET taken = taken + n WHERE id = $1 AND taken + n <= capacity
 */
export async function tryTakeHold(q: Queryable, id: string, quantity: number): Promise<TicketType | undefined> {
  return await q.queryOne<TicketType>(
    `UPDATE ticket_types SET taken = taken + $2 WHERE id = $1 AND taken + $2 <= capacity RETURNING ${TICKET_TYPE_COLUMNS}`,
    [id, quantity],
  );
}

/**
 * Gives capacity back to sale: a hold that ended (expired, failed, cancelled checkout) or sold tickets
 * released by a refund. `UPDATE ticket_types SET taken = taken - n WHERE id = $1`.
 */
export async function releaseTaken(q: Queryable, id: string, quantity: number): Promise<void> {
  await q.query('UPDATE ticket_types SET taken = taken - $2 WHERE id = $1', [id, quantity]);
}

/** Gives held tickets back to sale (expired, failed or cancelled checkout). */
export async function releaseHold(q: Queryable, id: string, quantity: number): Promise<void> {
  await releaseTaken(q, id, quantity);
}

/** Sells without a hold (late payment after the hold expired) if capacity is there; false when not. */
export async function trySellWithoutHold(q: Queryable, id: string, quantity: number): Promise<boolean> {
  const result = await q.query('UPDATE ticket_types SET taken = taken + $2 WHERE id = $1 AND taken + $2 <= capacity', [
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
  await releaseTaken(q, id, quantity);
}

/** Order statuses whose active items are sold tickets (paid, whatever was refunded since without release). */
const SOLD_ORDER_STATUSES = PAID_ORDER_STATUSES;
/** Order statuses whose active items hold capacity (a live checkout, paid or not yet). */
const HELD_ORDER_STATUSES = HOLDING_ORDER_STATUSES;

export interface TicketTypeCounts {
  id: string;
  code: string;
  name: string;
  capacity: number;
  taken: number;
  /** Active tickets of paid orders. */
  sold: number;
  /** Active tickets of pending / processing orders (including holds whose time ran out, not yet reclaimed). */
  held: number;
}

/**
 * The one definition of `sold` and `held`, derived from the order items (they are not stored since
 * migration 0099): for reports, the dashboard and the capacity figures. `sold + held = taken` for
 * every type whose counter only ever moved through this model.
 */
export async function ticketTypeCounts(
  q: Queryable,
  where: { eventId: string } | { ticketTypeIds: readonly string[] },
): Promise<TicketTypeCounts[]> {
  const byEvent = 'eventId' in where;
  return await q.queryMany<TicketTypeCounts>(
    `SELECT t.id, t.code, t.name, t.capacity, t.taken,
            COALESCE(c.sold, 0)::int AS sold, COALESCE(c.held, 0)::int AS held
     FROM ticket_types t
     LEFT JOIN LATERAL (
       SELECT count(*) FILTER (WHERE o.status = ANY($2::text[])) AS sold,
              count(*) FILTER (WHERE o.status = ANY($3::text[])) AS held
       FROM order_items i JOIN orders o ON o.id = i.order_id
       WHERE i.ticket_type_id = t.id AND i.status = 'active'
     ) c ON true
     WHERE ${byEvent ? 't.event_id = $1' : 't.id = ANY($1::uuid[])'}
     ORDER BY t.sort_order, t.code`,
    [byEvent ? where.eventId : where.ticketTypeIds, SOLD_ORDER_STATUSES, HELD_ORDER_STATUSES],
  );
}

/**
 * The same figures as ticketTypeCounts for every ticket type of an event, without reading the sold
 * items: the report path (GET /api/analytics/summary, issue 13), which must not scan every order item
 * of a type (p95 5.4 s at 1M orders).
 *
 *   held = active items of pending / processing orders, read through the partial index on live holds
 *          (orders_live_holds_idx, `WHERE status IN ('pending', 'processing')`, migration 0004) joined
 *          to their items: only the orders holding now, whatever the number of paid ones.
 *   sold = taken - held.
 *
 * Why `taken - held` is exactly ticketTypeCounts' sold (active items of completed / partially_refunded
 * / refunded orders): `taken` counts exactly the active items of pending, processing and paid orders.
 * Every write that changes one side changes the other in the same transaction (migrations 0099, 0100):
 *  - checkout (checkout_place_order) inserts the pending order's items and takes +n in one statement;
 *  - pending -> processing -> completed in time moves nothing (held becomes sold; completion, also the
 *    one-statement one, never touches ticket_types);
 *  - pending / processing -> expired, failed or cancelled (lib/checkout/holds.ts releaseOrderHolds, used
 *    by expiry, fail-checkout, fail-payment and cancel-order) gives -n of the order's active items back;
 *    the items stay active, but the order is no longer counted;
 *  - a late payment (expired / failed / cancelled -> completed) takes +n of its active items again
 *    (trySellAllWithoutHold), or, when they do not fit, the order stays unpaid and nothing moves;
 *  - a refund with releaseTickets (only staff refunds, only of paid orders) marks the active items
 *    `refunded` and gives -n; a refund without it changes only the order's status (refunded /
 *    partially_refunded are paid statuses: its tickets stay sold, and in `taken`). No code sets
 *    `released`.
 *  - an expired hold not yet reclaimed is still a pending order with active items: held, and in
 *    `taken`, until its expiry gives it back (then it leaves both).
 * Both figures come from one statement, one snapshot, so a checkout or release committing meanwhile is
 * seen in both or neither. Held is the same figure as ticketTypeCounts' (expired-but-unreleased holds
 * included), so the two functions agree; the hourly rollups are not the source of sold: they count
 * tickets per capture (a duplicate payment's too, a late payment without capacity too) and never
 * subtract tickets released by a refund.
 */
export async function ticketTypeCountsFromHolds(q: Queryable, eventId: string): Promise<TicketTypeCounts[]> {
  // Literal statuses (the index predicate, HELD_ORDER_STATUSES): the planner proves the partial index
  // applies only from constants.
  const held = HELD_ORDER_STATUSES.map((s) => `'${s}'`).join(', ');
  return await q.queryMany<TicketTypeCounts>(
    `SELECT t.id, t.code, t.name, t.capacity, t.taken,
            (t.taken - COALESCE(h.held, 0))::int AS sold, COALESCE(h.held, 0)::int AS held
     FROM ticket_types t
     LEFT JOIN (
       SELECT i.ticket_type_id, count(*) AS held
       FROM orders o JOIN order_items i ON i.order_id = o.id AND i.status = 'active'
       WHERE o.status IN (${held}) AND o.event_id = $1
       GROUP BY i.ticket_type_id
     ) h ON h.ticket_type_id = t.id
     WHERE t.event_id = $1
     ORDER BY t.sort_order, t.code`,
    [eventId],
  );
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
  taken: number;
  /** Tickets still counted in `taken` by pending orders whose hold has already expired (reclaimable). */
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
    `SELECT t.id, t.capacity, t.taken, COALESCE(x.n, 0)::int AS "expiredHeld"
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
