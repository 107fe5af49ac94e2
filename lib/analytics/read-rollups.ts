import type { Queryable } from '../db/client.js';
import { countFactsSql, MONEY_COLUMNS, moneyFactsSql } from './rollup-sql.js';

/**
 * Reads the rollups of one event over [from, to) plus the live tail (source rows past the
 * watermark), in one statement: one snapshot, so a fold committing meanwhile is seen whole or not
 * at all. `groupSql` picks the grouping on top of what every row has (ticket_type_id, provider,
 * scale_bucket, hour).
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

export function moneyUnionSql(): string {
  return `
    WITH wm AS (SELECT tx_id FROM analytics_watermarks WHERE name = 'money'),
    tail AS (${moneyFactsSql(
      'l.event_id = $1 AND l.tx_id >= (SELECT tx_id FROM wm) AND l.occurred_at >= $2 AND l.occurred_at < $3',
    )}),
    u AS (
      SELECT hour, ticket_type_id, provider, scale_bucket, ${cols}
      FROM analytics_money_hourly WHERE event_id = $1 AND hour >= $2 AND hour < $3
      UNION ALL
      SELECT hour, ticket_type_id, provider, scale_bucket, ${cols} FROM tail)`;
}

/** Totals per (ticket type, provider, bucket) over the range. */
export async function readMoneyTotals(q: Queryable, eventId: string, from: Date, to: Date): Promise<MoneyRow[]> {
  return await q.queryMany<MoneyRow>(
    `${moneyUnionSql()}
     SELECT ticket_type_id AS "ticketTypeId", provider, scale_bucket AS "scaleBucket", ${sums}
     FROM u GROUP BY ticket_type_id, provider, scale_bucket`,
    [eventId, from, to],
  );
}

export interface CountRow {
  provider: 'stripe' | 'paypal';
  metric: 'outcome' | 'failure';
  label: string;
  n: number;
}

/** Orders by outcome (by the hour they were started) and failures by code, over the range. */
export async function readCounts(q: Queryable, eventId: string, from: Date, to: Date): Promise<CountRow[]> {
  return await q.queryMany<CountRow>(
    `WITH wm AS (SELECT tx_id FROM analytics_watermarks WHERE name = 'counts'),
     u AS (
       SELECT provider, metric, label, n FROM analytics_counts_hourly WHERE event_id = $1 AND hour >= $2 AND hour < $3
       UNION ALL
       SELECT provider, metric, label, n FROM (${countFactsSql(
         'd.event_id = $1 AND d.tx_id >= (SELECT tx_id FROM wm) AND d.hour >= $2 AND d.hour < $3',
       )}) t)
     SELECT provider, metric, label, sum(n)::float8 AS n FROM u GROUP BY provider, metric, label HAVING sum(n) <> 0`,
    [eventId, from, to],
  );
}
