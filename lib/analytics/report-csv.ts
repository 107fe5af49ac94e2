import { csvField } from '../db/queries/transactions.js';
import { formatMinorUnits } from '../money.js';
import type { AnalyticsSummary, SummarySection } from './get-analytics-summary.js';
import type { RevenueSeries } from './get-revenue-series.js';

/**
 * CSV forms of the reports (`?format=csv`): amounts in minor units and as decimals, one line per
 * figure (summary) or per bucket (series). Every text cell goes through the transactions export's
 * csvField (quotes, and no formula injection).
 */

const line = (cells: (string | number | null)[]) => `${cells.map(csvField).join(',')}\r\n`;

function sectionLines(scope: string, s: SummarySection, currency: string): string[] {
  const out: string[] = [];
  const money = (metric: string, key: string, cents: number) =>
    out.push(line([scope, metric, key, cents, formatMinorUnits(cents), currency]));
  const count = (metric: string, key: string, n: number | null) => out.push(line([scope, metric, key, n, null, null]));
  money('money', 'gross', s.money.grossCents);
  money('money', 'discount', s.money.discountCents);
  money('money', 'refunds', s.money.refundsCents);
  money('money', 'fees', s.money.feesCents);
  money('money', 'disputed', s.money.disputes.disputedCents);
  money('money', 'disputes_lost', s.money.disputes.lostCents);
  money('money', 'net', s.money.netCents);
  count('money', 'refund_count', s.money.refunds);
  count('money', 'disputes_opened', s.money.disputes.opened);
  count('money', 'disputes_won', s.money.disputes.won);
  count('money', 'disputes_lost_count', s.money.disputes.lost);
  for (const b of s.slidingScale.buckets) {
    count(`sliding_scale:${b.bucket}`, 'orders', b.orders);
    count(`sliding_scale:${b.bucket}`, 'tickets', b.tickets);
    money(`sliding_scale:${b.bucket}`, 'revenue', b.revenueCents);
    money(`sliding_scale:${b.bucket}`, 'average_paid', b.averagePaidCents);
    money(`sliding_scale:${b.bucket}`, 'discount', b.discountCents);
  }
  for (const [key, value] of Object.entries(s.orders)) count('orders', key, value);
  count('failures', 'failures', s.failures.failures);
  count('failures', 'failure_rate', s.failures.failureRate);
  for (const d of s.failures.topDeclineCodes) count('failures', `code:${d.code}`, d.count);
  for (const t of s.ticketTypes) {
    count(`ticket_type:${t.code}`, 'tickets_sold', t.ticketsSold);
    money(`ticket_type:${t.code}`, 'revenue', t.revenueCents);
  }
  return out;
}

export function summaryCsv(summary: AnalyticsSummary): string {
  const lines = [line(['scope', 'metric', 'key', 'value', 'amount', 'currency'])];
  lines.push(...sectionLines('all', summary, summary.currency));
  for (const t of summary.capacity) {
    lines.push(line(['all', `capacity:${t.code}`, 'capacity', t.capacity, null, null]));
    lines.push(line(['all', `capacity:${t.code}`, 'sold', t.sold, null, null]));
    lines.push(line(['all', `capacity:${t.code}`, 'held', t.held, null, null]));
  }
  for (const provider of ['stripe', 'paypal'] as const) {
    lines.push(...sectionLines(provider, summary.providers[provider], summary.currency));
  }
  return lines.join('');
}

export function revenueCsv(series: RevenueSeries): string {
  const header = line([
    'bucket_start',
    'bucket_local',
    'hours',
    'gross_cents',
    'refunds_cents',
    'fees_cents',
    'disputes_lost_cents',
    'net_cents',
    'discount_cents',
    'orders',
    'tickets',
    'currency',
  ]);
  return (
    header +
    series.points
      .map((p) =>
        line([
          p.start,
          p.local,
          p.hours,
          p.grossCents,
          p.refundsCents,
          p.feesCents,
          p.disputesLostCents,
          p.netCents,
          p.discountCents,
          p.orders,
          p.tickets,
          series.currency,
        ]),
      )
      .join('')
  );
}
