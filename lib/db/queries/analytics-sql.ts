/**
 * The SQL that turns source rows into rollup rows. The same expressions serve the cron's fold (rows
 * below the new watermark) and each report's live tail (rows at or past the watermark), so a row is
 * counted the same way wherever it is read. The tests check the result against an independent
 * aggregation over the raw tables (payments, refunds, disputes, orders, order_items).
 */

/** Sliding-scale bucket of an order: 0 full price, 1 = 1-25 % off, 2 = 26-50 %, 3 = 51-75 %. */
export const SCALE_BUCKET_SQL = (percent: string) =>
  `(CASE WHEN ${percent} = 0 THEN 0 WHEN ${percent} <= 25 THEN 1 WHEN ${percent} <= 50 THEN 2 ELSE 3 END)::smallint`;

export const SCALE_BUCKETS = [
  { bucket: 0, label: 'full_price', minPercent: 0, maxPercent: 0 },
  { bucket: 1, label: '1-25', minPercent: 1, maxPercent: 25 },
  { bucket: 2, label: '26-50', minPercent: 26, maxPercent: 50 },
  { bucket: 3, label: '51-75', minPercent: 51, maxPercent: 75 },
] as const;

/** Ticket type of an order without items (never made by checkout; kept so no money is dropped). */
export const NO_TICKET_TYPE = '00000000-0000-0000-0000-000000000000';

export const MONEY_COLUMNS = [
  'orders',
  'tickets',
  'list_cents',
  'discount_cents',
  'captured_cents',
  'refunds',
  'refunded_cents',
  'disputes_opened',
  'disputed_cents',
  'disputes_won',
  'disputes_lost',
  'dispute_lost_cents',
  'fee_cents',
] as const;
export type MoneyColumn = (typeof MONEY_COLUMNS)[number];

/**
 * Money facts per (event, hour, ticket type, provider, bucket, currency) from the ledger rows that
 * `ledgerWhere` selects (alias `l`). An order's amounts are shared among its ticket types in
 * proportion to what their tickets cost (the remainder to the largest share, so the parts add up to
 * the cent); counts (orders, disputes, refunds) go to that largest share's type only.
 * Parameters: whatever `ledgerWhere` uses.
 */
export function moneyFactsSql(ledgerWhere: string): string {
  return `
  WITH l AS (
    SELECT l.id, l.kind, l.order_id, l.event_id, l.provider, l.currency, l.amount_cents,
           coalesce((l.details->>'disputedCents')::bigint, 0) AS disputed,
           analytics_hour(l.occurred_at) AS hour,
           ${SCALE_BUCKET_SQL('o.sliding_scale_percent')} AS scale_bucket
    FROM money_ledger l JOIN orders o ON o.id = l.order_id
    WHERE ${ledgerWhere}
  ), w AS (
    SELECT i.order_id, i.ticket_type_id, count(*)::bigint AS tickets, sum(i.unit_price_cents)::bigint AS list,
           sum(i.discount_cents)::bigint AS disc, sum(i.price_cents)::bigint AS paid
    FROM order_items i WHERE i.order_id IN (SELECT DISTINCT order_id FROM l)
    GROUP BY i.order_id, i.ticket_type_id
  ), x AS (
    SELECT l.*, coalesce(w.ticket_type_id, '${NO_TICKET_TYPE}'::uuid) AS ticket_type_id,
           coalesce(w.tickets, 0) AS tickets, coalesce(w.list, 0) AS list, coalesce(w.disc, 0) AS disc,
           coalesce(w.paid, 0) AS paid,
           sum(coalesce(w.paid, 0)) OVER (PARTITION BY l.id) AS total_paid,
           sum(coalesce(w.tickets, 0)) OVER (PARTITION BY l.id) AS total_tickets,
           count(*) OVER (PARTITION BY l.id) AS parts,
           row_number() OVER (PARTITION BY l.id ORDER BY coalesce(w.paid, 0) DESC, w.ticket_type_id) AS rn
    FROM l LEFT JOIN w ON w.order_id = l.order_id
  ), y AS (
    SELECT x.*,
      CASE WHEN total_paid > 0 THEN trunc(amount_cents::numeric * paid / total_paid)
           WHEN total_tickets > 0 THEN trunc(amount_cents::numeric * tickets / total_tickets)
           ELSE trunc(amount_cents::numeric / parts) END AS share0
    FROM x
  ), z AS (
    SELECT y.*, (CASE WHEN rn = 1 THEN amount_cents - (sum(share0) OVER (PARTITION BY id) - share0) ELSE share0 END)::bigint AS share
    FROM y
  )
  SELECT event_id, hour, ticket_type_id, provider, scale_bucket, currency,
    count(*) FILTER (WHERE kind = 'capture' AND rn = 1)::int AS orders,
    coalesce(sum(tickets) FILTER (WHERE kind = 'capture'), 0)::int AS tickets,
    coalesce(sum(list) FILTER (WHERE kind = 'capture'), 0)::bigint AS list_cents,
    coalesce(sum(disc) FILTER (WHERE kind = 'capture'), 0)::bigint AS discount_cents,
    coalesce(sum(share) FILTER (WHERE kind = 'capture'), 0)::bigint AS captured_cents,
    (count(*) FILTER (WHERE kind = 'refund' AND rn = 1) - count(*) FILTER (WHERE kind = 'refund_reversal' AND rn = 1))::int AS refunds,
    coalesce(-sum(share) FILTER (WHERE kind IN ('refund', 'refund_reversal')), 0)::bigint AS refunded_cents,
    count(*) FILTER (WHERE kind = 'dispute_opened' AND rn = 1)::int AS disputes_opened,
    coalesce(sum(disputed) FILTER (WHERE kind = 'dispute_opened' AND rn = 1), 0)::bigint AS disputed_cents,
    count(*) FILTER (WHERE kind = 'dispute_won' AND rn = 1)::int AS disputes_won,
    count(*) FILTER (WHERE kind = 'dispute_lost' AND rn = 1)::int AS disputes_lost,
    coalesce(-sum(share) FILTER (WHERE kind = 'dispute_lost'), 0)::bigint AS dispute_lost_cents,
    coalesce(-sum(share) FILTER (WHERE kind = 'fee'), 0)::bigint AS fee_cents
  FROM z
  GROUP BY event_id, hour, ticket_type_id, provider, scale_bucket, currency`;
}

/** Count facts (orders by outcome, failures by code) from the deltas that `deltaWhere` selects (alias `d`). */
export function countFactsSql(deltaWhere: string): string {
  return `
  SELECT d.event_id, d.hour, d.provider, d.metric, d.label, sum(d.delta)::bigint AS n
  FROM analytics_count_deltas d
  WHERE ${deltaWhere}
  GROUP BY d.event_id, d.hour, d.provider, d.metric, d.label`;
}
