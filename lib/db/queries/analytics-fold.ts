import type { Tx } from '../client.js';
import { countFactsSql, MONEY_COLUMNS, moneyFactsSql } from './analytics-sql.js';

/**
 * The fold's SQL (lib/analytics/fold-rollups.ts runs it): the source rows written since the last
 * fold go into the hourly and daily rollups, and the watermarks move, in the caller's transaction.
 */

export interface FoldCounts {
  /** Ledger rows and count deltas folded by this run. */
  moneyRows: number;
  countRows: number;
  watermark: string;
}

const moneyUpdate = MONEY_COLUMNS.map((c) => `${c} = analytics_money_hourly.${c} + EXCLUDED.${c}`).join(', ');
const moneyDailyUpdate = MONEY_COLUMNS.map((c) => `${c} = analytics_money_daily.${c} + EXCLUDED.${c}`).join(', ');

/** Folds the source rows below the oldest running transaction into the rollups and moves the watermarks. */
export async function foldRollupsInTx(tx: Tx): Promise<FoldCounts> {
  const marks = await tx.queryMany<{ name: string; txId: string }>(
    `SELECT name, tx_id::text AS "txId" FROM analytics_watermarks ORDER BY name FOR UPDATE`,
  );
  const from = Object.fromEntries(marks.map((m) => [m.name, m.txId]));
  const bound = await tx.queryOne<{ xmin: string }>(`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin`);
  const upTo = bound?.xmin ?? '0';

  const money = await tx.queryOne<{ n: number }>(
    `WITH f AS (${moneyFactsSql('l.tx_id >= $1::xid8 AND l.tx_id < $2::xid8')}),
     ins AS (
       INSERT INTO analytics_money_hourly (event_id, hour, ticket_type_id, provider, scale_bucket, currency, ${MONEY_COLUMNS.join(', ')})
       SELECT event_id, hour, ticket_type_id, provider, scale_bucket, currency, ${MONEY_COLUMNS.join(', ')} FROM f
       ON CONFLICT (event_id, hour, ticket_type_id, provider, scale_bucket, currency) DO UPDATE SET ${moneyUpdate}
       RETURNING 1),
     fd AS (
       SELECT f.event_id, (f.hour AT TIME ZONE e.timezone)::date AS day, e.timezone AS time_zone, f.ticket_type_id, f.provider,
         f.scale_bucket, f.currency, ${MONEY_COLUMNS.map((c) => `sum(f.${c}) AS ${c}`).join(', ')}
       FROM f JOIN events e ON e.id = f.event_id
       GROUP BY f.event_id, 2, e.timezone, f.ticket_type_id, f.provider, f.scale_bucket, f.currency),
     insd AS (
       INSERT INTO analytics_money_daily (event_id, day, time_zone, ticket_type_id, provider, scale_bucket, currency, ${MONEY_COLUMNS.join(', ')})
       SELECT * FROM fd
       ON CONFLICT (event_id, day, time_zone, ticket_type_id, provider, scale_bucket, currency) DO UPDATE SET ${moneyDailyUpdate}
       RETURNING 1)
     SELECT (SELECT count(*) FROM money_ledger l WHERE l.tx_id >= $1::xid8 AND l.tx_id < $2::xid8)::int AS n,
            (SELECT count(*) FROM ins) + (SELECT count(*) FROM insd) AS written`,
    [from.money ?? '0', upTo],
  );
  const counts = await tx.queryOne<{ n: number }>(
    `WITH f AS (${countFactsSql('d.tx_id >= $1::xid8 AND d.tx_id < $2::xid8')}),
     ins AS (
       INSERT INTO analytics_counts_hourly (event_id, hour, provider, metric, label, n)
       SELECT event_id, hour, provider, metric, label, n FROM f
       ON CONFLICT (event_id, hour, provider, metric, label) DO UPDATE SET n = analytics_counts_hourly.n + EXCLUDED.n
       RETURNING 1),
     fd AS (
       SELECT f.event_id, (f.hour AT TIME ZONE e.timezone)::date AS day, e.timezone AS time_zone, f.provider, f.metric, f.label,
         sum(f.n) AS n
       FROM f JOIN events e ON e.id = f.event_id
       GROUP BY f.event_id, 2, e.timezone, f.provider, f.metric, f.label),
     insd AS (
       INSERT INTO analytics_counts_daily (event_id, day, time_zone, provider, metric, label, n)
       SELECT * FROM fd
       ON CONFLICT (event_id, day, time_zone, provider, metric, label) DO UPDATE SET n = analytics_counts_daily.n + EXCLUDED.n
       RETURNING 1)
     SELECT (SELECT count(*) FROM analytics_count_deltas d WHERE d.tx_id >= $1::xid8 AND d.tx_id < $2::xid8)::int AS n,
            (SELECT count(*) FROM ins) + (SELECT count(*) FROM insd) AS written`,
    [from.counts ?? '0', upTo],
  );
  const moneyRows = money?.n ?? 0;
  const countRows = counts?.n ?? 0;
  await tx.query(
    `UPDATE analytics_watermarks SET tx_id = $1::xid8, folded_at = now(),
       rows_folded = rows_folded + CASE name WHEN 'money' THEN $2::bigint ELSE $3::bigint END`,
    [upTo, moneyRows, countRows],
  );
  return { moneyRows, countRows, watermark: upTo };
}

/** Empties every rollup and resets the watermarks (a rebuild folds everything again after it). */
export async function clearRollupsInTx(tx: Tx): Promise<void> {
  // A million orders take longer than a request's statement timeout; this is a maintenance command.
  await tx.query('SET LOCAL statement_timeout = 0');
  await tx.query('SELECT 1 FROM analytics_watermarks FOR UPDATE');
  await tx.query('DELETE FROM analytics_money_hourly');
  await tx.query('DELETE FROM analytics_counts_hourly');
  await tx.query('DELETE FROM analytics_money_daily');
  await tx.query('DELETE FROM analytics_counts_daily');
  await tx.query(`UPDATE analytics_watermarks SET tx_id = '0'::xid8, rows_folded = 0, folded_at = NULL`);
}
