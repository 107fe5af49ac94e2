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

/** One hit to count: the bucket and its window length. */
export interface SlidingWindowHit {
  bucket: string;
  windowSeconds: number;
}

/** The window containing `now`, the one before it, and how long a counter row is kept (two windows). */
function windowsOf(windowSeconds: number, now: Date) {
  const windowMs = windowSeconds * 1000;
  const windowStart = new Date(Math.floor(now.getTime() / windowMs) * windowMs);
  return {
    windowStart,
    previousStart: new Date(windowStart.getTime() - windowMs),
    expiresAt: new Date(windowStart.getTime() + 2 * windowMs),
  };
}

/**
 * The sliding-window hits as SQL, for one statement or folded into a bigger one (checkout's first
 * statement, lib/db/queries/checkout.ts, which serves several requests at once): a CTE named `hits` that
 * adds one hit per bucket, and `counted(call)`, a select-list expression giving the hits of one call (a
 * 1-based number, or an SQL expression for it) as `{bucket, current, previous}` in the order given. Its one
 * parameter, `$param`, lists every hit with its call and windows (slidingWindowHitsParam). Buckets must be
 * distinct across the statement. The counters are written in bucket order, so two statements that share
 * buckets never wait on each other in a cycle.
 */
export function slidingWindowHitsSql(param: number): { cte: string; counted: (call: string) => string } {
  // One jsonb parameter rather than arrays: the planner sizes unnest() of a known array exactly, so a
  // named statement with arrays was planned again on every call (its custom plan always looked cheaper than
  // the generic one). jsonb_to_recordset() is sized the same either way, and the generic plan is kept.
  const rows = `ROWS FROM (jsonb_to_recordset($${param}::jsonb)
           AS (call int, bucket text, window_start timestamptz, previous_start timestamptz, expires_at timestamptz))
         WITH ORDINALITY AS h(call, bucket, window_start, previous_start, expires_at, ord)`;
  return {
    cte: `hits AS (
       INSERT INTO rate_limit_counters AS c (bucket, window_start, count, expires_at)
       SELECT h.bucket, h.window_start, 1, h.expires_at FROM ${rows}
       ORDER BY h.bucket, h.window_start
       ON CONFLICT (bucket, window_start) DO UPDATE SET count = c.count + 1, expires_at = EXCLUDED.expires_at
       RETURNING c.bucket, c.window_start, c.count)`,
    // The previous window by a scalar subquery per hit: a join may be planned as a scan of every counter.
    counted: (call) => `(SELECT coalesce(json_agg(json_build_object('bucket', h.bucket, 'current', hits.count,
         'previous', coalesce((SELECT p.count FROM rate_limit_counters p
                               WHERE p.bucket = h.bucket AND p.window_start = h.previous_start), 0)) ORDER BY h.ord), '[]'::json)
       FROM ${rows}
       JOIN hits ON hits.bucket = h.bucket AND hits.window_start = h.window_start
       WHERE h.call = ${call})`,
  };
}

/** The parameter of slidingWindowHitsSql for these calls' hits, each at its own `now` (call i is number i + 1). */
export function slidingWindowHitsParam(calls: readonly { hits: readonly SlidingWindowHit[]; now: Date }[]): string {
  return JSON.stringify(
    calls.flatMap((call, index) =>
      call.hits.map((hit) => {
        const w = windowsOf(hit.windowSeconds, call.now);
        return {
          call: index + 1,
          bucket: hit.bucket,
          window_start: w.windowStart.toISOString(),
          previous_start: w.previousStart.toISOString(),
          expires_at: w.expiresAt.toISOString(),
        };
      }),
    ),
  );
}

/** Turns the `counted` JSON of slidingWindowHitsSql into counts, in the order of `hits`. */
export function slidingCountsOf(
  hits: readonly SlidingWindowHit[],
  counted: readonly { bucket: string; current: number; previous: number }[],
  now: Date,
): SlidingCount[] {
  return hits.map((hit, i) => {
    const row = counted[i];
    if (!row || row.bucket !== hit.bucket) throw new Error(`rate limit count missing for ${hit.bucket}`);
    return { current: row.current, previous: row.previous, windowStart: windowsOf(hit.windowSeconds, now).windowStart };
  });
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
  const hits = [{ bucket, windowSeconds }];
  const sql = slidingWindowHitsSql(1);
  const row = await q.queryOne<{ counted: { bucket: string; current: number; previous: number }[] }>(
    `WITH ${sql.cte} SELECT ${sql.counted('1')} AS counted`,
    [slidingWindowHitsParam([{ hits, now }])],
  );
  const [count] = slidingCountsOf(hits, row?.counted ?? [], now);
  if (!count) throw new Error('incrementSlidingWindow returned no row');
  return count;
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
