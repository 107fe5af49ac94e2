import { db } from '../../lib/db/client.js';

/**
 * An INDEPENDENT aggregation of the books over the raw tables (payments, refunds, disputes, orders,
 * order_items, payment_failures): no ledger, no rollups, none of lib/analytics' SQL. Report tests
 * compare every figure with these.
 *
 * Timing rules (the same facts the flows record): a capture counts when its payment completed, with
 * its fee and its items; a refund when it completed, and a refund reversed later (status failed after
 * completing) comes back when it was last updated; a dispute is opened at opened_at and won or lost
 * at closed_at; an order counts as started when it was created. A fee the provider gave back with a
 * refund (refunds.fee_returned_cents) lowers the fees when the refund completed, and counts again
 * when a reversed refund was last updated: fees are net of returned fees.
 */

export interface RawFigures {
  gross: number;
  refunds: number;
  refundCount: number;
  fees: number;
  disputesOpened: number;
  disputedCents: number;
  disputesWon: number;
  disputesLost: number;
  lostCents: number;
  net: number;
  discount: number;
  orders: number;
  tickets: number;
  buckets: { orders: number; tickets: number; revenue: number; discount: number }[];
  byType: Record<string, { tickets: number; revenue: number }>;
  outcomes: Record<string, number>;
  failures: Record<string, number>;
}

const CAPTURED = `(p.status IN ('completed', 'partially_refunded', 'refunded') OR (p.status = 'cancelled' AND p.failure_code = 'duplicate_payment'))`;

export async function rawFigures(eventId: string, from: Date, to: Date, provider?: string): Promise<RawFigures> {
  const args = [eventId, from, to, provider ?? null];
  const prov = (alias: string) => `($4::text IS NULL OR ${alias}.provider = $4)`;
  const captures = await db.queryMany<{ percent: number; amount: number; fee: number; tickets: number; discount: number }>(
    `SELECT o.sliding_scale_percent AS percent, p.amount_cents AS amount, coalesce(p.fee_cents, 0) AS fee,
       (SELECT count(*) FROM order_items i WHERE i.order_id = o.id)::int AS tickets,
       (SELECT coalesce(sum(i.discount_cents), 0) FROM order_items i WHERE i.order_id = o.id)::int AS discount
     FROM payments p JOIN orders o ON o.id = p.order_id
     WHERE o.event_id = $1 AND ${CAPTURED} AND p.completed_at >= $2 AND p.completed_at < $3 AND ${prov('p')}`,
    args,
  );
  const types = await db.queryMany<{ ticketTypeId: string; tickets: number; revenue: number }>(
    `SELECT i.ticket_type_id AS "ticketTypeId", count(*)::int AS tickets, sum(i.price_cents)::int AS revenue
     FROM payments p JOIN orders o ON o.id = p.order_id JOIN order_items i ON i.order_id = o.id
     WHERE o.event_id = $1 AND ${CAPTURED} AND p.completed_at >= $2 AND p.completed_at < $3 AND ${prov('p')}
     GROUP BY i.ticket_type_id`,
    args,
  );
  const refunds = await db.queryOne<{
    done: number;
    doneCount: number;
    back: number;
    backCount: number;
    feeReturned: number;
    feeTakenBack: number;
  }>(
    `SELECT
       coalesce(sum(r.fee_returned_cents) FILTER (WHERE r.completed_at >= $2 AND r.completed_at < $3), 0)::int AS "feeReturned",
       coalesce(sum(r.fee_returned_cents) FILTER (WHERE r.status = 'failed' AND r.updated_at >= $2 AND r.updated_at < $3), 0)::int
         AS "feeTakenBack",
       coalesce(sum(r.amount_cents) FILTER (WHERE r.completed_at >= $2 AND r.completed_at < $3), 0)::int AS done,
       count(*) FILTER (WHERE r.completed_at >= $2 AND r.completed_at < $3)::int AS "doneCount",
       coalesce(sum(r.amount_cents) FILTER (WHERE r.status = 'failed' AND r.updated_at >= $2 AND r.updated_at < $3), 0)::int AS back,
       count(*) FILTER (WHERE r.status = 'failed' AND r.updated_at >= $2 AND r.updated_at < $3)::int AS "backCount"
     FROM refunds r JOIN orders o ON o.id = r.order_id
     WHERE o.event_id = $1 AND r.completed_at IS NOT NULL AND r.status IN ('succeeded', 'failed') AND ${prov('r')}`,
    args,
  );
  const disputes = await db.queryOne<{ opened: number; disputed: number; won: number; lost: number; lostCents: number }>(
    `SELECT count(*) FILTER (WHERE d.opened_at >= $2 AND d.opened_at < $3)::int AS opened,
       coalesce(sum(d.amount_cents) FILTER (WHERE d.opened_at >= $2 AND d.opened_at < $3), 0)::int AS disputed,
       count(*) FILTER (WHERE d.status = 'won' AND d.closed_at >= $2 AND d.closed_at < $3)::int AS won,
       count(*) FILTER (WHERE d.status = 'lost' AND d.closed_at >= $2 AND d.closed_at < $3)::int AS lost,
       coalesce(sum(d.amount_cents) FILTER (WHERE d.status = 'lost' AND d.closed_at >= $2 AND d.closed_at < $3), 0)::int AS "lostCents"
     FROM disputes d JOIN orders o ON o.id = d.order_id WHERE o.event_id = $1 AND ${prov('d')}`,
    args,
  );
  const orders = await db.queryMany<{ status: string; n: number }>(
    `SELECT o.status, count(*)::int AS n FROM orders o
     WHERE o.event_id = $1 AND o.created_at >= $2 AND o.created_at < $3 AND ${prov('o')} GROUP BY o.status`,
    args,
  );
  const failures = await db.queryMany<{ code: string; n: number }>(
    `SELECT coalesce(f.decline_code, f.code) AS code, count(*)::int AS n
     FROM payment_failures f JOIN orders o ON o.id = f.order_id
     WHERE o.event_id = $1 AND f.created_at >= $2 AND f.created_at < $3 AND ${prov('f')} GROUP BY 1`,
    args,
  );

  const bucketOf = (percent: number) => (percent === 0 ? 0 : percent <= 25 ? 1 : percent <= 50 ? 2 : 3);
  const buckets = [0, 1, 2, 3].map((b) => {
    const rows = captures.filter((c) => bucketOf(c.percent) === b);
    return {
      orders: rows.length,
      tickets: rows.reduce((a, c) => a + c.tickets, 0),
      revenue: rows.reduce((a, c) => a + c.amount, 0),
      discount: rows.reduce((a, c) => a + c.discount, 0),
    };
  });
  const outcomes: Record<string, number> = { started: 0, paid: 0, open: 0, expired: 0, cancelled: 0, failed: 0 };
  for (const o of orders) {
    const label = ['completed', 'partially_refunded', 'refunded'].includes(o.status)
      ? 'paid'
      : ['pending', 'processing'].includes(o.status)
        ? 'open'
        : o.status;
    outcomes[label] = (outcomes[label] ?? 0) + o.n;
    outcomes.started = (outcomes.started ?? 0) + o.n;
  }
  const gross = captures.reduce((a, c) => a + c.amount, 0);
  const fees = captures.reduce((a, c) => a + c.fee, 0) - (refunds?.feeReturned ?? 0) + (refunds?.feeTakenBack ?? 0);
  const refunded = (refunds?.done ?? 0) - (refunds?.back ?? 0);
  const lostCents = disputes?.lostCents ?? 0;
  return {
    gross,
    refunds: refunded,
    refundCount: (refunds?.doneCount ?? 0) - (refunds?.backCount ?? 0),
    fees,
    disputesOpened: disputes?.opened ?? 0,
    disputedCents: disputes?.disputed ?? 0,
    disputesWon: disputes?.won ?? 0,
    disputesLost: disputes?.lost ?? 0,
    lostCents,
    net: gross - refunded - fees - lostCents,
    discount: captures.reduce((a, c) => a + c.discount, 0),
    orders: captures.length,
    tickets: captures.reduce((a, c) => a + c.tickets, 0),
    buckets,
    byType: Object.fromEntries(types.map((t) => [t.ticketTypeId, { tickets: t.tickets, revenue: t.revenue }])),
    outcomes,
    failures: Object.fromEntries(failures.map((f) => [f.code, f.n])),
  };
}

/** Raw gross / refunds / fees / lost / net per local bucket (`day`, `week`, `month`: in `zone`; `hour`: UTC hours). */
export async function rawSeries(
  eventId: string,
  from: Date,
  to: Date,
  grain: 'hour' | 'day' | 'week' | 'month',
  zone: string,
): Promise<Map<string, { gross: number; refunds: number; fees: number; lost: number; orders: number; tickets: number }>> {
  const bucket = (col: string) =>
    grain === 'hour'
      ? `date_trunc('hour', ${col} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`
      : `date_trunc('${grain}', ${col} AT TIME ZONE $4) AT TIME ZONE $4`;
  const rows = await db.queryMany<{
    start: Date;
    gross: number;
    refunds: number;
    fees: number;
    lost: number;
    orders: number;
    tickets: number;
  }>(
    `WITH facts AS (
       SELECT ${bucket('p.completed_at')} AS start, p.amount_cents AS gross, 0 AS refunds, coalesce(p.fee_cents, 0) AS fees, 0 AS lost,
              1 AS orders, (SELECT count(*) FROM order_items i WHERE i.order_id = o.id)::int AS tickets
       FROM payments p JOIN orders o ON o.id = p.order_id
       WHERE o.event_id = $1 AND ${CAPTURED} AND p.completed_at >= $2 AND p.completed_at < $3 AND $4::text IS NOT NULL
       UNION ALL
       SELECT ${bucket('r.completed_at')}, 0, r.amount_cents, -coalesce(r.fee_returned_cents, 0), 0, 0, 0
       FROM refunds r JOIN orders o ON o.id = r.order_id
       WHERE o.event_id = $1 AND r.completed_at IS NOT NULL AND r.status IN ('succeeded', 'failed') AND r.completed_at >= $2 AND r.completed_at < $3
       UNION ALL
       SELECT ${bucket('r.updated_at')}, 0, -r.amount_cents, coalesce(r.fee_returned_cents, 0), 0, 0, 0
       FROM refunds r JOIN orders o ON o.id = r.order_id
       WHERE o.event_id = $1 AND r.completed_at IS NOT NULL AND r.status = 'failed' AND r.updated_at >= $2 AND r.updated_at < $3
       UNION ALL
       SELECT ${bucket('d.closed_at')}, 0, 0, 0, d.amount_cents, 0, 0 FROM disputes d JOIN orders o ON o.id = d.order_id
       WHERE o.event_id = $1 AND d.status = 'lost' AND d.closed_at >= $2 AND d.closed_at < $3)
     SELECT start, sum(gross)::int AS gross, sum(refunds)::int AS refunds, sum(fees)::int AS fees, sum(lost)::int AS lost,
            sum(orders)::int AS orders, sum(tickets)::int AS tickets
     FROM facts GROUP BY start`,
    [eventId, from, to, zone],
  );
  return new Map(rows.map((r) => [r.start.toISOString(), r]));
}

export interface RawCapacity {
  ticketTypeId: string;
  code: string;
  capacity: number;
  /** Active tickets of paid orders (completed, partially_refunded, refunded). */
  sold: number;
  /** Active tickets of pending / processing orders, expired-but-not-reclaimed holds included. */
  held: number;
  /** Of `held`: pending orders whose hold time has passed (not yet reclaimed). */
  expiredHeld: number;
}

/**
 * Sold and held per ticket type of an event, counted over every order item (the scan the report must
 * not make): nothing of `ticket_types.taken`, so the report's `available` (capacity − taken) is checked
 * against capacity − sold − held.
 */
export async function rawCapacity(eventId: string): Promise<RawCapacity[]> {
  return await db.queryMany<RawCapacity>(
    `SELECT t.id AS "ticketTypeId", t.code, t.capacity,
       count(i.id) FILTER (WHERE o.status IN ('completed', 'partially_refunded', 'refunded'))::int AS sold,
       count(i.id) FILTER (WHERE o.status IN ('pending', 'processing'))::int AS held,
       count(i.id) FILTER (WHERE o.status = 'pending' AND o.hold_expires_at <= now())::int AS "expiredHeld"
     FROM ticket_types t
     LEFT JOIN order_items i ON i.ticket_type_id = t.id AND i.status = 'active'
     LEFT JOIN orders o ON o.id = i.order_id
     WHERE t.event_id = $1
     GROUP BY t.id
     ORDER BY t.sort_order, t.code`,
    [eventId],
  );
}
