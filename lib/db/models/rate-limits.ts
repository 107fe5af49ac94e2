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

/** Deletes up to `batch` counters whose window ended before `before`; returns how many went. */
export async function deleteExpiredWindows(q: Queryable, before: Date, batch = 1000): Promise<number> {
  const result = await q.query(
    `DELETE FROM rate_limit_counters WHERE (bucket, window_start) IN (
       SELECT bucket, window_start FROM rate_limit_counters WHERE expires_at < $1 LIMIT $2)`,
    [before, batch],
  );
  return result.rowCount ?? 0;
}
