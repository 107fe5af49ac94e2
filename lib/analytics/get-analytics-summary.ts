import { db, type Queryable, transaction } from '../db/client.js';
import {
  type CountRow,
  type MoneyRow,
  readCounts,
  readMoneyTotals,
  readWatermarks,
  type Watermarks,
  listTicketCapacity,
} from '../db/queries/analytics-rollups.js';
import type { ReportRange } from './report-params.js';
import { SCALE_BUCKETS } from '../db/queries/analytics-sql.js';

/**
 * GET /api/analytics/summary: the treasurer's figures for one event over a range, from the hourly
 * rollups plus the live tail (never from every order). All of it overall and per provider.
 *
 * - gross: money captured; refunds: refunded less refunds reversed; fees: the providers' fees;
 *   disputes: opened (and the contested amount), won, lost (and the amount lost);
 *   net received = gross - refunds - fees - lost disputes (= the sum of the ledger rows).
 * - sliding scale per bucket (full price, 1-25 %, 26-50 %, 51-75 %): orders, tickets, revenue
 *   (captured), average paid per order (rounded half up), discount given.
 * - orders by outcome (started in the range; their status now) and conversion = paid / started.
 * - payment failures: failed attempts, rate = failures / (failures + captured payments), top codes.
 * - tickets per type: sold in the range, revenue; and now: sold, held, capacity.
 */

export interface MoneyFigures {
  grossCents: number;
  refundsCents: number;
  refunds: number;
  feesCents: number;
  disputes: { opened: number; disputedCents: number; won: number; lost: number; lostCents: number };
  netCents: number;
  discountCents: number;
  orders: number;
  tickets: number;
}

export interface BucketFigures {
  bucket: string;
  minPercent: number;
  maxPercent: number;
  orders: number;
  tickets: number;
  revenueCents: number;
  averagePaidCents: number;
  discountCents: number;
}

export interface OutcomeFigures {
  started: number;
  paid: number;
  open: number;
  expired: number;
  cancelled: number;
  failed: number;
  /** paid / started, 4 decimals; null when nothing started. */
  conversionRate: number | null;
}

export interface FailureFigures {
  failures: number;
  captures: number;
  /** failures / (failures + captures), 4 decimals; null when neither. */
  failureRate: number | null;
  topDeclineCodes: { code: string; count: number }[];
}

export interface TicketTypeFigures {
  ticketTypeId: string;
  code: string;
  name: string;
  ticketsSold: number;
  revenueCents: number;
}

export interface SummarySection {
  money: MoneyFigures;
  slidingScale: { discountCents: number; buckets: BucketFigures[] };
  orders: OutcomeFigures;
  failures: FailureFigures;
  ticketTypes: TicketTypeFigures[];
}

export interface AnalyticsSummary extends SummarySection {
  event: { slug: string; name: string; timeZone: string };
  currency: string;
  range: { from: string; to: string };
  capacity: {
    ticketTypeId: string;
    code: string;
    name: string;
    capacity: number;
    sold: number;
    held: number;
    available: number;
  }[];
  providers: Record<'stripe' | 'paypal', SummarySection>;
}

const ratio = (a: number, b: number): number | null => (b > 0 ? Math.round((a / b) * 10_000) / 10_000 : null);
/** Integer division rounded half up (minor units stay integers). */
export const roundedDiv = (a: number, b: number): number => (b > 0 ? Math.floor((2 * a + b) / (2 * b)) : 0);

function sum(rows: MoneyRow[], pick: (r: MoneyRow) => number): number {
  let total = 0;
  for (const row of rows) total += pick(row);
  return total;
}

export function moneyFigures(rows: MoneyRow[]): MoneyFigures {
  const gross = sum(rows, (r) => r.capturedCents);
  const refunds = sum(rows, (r) => r.refundedCents);
  const fees = sum(rows, (r) => r.feeCents);
  const lost = sum(rows, (r) => r.disputeLostCents);
  return {
    grossCents: gross,
    refundsCents: refunds,
    refunds: sum(rows, (r) => r.refunds),
    feesCents: fees,
    disputes: {
      opened: sum(rows, (r) => r.disputesOpened),
      disputedCents: sum(rows, (r) => r.disputedCents),
      won: sum(rows, (r) => r.disputesWon),
      lost: sum(rows, (r) => r.disputesLost),
      lostCents: lost,
    },
    netCents: gross - refunds - fees - lost,
    discountCents: sum(rows, (r) => r.discountCents),
    orders: sum(rows, (r) => r.orders),
    tickets: sum(rows, (r) => r.tickets),
  };
}

function section(money: MoneyRow[], counts: CountRow[], types: Map<string, { code: string; name: string }>): SummarySection {
  const figures = moneyFigures(money);
  const buckets = SCALE_BUCKETS.map((b) => {
    const rows = money.filter((r) => r.scaleBucket === b.bucket);
    const orders = sum(rows, (r) => r.orders);
    const revenue = sum(rows, (r) => r.capturedCents);
    return {
      bucket: b.label,
      minPercent: b.minPercent,
      maxPercent: b.maxPercent,
      orders,
      tickets: sum(rows, (r) => r.tickets),
      revenueCents: revenue,
      averagePaidCents: roundedDiv(revenue, orders),
      discountCents: sum(rows, (r) => r.discountCents),
    };
  });
  const outcome = (label: string) =>
    counts.filter((c) => c.metric === 'outcome' && c.label === label).reduce((total, c) => total + c.n, 0);
  // Every order counts under exactly one outcome: started is their sum.
  const started = counts.filter((c) => c.metric === 'outcome').reduce((total, c) => total + c.n, 0);
  const paid = outcome('paid');
  const failureCounts = new Map<string, number>();
  for (const c of counts) {
    if (c.metric === 'failure') failureCounts.set(c.label, (failureCounts.get(c.label) ?? 0) + c.n);
  }
  const failures = [...failureCounts.values()].reduce((a, b) => a + b, 0);
  const byType = new Map<string, { tickets: number; revenue: number }>();
  for (const r of money) {
    const t = byType.get(r.ticketTypeId) ?? { tickets: 0, revenue: 0 };
    t.tickets += r.tickets;
    t.revenue += r.capturedCents;
    byType.set(r.ticketTypeId, t);
  }
  return {
    money: figures,
    slidingScale: { discountCents: figures.discountCents, buckets },
    orders: {
      started,
      paid,
      open: outcome('open'),
      expired: outcome('expired'),
      cancelled: outcome('cancelled'),
      failed: outcome('failed'),
      conversionRate: ratio(paid, started),
    },
    failures: {
      failures,
      captures: figures.orders,
      failureRate: ratio(failures, failures + figures.orders),
      topDeclineCodes: [...failureCounts.entries()]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, 10)
        .map(([code, count]) => ({ code, count })),
    },
    ticketTypes: [...types.entries()].map(([id, t]) => ({
      ticketTypeId: id,
      code: t.code,
      name: t.name,
      ticketsSold: byType.get(id)?.tickets ?? 0,
      revenueCents: byType.get(id)?.revenue ?? 0,
    })),
  };
}

const windowOf = (range: ReportRange, watermarks: Watermarks) => ({
  eventId: range.event.id,
  watermarks,
  from: range.from,
  to: range.to,
  timeZone: range.timeZone,
  useDaily: true,
});

export async function getAnalyticsSummary(range: ReportRange, q: Queryable = db): Promise<AnalyticsSummary> {
  // Money and counts are separate sources with their own watermarks: each is read in its own
  // snapshot (watermark first, then rollups below it and the tail above it), the two side by side.
  const snapshot = <T>(read: (tx: Queryable) => Promise<T>) =>
    q === db ? transaction(read, { isolation: 'repeatable read' }) : read(q);
  const [money, counts, capacity] = await Promise.all([
    snapshot(async (tx) => await readMoneyTotals(tx, windowOf(range, await readWatermarks(tx)))),
    snapshot(async (tx) => await readCounts(tx, windowOf(range, await readWatermarks(tx)))),
    listTicketCapacity(q, range.event.id),
  ]);
  const types = new Map(capacity.map((t) => [t.ticketTypeId, { code: t.code, name: t.name }]));
  const filterProvider = <T extends { provider: string }>(rows: T[], p: string) => rows.filter((r) => r.provider === p);
  return {
    event: { slug: range.event.slug, name: range.event.name, timeZone: range.timeZone },
    currency: range.event.currency,
    range: { from: range.from.toISOString(), to: range.to.toISOString() },
    ...section(money, counts, types),
    // held from the live holds, sold = taken - held (listTicketCapacity); what is left from `taken`.
    capacity: capacity.map(({ taken, ...t }) => ({ ...t, available: Math.max(0, t.capacity - taken) })),
    providers: {
      stripe: section(filterProvider(money, 'stripe'), filterProvider(counts, 'stripe'), types),
      paypal: section(filterProvider(money, 'paypal'), filterProvider(counts, 'paypal'), types),
    },
  };
}
