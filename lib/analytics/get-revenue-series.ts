import { db, type Queryable } from '../db/client.js';
import { readRevenueBuckets } from '../db/queries/analytics-rollups.js';
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

function offsetText(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

export async function getRevenueSeries(range: ReportRange, q: Queryable = db): Promise<RevenueSeries> {
  const grain = range.groupBy;
  const rows = await readRevenueBuckets(
    q,
    { eventId: range.event.id, from: range.from, to: range.to, timeZone: range.timeZone },
    grain,
    range.provider,
  );
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
