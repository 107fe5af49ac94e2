import type { Queryable } from '../db/client.js';
import { countFactsSql, MONEY_COLUMNS, moneyFactsSql } from './rollup-sql.js';

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
