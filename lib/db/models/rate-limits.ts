import type { Queryable } from '../client.js';

/**
 * rate_limit_counters: fixed-window counters, one row per (bucket, window start). Counting is one
 * atomic upsert, so concurrent requests on any number of instances each get a distinct count.
 */

export interface WindowCount {
  count: number;
  windowStart: Date;
  expiresAt: Date;
}

/** Adds one hit to the window containing `now` and returns the new count. */
export async function incrementWindow(q: Queryable, bucket: string, windowSeconds: number, now: Date): Promise<WindowCount> {
  const windowMs = windowSeconds * 1000;
  const windowStart = new Date(Math.floor(now.getTime() / windowMs) * windowMs);
  const expiresAt = new Date(windowStart.getTime() + windowMs);
  const row = await q.queryOne<{ count: number }>(
    `INSERT INTO rate_limit_counters AS c (bucket, window_start, count, expires_at)
     VALUES ($1, $2, 1, $3)
     ON CONFLICT (bucket, window_start) DO UPDATE SET count = c.count + 1
     RETURNING c.count`,
    [bucket, windowStart, expiresAt],
  );
  if (!row) throw new Error('incrementWindow returned no row');
  return { count: row.count, windowStart, expiresAt };
}

export interface SlidingCount {
  /** Hits in the window containing `now`, this one included. */
  current: number;
  /** Hits in the window before it. */
  previous: number;
  windowStart: Date;
}

/**
 * Sliding-window counter (lib/http/rate-limit.ts weighs the previous window by how much of it still
 * overlaps the last `windowSeconds`): adds one hit to the current window and reads the previous one,
 * in one statement. Rows are kept two windows so the next window can still read this one.
 */
export async function incrementSlidingWindow(
  q: Queryable,
  bucket: string,
  windowSeconds: number,
  now: Date,
): Promise<SlidingCount> {
  const windowMs = windowSeconds * 1000;
  const windowStart = new Date(Math.floor(now.getTime() / windowMs) * windowMs);
  const previousStart = new Date(windowStart.getTime() - windowMs);
  const expiresAt = new Date(windowStart.getTime() + 2 * windowMs);
  const row = await q.queryOne<{ current: number; previous: number }>(
    `WITH hit AS (
       INSERT INTO rate_limit_counters AS c (bucket, window_start, count, expires_at)
       VALUES ($1, $2, 1, $3)
       ON CONFLICT (bucket, window_start) DO UPDATE SET count = c.count + 1, expires_at = EXCLUDED.expires_at
       RETURNING c.count)
     SELECT (SELECT count FROM hit) AS current,
       coalesce((SELECT count FROM rate_limit_counters WHERE bucket = $1 AND window_start = $4), 0) AS previous`,
    [bucket, windowStart, expiresAt, previousStart],
  );
  if (!row) throw new Error('incrementSlidingWindow returned no row');
  return { current: row.current, previous: row.previous, windowStart };
}

/** The same counts without adding a hit. */
export async function readSlidingWindow(q: Queryable, bucket: string, windowSeconds: number, now: Date): Promise<SlidingCount> {
  const windowMs = windowSeconds * 1000;
  const windowStart = new Date(Math.floor(now.getTime() / windowMs) * windowMs);
  const row = await q.queryOne<{ current: number; previous: number }>(
    `SELECT coalesce(sum(count) FILTER (WHERE window_start = $2), 0)::int AS current,
       coalesce(sum(count) FILTER (WHERE window_start = $3), 0)::int AS previous
     FROM rate_limit_counters WHERE bucket = $1 AND window_start IN ($2, $3)`,
    [bucket, windowStart, new Date(windowStart.getTime() - windowMs)],
  );
  return { current: row?.current ?? 0, previous: row?.previous ?? 0, windowStart };
}

/** Deletes up to `batch` counters whose window ended before `before`; returns how many went. */
export async function deleteExpiredWindows(q: Queryable, before: Date, batch = 1000): Promise<number> {
  const result = await q.query(
    `DELETE FROM rate_limit_counters WHERE (bucket, window_start) IN (
       SELECT bucket, window_start FROM rate_limit_counters WHERE expires_at < $1 LIMIT $2)`,
    [before, batch],
  );
  return result.rowCount ?? 0;
}
