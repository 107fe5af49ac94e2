import { db, type Queryable, transaction } from '../client.js';
import { countFactsSql, MONEY_COLUMNS, moneyFactsSql } from './analytics-sql.js';
import { type TicketTypeCounts, ticketTypeCountsFromHolds } from '../models/ticket-types.js';

/**
 * Reads the rollups of one event over [from, to) plus the live tail (source rows past the
 * watermark), in one statement: one snapshot, so a fold committing meanwhile is seen whole or not
 * at all. Callers run it in a REPEATABLE READ transaction after readWatermarks.
 *
 * Whole local days inside the range come from the daily rollups (kept in the event's time zone),
 * the hours at its edges from the hourly ones; a report in another zone than the one the daily
 * rows were made in (a `tz` override, or an event whose zone changed since) and hour-grain series
 * read hourly rows only. Parameters of the SQL: $1 event, $2 from, $3 to, $4 zone, $5 use daily,
 * $6 watermark.
 * Every row carries `at`: its hour, or the local midnight of its day.
 */

/** MONEY_COLUMNS in camelCase, summed. */
export interface MoneyRow {
  ticketTypeId: string;
  provider: 'stripe' | 'paypal';
  scaleBucket: number;
  orders: number;
  tickets: number;
  listCents: number;
  discountCents: number;
  capturedCents: number;
  refunds: number;
  refundedCents: number;
  disputesOpened: number;
  disputedCents: number;
  disputesWon: number;
  disputesLost: number;
  disputeLostCents: number;
  feeCents: number;
}

const sums = MONEY_COLUMNS.map((c) => `sum(${c})::float8 AS ${camel(c)}`).join(', ');
const cols = MONEY_COLUMNS.join(', ');

function camel(column: string): string {
  return `"${column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())}"`;
}

/** First and last local midnight inside [from, to), and whether the daily rows may be used. */
function splitSql(dailyTable: string): string {
  return `
    edges AS (
      SELECT CASE WHEN ((($2::timestamptz AT TIME ZONE $4)::date)::timestamp AT TIME ZONE $4) = $2::timestamptz
                  THEN ($2::timestamptz AT TIME ZONE $4)::date ELSE ($2::timestamptz AT TIME ZONE $4)::date + 1 END AS d1,
             ($3::timestamptz AT TIME ZONE $4)::date AS d2),
    split AS (
      SELECT d1, d2, (d1::timestamp AT TIME ZONE $4) AS t1, (d2::timestamp AT TIME ZONE $4) AS t2,
        ($5::boolean AND d1 < d2
          AND NOT EXISTS (SELECT 1 FROM ${dailyTable} x WHERE x.event_id = $1 AND x.time_zone <> $4)) AS daily
      FROM edges)`;
}

/** The union `u` of hourly edges, daily middle and live tail (money). */
export function moneyUnionSql(): string {
  return `
    WITH ${splitSql('analytics_money_daily')},
    tail AS (${moneyFactsSql('l.event_id = $1 AND l.tx_id >= $6::xid8 AND l.occurred_at >= $2 AND l.occurred_at < $3')}),
    u AS (
      SELECT h.hour AS at, h.ticket_type_id, h.provider, h.scale_bucket, ${prefixed('h')}
      FROM split s JOIN analytics_money_hourly h ON h.event_id = $1 AND h.hour >= $2
        AND h.hour < CASE WHEN s.daily THEN s.t1 ELSE $3::timestamptz END
      UNION ALL
      SELECT h.hour, h.ticket_type_id, h.provider, h.scale_bucket, ${prefixed('h')}
      FROM split s JOIN analytics_money_hourly h ON s.daily AND h.event_id = $1 AND h.hour >= s.t2 AND h.hour < $3
      UNION ALL
      SELECT (d.day::timestamp AT TIME ZONE $4), d.ticket_type_id, d.provider, d.scale_bucket, ${prefixed('d')}
      FROM split s JOIN analytics_money_daily d ON s.daily AND d.event_id = $1 AND d.day >= s.d1 AND d.day < s.d2 AND d.time_zone = $4
      UNION ALL
      SELECT hour, ticket_type_id, provider, scale_bucket, ${cols} FROM tail)`;
}

function prefixed(alias: string): string {
  return MONEY_COLUMNS.map((c) => `${alias}.${c}`).join(', ');
}

export interface RollupWindow {
  eventId: string;
  /** The watermarks read in the same snapshot (readWatermarks): the tail starts there. */
  watermarks: Watermarks;
  from: Date;
  to: Date;
  timeZone: string;
  /** Whether whole days may come from the daily rollups (not for hour-grain series). */
  useDaily: boolean;
}

export const windowParams = (w: RollupWindow, source: keyof Watermarks): unknown[] => [
  w.eventId,
  w.from,
  w.to,
  w.timeZone,
  w.useDaily,
  w.watermarks[source],
];

export interface Watermarks {
  money: string;
  counts: string;
}

/**
 * The watermarks, read first in the report's REPEATABLE READ transaction (so the rollups read next
 * are exactly those below them) and passed as values: the planner then sees how few rows the
 * tail has (index statistics) instead of guessing a third of the ledger.
 */
export async function readWatermarks(q: Queryable): Promise<Watermarks> {
  const rows = await q.queryMany<{ name: keyof Watermarks; txId: string }>(
    `SELECT name, tx_id::text AS "txId" FROM analytics_watermarks`,
  );
  const of = (name: keyof Watermarks) => rows.find((r) => r.name === name)?.txId ?? '0';
  return { money: of('money'), counts: of('counts') };
}

/** Totals per (ticket type, provider, bucket) over the range. */
export async function readMoneyTotals(q: Queryable, w: RollupWindow): Promise<MoneyRow[]> {
  return await q.queryMany<MoneyRow>(
    `${moneyUnionSql()}
     SELECT ticket_type_id AS "ticketTypeId", provider, scale_bucket AS "scaleBucket", ${sums}
     FROM u GROUP BY ticket_type_id, provider, scale_bucket`,
    windowParams(w, 'money'),
  );
}

export interface CountRow {
  provider: 'stripe' | 'paypal';
  metric: 'outcome' | 'failure';
  label: string;
  n: number;
}

/** Orders by outcome (by the hour they were started) and failures by code, over the range. */
export async function readCounts(q: Queryable, w: RollupWindow): Promise<CountRow[]> {
  return await q.queryMany<CountRow>(
    `WITH ${splitSql('analytics_counts_daily')},
     u AS (
       SELECT h.provider, h.metric, h.label, h.n
       FROM split s JOIN analytics_counts_hourly h ON h.event_id = $1 AND h.hour >= $2
         AND h.hour < CASE WHEN s.daily THEN s.t1 ELSE $3::timestamptz END
       UNION ALL
       SELECT h.provider, h.metric, h.label, h.n
       FROM split s JOIN analytics_counts_hourly h ON s.daily AND h.event_id = $1 AND h.hour >= s.t2 AND h.hour < $3
       UNION ALL
       SELECT d.provider, d.metric, d.label, d.n
       FROM split s JOIN analytics_counts_daily d ON s.daily AND d.event_id = $1 AND d.day >= s.d1 AND d.day < s.d2 AND d.time_zone = $4
       UNION ALL
       SELECT provider, metric, label, n FROM (${countFactsSql(
         'd.event_id = $1 AND d.tx_id >= $6::xid8 AND d.hour >= $2 AND d.hour < $3',
       )}) t)
     SELECT provider, metric, label, sum(n)::float8 AS n FROM u GROUP BY provider, metric, label HAVING sum(n) <> 0`,
    windowParams(w, 'counts'),
  );
}

/** Report grains: hour, or day / week (Monday) / month in the report's zone. */
export type Grain = 'hour' | 'day' | 'week' | 'month';

/** Bucket start (timestamptz) of a timestamptz expression, in zone $4. */
export function bucketSql(grain: Grain, at: string): string {
  if (grain === 'hour') return `analytics_hour(${at})`;
  return `(date_trunc('${grain}', ${at} AT TIME ZONE $4) AT TIME ZONE $4)`;
}

const STEP: Record<Exclude<Grain, 'hour'>, string> = { day: '1 day', week: '1 week', month: '1 month' };

export interface RevenueBucketRow {
  start: Date;
  local: string;
  offsetMinutes: number;
  hours: number;
  gross: number;
  refunds: number;
  fees: number;
  lost: number;
  discount: number;
  orders: number;
  tickets: number;
}

/**
 * One row per bucket of `grain` over the window (every bucket present, empty ones zero): the
 * rollups plus the tail, in one REPEATABLE READ snapshot when `q` is the pool (watermark first).
 */
export async function readRevenueBuckets(
  q: Queryable,
  w: Omit<RollupWindow, 'watermarks' | 'useDaily'>,
  grain: Grain,
  provider: 'stripe' | 'paypal' | undefined,
): Promise<RevenueBucketRow[]> {
  // Bucket starts: hours as instants (a local hour repeats or vanishes on DST days); days, weeks
  // and months as local calendar steps turned into instants by the zone's rules.
  const series =
    grain === 'hour'
      ? `SELECT s AS start, s + interval '1 hour' AS stop FROM generate_series($2::timestamptz, $3::timestamptz - interval '1 hour', interval '1 hour') s`
      : `SELECT (s AT TIME ZONE $4) AS start, ((s + interval '${STEP[grain]}') AT TIME ZONE $4) AS stop
         FROM generate_series(date_trunc('${grain}', $2::timestamptz AT TIME ZONE $4),
                              ($3::timestamptz - interval '1 microsecond') AT TIME ZONE $4, interval '${STEP[grain]}') s`;
  const providerFilter = provider ? `WHERE provider = $7` : '';
  const read = async (tx: Queryable) =>
    await tx.queryMany<RevenueBucketRow>(
      `${moneyUnionSql()},
     data AS (
       SELECT ${bucketSql(grain, 'at')} AS start,
         sum(captured_cents)::float8 AS gross, sum(refunded_cents)::float8 AS refunds, sum(fee_cents)::float8 AS fees,
         sum(dispute_lost_cents)::float8 AS lost, sum(discount_cents)::float8 AS discount,
         sum(orders)::float8 AS orders, sum(tickets)::float8 AS tickets
       FROM u ${providerFilter} GROUP BY 1),
     buckets AS (${series})
     SELECT b.start, to_char(b.start AT TIME ZONE $4, 'YYYY-MM-DD"T"HH24:MI') AS local,
       (extract(epoch FROM (b.start AT TIME ZONE $4) - (b.start AT TIME ZONE 'UTC')) / 60)::int AS "offsetMinutes",
       (extract(epoch FROM b.stop - b.start) / 3600)::float8 AS hours,
       coalesce(d.gross, 0) AS gross, coalesce(d.refunds, 0) AS refunds, coalesce(d.fees, 0) AS fees,
       coalesce(d.lost, 0) AS lost, coalesce(d.discount, 0) AS discount, coalesce(d.orders, 0) AS orders,
       coalesce(d.tickets, 0) AS tickets
     FROM buckets b LEFT JOIN data d ON d.start = b.start
     ORDER BY b.start`,
      [
        ...windowParams(
          {
            ...w,
            watermarks: await readWatermarks(tx),
            useDaily: grain !== 'hour',
          },
          'money',
        ),
        ...(provider ? [provider] : []),
      ],
    );
  // One snapshot: the watermark, then the rollups below it and the tail above it.
  return q === db ? await transaction(read, { isolation: 'repeatable read' }) : await read(q);
}

/** A ticket type's counts as the summary shows them (sold = taken − held: exact, see ticketTypeCountsFromHolds). */
export interface TicketCapacity extends Omit<TicketTypeCounts, 'id'> {
  ticketTypeId: string;
}

/**
 * Every ticket type of an event with its capacity, its counter and the sold / held it is made of:
 * the counter and the live holds only, never every order item (ticketTypeCountsFromHolds).
 */
export async function listTicketCapacity(q: Queryable, eventId: string): Promise<TicketCapacity[]> {
  const rows = await ticketTypeCountsFromHolds(q, eventId);
  return rows.map(({ id, ...t }) => ({ ticketTypeId: id, ...t }));
}

/** Local midnight of a calendar day (+ `plusDays`) in a zone, as an instant (PostgreSQL's zone rules). */
export async function localMidnight(q: Queryable, day: string, zone: string, plusDays = 0): Promise<Date> {
  const row = await q.queryOne<{ at: Date }>(`SELECT ((($1::date + $3::int)::timestamp) AT TIME ZONE $2) AS at`, [
    day,
    zone,
    plusDays,
  ]);
  if (!row) throw new Error('localMidnight returned no row');
  return row.at;
}

/** Today's date in a zone (YYYY-MM-DD). */
export async function localToday(q: Queryable, zone: string): Promise<string> {
  const row = await q.queryOne<{ d: string }>(`SELECT (now() AT TIME ZONE $1)::date::text AS d`, [zone]);
  if (!row) throw new Error('localToday returned no row');
  return row.d;
}
