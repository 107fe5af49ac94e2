import { db, type Queryable, transaction } from '../db/client.js';
import { moneyUnionSql, readWatermarks, windowParams } from './read-rollups.js';
import type { GroupBy, ReportRange } from './report-params.js';

/**
 * GET /api/analytics/revenue: a time series over [from, to), one bucket per hour / day / week
 * (Monday) / month in the report's time zone, empty buckets filled with zero. Days follow the zone's
 * clock: in America/Denver the spring-forward day has 23 hours and the fall-back day 25 (`hours`).
 * Read from the hourly rollups plus the live tail. Week and month buckets are whole calendar
 * buckets; only money inside [from, to) is counted in them.
 */

export interface RevenuePoint {
  /** Bucket start as an instant, and as the local wall time with its offset. */
  start: string;
  local: string;
  hours: number;
  grossCents: number;
  refundsCents: number;
  feesCents: number;
  disputesLostCents: number;
  netCents: number;
  discountCents: number;
  orders: number;
  tickets: number;
}

export interface RevenueSeries {
  event: { slug: string; name: string; timeZone: string };
  currency: string;
  groupBy: GroupBy;
  provider: 'stripe' | 'paypal' | null;
  range: { from: string; to: string };
  totals: Omit<RevenuePoint, 'start' | 'local' | 'hours'>;
  points: RevenuePoint[];
}

/** Bucket start (timestamptz) of a timestamptz expression, in zone $4. */
export function bucketSql(grain: GroupBy, at: string): string {
  if (grain === 'hour') return `analytics_hour(${at})`;
  return `(date_trunc('${grain}', ${at} AT TIME ZONE $4) AT TIME ZONE $4)`;
}

const STEP: Record<Exclude<GroupBy, 'hour'>, string> = { day: '1 day', week: '1 week', month: '1 month' };

function offsetText(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

interface Row {
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

export async function getRevenueSeries(range: ReportRange, q: Queryable = db): Promise<RevenueSeries> {
  const grain = range.groupBy;
  // Bucket starts: hours as instants (a local hour repeats or vanishes on DST days); days, weeks
  // and months as local calendar steps turned into instants by the zone's rules.
  const series =
    grain === 'hour'
      ? `SELECT s AS start, s + interval '1 hour' AS stop FROM generate_series($2::timestamptz, $3::timestamptz - interval '1 hour', interval '1 hour') s`
      : `SELECT (s AT TIME ZONE $4) AS start, ((s + interval '${STEP[grain]}') AT TIME ZONE $4) AS stop
         FROM generate_series(date_trunc('${grain}', $2::timestamptz AT TIME ZONE $4),
                              ($3::timestamptz - interval '1 microsecond') AT TIME ZONE $4, interval '${STEP[grain]}') s`;
  const providerFilter = range.provider ? `WHERE provider = $7` : '';
  const read = async (tx: Queryable) =>
    await tx.queryMany<Row>(
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
            eventId: range.event.id,
            watermarks: await readWatermarks(tx),
            from: range.from,
            to: range.to,
            timeZone: range.timeZone,
            useDaily: grain !== 'hour',
          },
          'money',
        ),
        ...(range.provider ? [range.provider] : []),
      ],
    );
  // One snapshot: the watermark, then the rollups below it and the tail above it.
  const rows = q === db ? await transaction(read, { isolation: 'repeatable read' }) : await read(q);
  const points = rows.map((r) => ({
    start: r.start.toISOString(),
    local: `${r.local}${offsetText(r.offsetMinutes)}`,
    hours: r.hours,
    grossCents: r.gross,
    refundsCents: r.refunds,
    feesCents: r.fees,
    disputesLostCents: r.lost,
    netCents: r.gross - r.refunds - r.fees - r.lost,
    discountCents: r.discount,
    orders: r.orders,
    tickets: r.tickets,
  }));
  const total = (pick: (p: RevenuePoint) => number) => points.reduce((a, p) => a + pick(p), 0);
  return {
    event: { slug: range.event.slug, name: range.event.name, timeZone: range.timeZone },
    currency: range.event.currency,
    groupBy: grain,
    provider: range.provider ?? null,
    range: { from: range.from.toISOString(), to: range.to.toISOString() },
    totals: {
      grossCents: total((p) => p.grossCents),
      refundsCents: total((p) => p.refundsCents),
      feesCents: total((p) => p.feesCents),
      disputesLostCents: total((p) => p.disputesLostCents),
      netCents: total((p) => p.netCents),
      discountCents: total((p) => p.discountCents),
      orders: total((p) => p.orders),
      tickets: total((p) => p.tickets),
    },
    points,
  };
}
