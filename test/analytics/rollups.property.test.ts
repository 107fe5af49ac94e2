import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldRollups } from '../../lib/analytics/fold-rollups.js';
import { getAnalyticsSummary } from '../../lib/analytics/get-analytics-summary.js';
import { getRevenueSeries } from '../../lib/analytics/get-revenue-series.js';
import { parseReportQuery } from '../../lib/analytics/report-params.js';
import { db } from '../../lib/db/client.js';
import { disputeOrder, makeOrder, refundOrder } from '../support/books.js';
import { createEventWithTicketTypes } from '../support/factories.js';
import { rawFigures, rawSeries } from '../support/raw-books.js';

/**
 * Rollups + live tail == the raw aggregation, whatever the data and wherever the watermark falls:
 * random orders (both providers, every sliding-scale bucket, fees, refunds, disputes) around a DST
 * change in America/Denver, with the cron's fold run at random points between the writes.
 */

const WINDOWS = {
  spring: { start: Date.parse('2026-03-07T07:00:00Z'), day: '2026-03-08', hours: 72 },
  fall: { start: Date.parse('2026-10-31T06:00:00Z'), day: '2026-11-01', hours: 72 },
} as const;

const orderArb = fc.record({
  minute: fc.integer({ min: 0, max: 72 * 60 - 1 }),
  percent: fc.constantFrom(0, 1, 13, 25, 26, 40, 50, 51, 60, 75),
  provider: fc.constantFrom('stripe' as const, 'paypal' as const),
  full: fc.integer({ min: 0, max: 3 }),
  extra: fc.integer({ min: 0, max: 2 }),
  fee: fc.option(fc.integer({ min: 0, max: 900 }), { nil: undefined }),
  refund: fc.option(
    fc.record({ share: fc.integer({ min: 1, max: 100 }), after: fc.integer({ min: 1, max: 2000 }), reversed: fc.boolean() }),
    {
      nil: undefined,
    },
  ),
  dispute: fc.option(fc.record({ after: fc.integer({ min: 1, max: 2000 }), close: fc.constantFrom('won', 'lost', 'open') }), {
    nil: undefined,
  }),
  foldAfter: fc.boolean(),
});

async function compare(slug: string, eventId: string, day: string, windowStart: number): Promise<void> {
  const all = await parseReportQuery(db, { event: slug }, { defaultRange: 'all' });
  const summary = await getAnalyticsSummary(all);
  const raw = await rawFigures(eventId, all.from, all.to);
  expect(summary.money).toMatchObject({
    grossCents: raw.gross,
    refundsCents: raw.refunds,
    feesCents: raw.fees,
    netCents: raw.net,
    discountCents: raw.discount,
    orders: raw.orders,
    tickets: raw.tickets,
  });
  expect(summary.money.disputes.lostCents).toBe(raw.lostCents);
  expect(summary.slidingScale.buckets.map((b) => [b.orders, b.revenueCents, b.discountCents])).toEqual(
    raw.buckets.map((b) => [b.orders, b.revenue, b.discount]),
  );
  for (const provider of ['stripe', 'paypal'] as const) {
    const rawP = await rawFigures(eventId, all.from, all.to, provider);
    expect([summary.providers[provider].money.grossCents, summary.providers[provider].money.netCents]).toEqual([
      rawP.gross,
      rawP.net,
    ]);
  }
  for (const [grain, from, to] of [
    ['hour', day, day],
    ['day', new Date(windowStart).toISOString().slice(0, 10), new Date(windowStart + 4 * 86_400_000).toISOString().slice(0, 10)],
  ] as const) {
    const range = await parseReportQuery(db, { event: slug, groupBy: grain, from, to }, { defaultRange: 'last30days' });
    const series = await getRevenueSeries(range);
    const rawByBucket = await rawSeries(eventId, range.from, range.to, grain, 'America/Denver');
    for (const point of series.points) {
      const r = rawByBucket.get(point.start);
      expect([point.start, point.grossCents, point.refundsCents, point.feesCents, point.disputesLostCents]).toEqual([
        point.start,
        r?.gross ?? 0,
        r?.refunds ?? 0,
        r?.fees ?? 0,
        r?.lost ?? 0,
      ]);
    }
    const covered = series.points.reduce((a, p) => a + p.grossCents, 0);
    expect(covered).toBe([...rawByBucket.values()].reduce((a, r) => a + r.gross, 0));
  }
}

describe('rollups + tail == raw', () => {
  it('across random data, random watermarks and a DST change', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('spring' as const, 'fall' as const),
        fc.array(orderArb, { minLength: 1, maxLength: 7 }),
        async (which, plan) => {
          const window = WINDOWS[which];
          const { event, types } = await createEventWithTicketTypes({
            full: { priceCents: 9_999, slidingScale: true },
            extra: { priceCents: 2_501, slidingScale: false },
          });
          for (const p of plan) {
            if (p.full + p.extra === 0) continue;
            const at = new Date(window.start + p.minute * 60_000);
            const order = await makeOrder({
              eventId: event.id,
              provider: p.provider,
              percent: p.percent,
              at,
              feeCents: p.fee,
              items: [
                { ticketTypeId: types.full.id, unitPriceCents: 9_999, quantity: p.full, slidingScale: true },
                { ticketTypeId: types.extra.id, unitPriceCents: 2_501, quantity: p.extra, slidingScale: false },
              ].filter((i) => i.quantity > 0),
            });
            let left = order.totalCents;
            if (p.refund && left > 0) {
              const amount = Math.max(1, Math.floor((left * p.refund.share) / 100));
              const when = new Date(at.getTime() + p.refund.after * 60_000);
              await refundOrder(order, amount, when, p.refund.reversed ? new Date(when.getTime() + 90 * 60_000) : undefined);
              if (!p.refund.reversed) left -= amount;
            }
            if (p.dispute && left > 0) {
              const opened = new Date(at.getTime() + p.dispute.after * 60_000);
              await disputeOrder(
                order,
                left,
                opened,
                p.dispute.close === 'open'
                  ? undefined
                  : { status: p.dispute.close, at: new Date(opened.getTime() + 3 * 3_600_000) },
              );
            }
            if (p.foldAfter) await foldRollups();
          }
          await compare(event.slug, event.id, window.day, window.start);
          await foldRollups();
          await compare(event.slug, event.id, window.day, window.start);
        },
      ),
      { numRuns: 12 },
    );
  }, 180_000);
});

describe('the watermark', () => {
  it('never passes a transaction still running: a ledger row committed late is folded by a later run', async () => {
    // Two ticket types: each order's tickets are counted in its type's `taken` (a row lock T1 keeps to its end).
    const { event, types } = await createEventWithTicketTypes({ full: { priceCents: 5_000 }, other: { priceCents: 5_000 } });
    const item = { ticketTypeId: types.full.id, unitPriceCents: 5_000, quantity: 1, slidingScale: false };
    const at = new Date('2026-06-01T18:00:00Z');
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let written!: () => void;
    const wrote = new Promise<void>((resolve) => {
      written = resolve;
    });
    // T1 writes its ledger row first (its transaction id is older) and commits last.
    const slow = (async () => {
      const { transaction } = await import('../../lib/db/client.js');
      await transaction(async (tx) => {
        await makeOrder({ eventId: event.id, provider: 'stripe', percent: 0, items: [item], at, feeCents: 100 }, tx);
        written();
        await held;
      });
    })();
    await wrote;
    const other = { ...item, ticketTypeId: types.other.id };
    await makeOrder({ eventId: event.id, provider: 'paypal', percent: 0, items: [other], at, feeCents: 200 });
    await foldRollups();
    const mark = await db.queryOne<{ behind: boolean }>(
      `SELECT (SELECT tx_id FROM analytics_watermarks WHERE name = 'money') <= min(tx_id) AS behind
       FROM money_ledger WHERE event_id = $1`,
      [event.id],
    );
    expect(mark?.behind).toBe(true);
    release();
    await slow;
    const range = await parseReportQuery(db, { event: event.slug }, { defaultRange: 'all' });
    expect((await getAnalyticsSummary(range)).money).toMatchObject({ grossCents: 10_000, feesCents: 300, orders: 2 });
    // Folded once no transaction older than T1 is still running (other test files may hold one for a moment).
    let folded: { gross: number; fees: number } | undefined;
    for (let attempt = 0; attempt < 100; attempt++) {
      await foldRollups();
      folded = await db.queryOne<{ gross: number; fees: number }>(
        `SELECT sum(captured_cents)::int AS gross, sum(fee_cents)::int AS fees FROM analytics_money_hourly WHERE event_id = $1`,
        [event.id],
      );
      if (folded?.gross === 10_000) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(folded).toEqual({ gross: 10_000, fees: 300 });
    expect((await getAnalyticsSummary(range)).money).toMatchObject({ grossCents: 10_000, feesCents: 300, orders: 2 });
  });
});
