import type { Queryable } from '../client.js';

/**
 * request_outcomes (migration 0140): how many answers a route gave per minute and code (`ok`, or the
 * error code of the error body). Written only by the in-memory counter's flush (lib/ops/request-metrics.ts),
 * read by GET /api/admin/metrics and the alert cron.
 */

export interface RequestOutcomeCount {
  /** Start of the minute (UTC). */
  bucket: Date;
  route: string;
  code: string;
  count: number;
}

/**
 * Adds counts in ONE statement (one round trip, whatever the number of rows): the arrays are unnested and
 * each row's count is added to what is there. Rows must be unique per (bucket, route, code); the caller
 * sorts them, so concurrent flushes from several instances lock the rows they share in the same order
 * (no deadlock) and every count lands exactly once.
 */
export async function addRequestOutcomes(q: Queryable, rows: readonly RequestOutcomeCount[]): Promise<void> {
  if (rows.length === 0) return;
  await q.query(
    `INSERT INTO request_outcomes AS r (bucket, route, code, count)
     SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::int[])
     ON CONFLICT (bucket, route, code) DO UPDATE SET count = r.count + excluded.count`,
    [rows.map((r) => r.bucket), rows.map((r) => r.route), rows.map((r) => r.code), rows.map((r) => r.count)],
  );
}

export interface RouteCodeCount {
  route: string;
  code: string;
  lastHour: number;
  last24Hours: number;
}

/** Per route and code: answers in the minutes that started within the last hour, and within the last 24 hours. */
export async function requestOutcomeCounts(q: Queryable, routes: readonly string[]): Promise<RouteCodeCount[]> {
  return await q.queryMany<RouteCodeCount>(
    `SELECT route, code,
            coalesce(sum(count) FILTER (WHERE bucket > now() - interval '1 hour'), 0)::int AS "lastHour",
            sum(count)::int AS "last24Hours"
       FROM request_outcomes
      WHERE route = ANY($1) AND bucket > now() - interval '24 hours'
      GROUP BY route, code
      ORDER BY route, code`,
    [routes],
  );
}

/**
 * The newest answers of these routes, at least `requests` of them when the last `lookbackMinutes` hold that
 * many (whole minutes, newest first, until `requests` is reached), counted by code.
 */
export async function recentRequestOutcomes(
  q: Queryable,
  options: { routes: readonly string[]; requests: number; lookbackMinutes: number },
): Promise<{ code: string; count: number }[]> {
  return await q.queryMany<{ code: string; count: number }>(
    `WITH per_minute AS (
       SELECT bucket, sum(count) AS answers FROM request_outcomes
        WHERE route = ANY($1) AND bucket > now() - make_interval(mins => $3)
        GROUP BY bucket),
     newest AS (
       SELECT bucket FROM (SELECT bucket, sum(answers) OVER (ORDER BY bucket DESC) - answers AS newer FROM per_minute) m
        WHERE newer < $2)
     SELECT code, sum(count)::int AS count FROM request_outcomes
      WHERE route = ANY($1) AND bucket IN (SELECT bucket FROM newest)
      GROUP BY code ORDER BY code`,
    [options.routes, options.requests, options.lookbackMinutes],
  );
}

/** Drops minutes older than `before` (the alert cron keeps a week and a day). Returns how many rows went. */
export async function deleteRequestOutcomesBefore(q: Queryable, before: Date): Promise<number> {
  const result = await q.query(`DELETE FROM request_outcomes WHERE bucket < $1`, [before]);
  return result.rowCount ?? 0;
}
