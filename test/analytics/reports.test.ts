import { beforeAll, describe, expect, it } from 'vitest';
import * as revenueRoute from '../../api/analytics/revenue.js';
import * as summaryRoute from '../../api/analytics/summary.js';
import { foldRollups } from '../../lib/analytics/fold-rollups.js';
import { roundedDiv } from '../../lib/analytics/get-analytics-summary.js';
import { releaseOrderHolds } from '../../lib/checkout/holds.js';
import { transaction } from '../../lib/db/client.js';
import { lockOrderById } from '../../lib/db/models/orders.js';
import { transition } from '../../lib/payments/transition.js';
import { releaseOrderTicketsInTx } from '../../lib/refunds/release-tickets.js';
import { makeKey, type TestKey } from '../support/staff.js';
import { type BookOrder, disputeOrder, makeOrder, type PaidOrderInput, recordFailure, refundOrder } from '../support/books.js';
import { createEventWithTicketTypes } from '../support/factories.js';
import { call } from '../support/http.js';
import { type RawCapacity, rawCapacity, rawFigures, rawSeries } from '../support/raw-books.js';

/**
 * The reports against an INDEPENDENT aggregation of the raw tables (test/support/raw-books.ts):
 * every sliding-scale bucket, a refunded, a partly refunded, a reversed-refund, a disputed (lost,
 * won, open) order, both providers, fees (and fees given back with refunds), failures and unpaid orders, around Boulder's DST change
 * (America/Denver: 2026-03-08 has 23 hours, 2026-11-01 has 25). Checked with nothing folded (all
 * tail), after a fold, and with new rows past the watermark. The capacity table (sold, held, available
 * per ticket type) against a count over every order item: live holds (pending, processing), a hold
 * expired but not reclaimed, paid orders refunded with and without their tickets released, and
 * orders cancelled, expired and failed (their holds given back).
 */

const Z = (iso: string) => new Date(iso);
let key: TestKey;
let slug: string;
let eventId: string;
const types: Record<string, string> = {};

async function summary(query: Record<string, string>) {
  const res = await call(summaryRoute.GET, {
    path: '/api/analytics/summary',
    query: { event: slug, ...query },
    headers: key.header,
  });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

async function revenue(query: Record<string, string>) {
  const res = await call(revenueRoute.GET, {
    path: '/api/analytics/revenue',
    query: { event: slug, ...query },
    headers: key.header,
  });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** Every figure of a summary section against the raw aggregation. */
function expectSection(section: any, raw: Awaited<ReturnType<typeof rawFigures>>) {
  expect(section.money).toEqual({
    grossCents: raw.gross,
    refundsCents: raw.refunds,
    refunds: raw.refundCount,
    feesCents: raw.fees,
    disputes: {
      opened: raw.disputesOpened,
      disputedCents: raw.disputedCents,
      won: raw.disputesWon,
      lost: raw.disputesLost,
      lostCents: raw.lostCents,
    },
    netCents: raw.net,
    discountCents: raw.discount,
    orders: raw.orders,
    tickets: raw.tickets,
  });
  expect(section.money.netCents).toBe(
    section.money.grossCents - section.money.refundsCents - section.money.feesCents - section.money.disputes.lostCents,
  );
  expect(
    section.slidingScale.buckets.map((b: any) => ({
      orders: b.orders,
      tickets: b.tickets,
      revenue: b.revenueCents,
      discount: b.discountCents,
    })),
  ).toEqual(raw.buckets);
  for (const [i, b] of section.slidingScale.buckets.entries()) {
    expect(b.averagePaidCents).toBe(roundedDiv(raw.buckets[i]?.revenue ?? 0, raw.buckets[i]?.orders ?? 0));
  }
  for (const t of section.ticketTypes) {
    expect({ tickets: t.ticketsSold, revenue: t.revenueCents }).toEqual(raw.byType[t.ticketTypeId] ?? { tickets: 0, revenue: 0 });
  }
  const { conversionRate, ...outcomes } = section.orders;
  expect(outcomes).toEqual(raw.outcomes);
  expect(conversionRate).toBe(
    raw.outcomes.started ? Math.round(((raw.outcomes.paid ?? 0) / raw.outcomes.started) * 10_000) / 10_000 : null,
  );
  expect(Object.fromEntries(section.failures.topDeclineCodes.map((d: any) => [d.code, d.count]))).toEqual(raw.failures);
}

async function expectSummaryMatches(query: Record<string, string>, from: Date, to: Date) {
  const body = await summary(query);
  expectSection(body, await rawFigures(eventId, from, to));
  expectSection(body.providers.stripe, await rawFigures(eventId, from, to, 'stripe'));
  expectSection(body.providers.paypal, await rawFigures(eventId, from, to, 'paypal'));
  return body;
}

/**
 * The capacity table against the raw count. The raw count is read before and after the report and
 * must not have moved in between (another test file's hold sweeper may reclaim the expired hold).
 */
async function expectCapacityMatches(): Promise<RawCapacity[]> {
  for (let attempt = 0; ; attempt++) {
    const before = await rawCapacity(eventId);
    const body = await summary({});
    const after = await rawCapacity(eventId);
    if (JSON.stringify(before) !== JSON.stringify(after) && attempt < 5) continue;
    expect(body.capacity).toEqual(
      after.map((r) => ({
        ticketTypeId: r.ticketTypeId,
        code: r.code,
        name: body.capacity.find((t: any) => t.ticketTypeId === r.ticketTypeId)?.name,
        capacity: r.capacity,
        sold: r.sold,
        held: r.held,
        available: Math.max(0, r.capacity - r.sold - r.held),
      })),
    );
    return after;
  }
}

async function expectSeriesMatches(grain: 'hour' | 'day' | 'week' | 'month', fromDay: string, toDay: string) {
  const body = await revenue({ groupBy: grain, from: fromDay, to: toDay });
  const from = new Date(body.range.from);
  const to = new Date(body.range.to);
  const raw = await rawSeries(eventId, from, to, grain, 'America/Denver');
  const fromSeries = body.points.filter((p: any) => p.grossCents || p.refundsCents || p.feesCents || p.disputesLostCents);
  expect(fromSeries.length).toBe([...raw.values()].filter((r) => r.gross || r.refunds || r.fees || r.lost).length);
  for (const p of body.points) {
    const r = raw.get(p.start) ?? { gross: 0, refunds: 0, fees: 0, lost: 0, orders: 0, tickets: 0 };
    expect({
      at: p.start,
      gross: p.grossCents,
      refunds: p.refundsCents,
      fees: p.feesCents,
      lost: p.disputesLostCents,
      orders: p.orders,
      tickets: p.tickets,
    }).toEqual({
      at: p.start,
      gross: r.gross,
      refunds: r.refunds,
      fees: r.fees,
      lost: r.lost,
      orders: r.orders,
      tickets: r.tickets,
    });
    expect(p.netCents).toBe(p.grossCents - p.refundsCents - p.feesCents - p.disputesLostCents);
  }
  return body;
}

const orders: BookOrder[] = [];

async function seed(): Promise<void> {
  const item = (code: string, quantity: number) => ({
    ticketTypeId: types[code] as string,
    unitPriceCents: code === 'full' ? 10_000 : code === 'workshop' ? 4_050 : 20_000,
    quantity,
    slidingScale: code !== 'vip',
  });
  // Saturday 2026-03-07 evening to Monday 2026-03-09, Denver; DST starts 2026-03-08 02:00 MST (09:00Z).
  const plan: { at: string; percent: number; provider: 'stripe' | 'paypal'; items: ReturnType<typeof item>[]; fee?: number }[] = [
    { at: '2026-03-08T06:30:00Z', percent: 0, provider: 'stripe', items: [item('full', 2)], fee: 610 }, // 03-07 23:30 MST
    { at: '2026-03-08T07:10:00Z', percent: 10, provider: 'paypal', items: [item('full', 1), item('workshop', 2)], fee: 507 }, // 03-08 00:10 MST
    { at: '2026-03-08T08:59:00Z', percent: 25, provider: 'stripe', items: [item('workshop', 3)], fee: 321 }, // 01:59 MST
    { at: '2026-03-08T09:00:00Z', percent: 26, provider: 'stripe', items: [item('full', 1), item('vip', 1)], fee: 900 }, // 03:00 MDT
    { at: '2026-03-08T15:45:00Z', percent: 50, provider: 'paypal', items: [item('vip', 2)] }, // 09:45 MDT (vip: no sliding scale)
    { at: '2026-03-08T20:00:00Z', percent: 51, provider: 'paypal', items: [item('full', 3)], fee: 1234 },
    { at: '2026-03-09T05:59:00Z', percent: 75, provider: 'stripe', items: [item('full', 1), item('workshop', 1)], fee: 77 }, // 23:59 MDT
    { at: '2026-03-09T06:00:00Z', percent: 75, provider: 'paypal', items: [item('workshop', 1)], fee: 55 }, // 03-09 00:00 MDT
    // Fall back: 2026-11-01 01:00-02:00 happens twice in Denver.
    { at: '2026-11-01T07:30:00Z', percent: 5, provider: 'stripe', items: [item('full', 1)], fee: 320 }, // 01:30 MDT
    { at: '2026-11-01T08:30:00Z', percent: 5, provider: 'paypal', items: [item('full', 1)], fee: 333 }, // 01:30 MST
    { at: '2026-11-02T06:30:00Z', percent: 0, provider: 'stripe', items: [item('vip', 1)] }, // 11-01 23:30 MST
  ];
  for (const p of plan) {
    orders.push(
      await makeOrder({ eventId, provider: p.provider, percent: p.percent, items: p.items, at: Z(p.at), feeCents: p.fee }),
    );
  }
  const [o0, o1, o2, o3, o4, o5, , , o8, o9] = orders as BookOrder[];
  if (!o0 || !o1 || !o2 || !o3 || !o4 || !o5 || !o8 || !o9) throw new Error('seed');
  await refundOrder(o0, o0.totalCents, Z('2026-03-08T10:15:00Z')); // refunded in full
  await refundOrder(o1, 1_000, Z('2026-03-08T12:00:00Z'), undefined, 35); // partly, PayPal gave 35 of its fee back
  // Refunded with 70 of the fee given back, then reversed (next day): the returned fee goes again.
  await refundOrder(o5, 2_000, Z('2026-03-08T21:00:00Z'), Z('2026-03-09T15:00:00Z'), 70);
  await disputeOrder(o2, o2.totalCents, Z('2026-03-08T11:00:00Z'), { status: 'lost', at: Z('2026-03-09T07:30:00Z') });
  await disputeOrder(o3, 5_000, Z('2026-03-08T13:00:00Z'), { status: 'won', at: Z('2026-03-08T14:00:00Z') });
  await disputeOrder(o4, 10_000, Z('2026-03-08T16:00:00Z')); // still open
  await refundOrder(o9, 500, Z('2026-11-01T08:45:00Z'));
  await disputeOrder(o8, 1_000, Z('2026-11-01T07:45:00Z'), { status: 'lost', at: Z('2026-11-01T08:50:00Z') });
  // Unpaid orders and failures.
  const unpaid = (
    provider: 'stripe' | 'paypal',
    percent: number,
    code: string,
    at: string,
    status: NonNullable<PaidOrderInput['unpaidStatus']>,
  ) => makeOrder({ eventId, provider, percent, items: [item(code, 1)], at: Z(at), unpaidStatus: status });
  const started = await unpaid('stripe', 0, 'full', '2026-03-08T10:00:00Z', 'pending');
  await recordFailure(started, 'card_declined', 'insufficient_funds', Z('2026-03-08T10:01:00Z'));
  await recordFailure(started, 'card_declined', 'insufficient_funds', Z('2026-03-08T10:02:00Z'));
  const failed = await unpaid('stripe', 20, 'full', '2026-03-08T17:00:00Z', 'failed');
  await recordFailure(failed, 'card_declined', 'stolen_card', Z('2026-03-08T17:01:00Z'));
  const paypalFailed = await unpaid('paypal', 0, 'workshop', '2026-03-08T18:00:00Z', 'failed');
  await recordFailure(paypalFailed, 'INSTRUMENT_DECLINED', null, Z('2026-03-08T18:01:00Z'));
  await unpaid('paypal', 0, 'vip', '2026-03-08T19:00:00Z', 'expired');
  await unpaid('stripe', 0, 'vip', '2026-03-08T19:30:00Z', 'cancelled');

  // Capacity: a processing order (payment in flight), a hold expired but not reclaimed yet, a paid
  // order refunded with its tickets returned to sale, and a hold cancelled through the real release.
  await makeOrder({
    eventId,
    provider: 'stripe',
    percent: 0,
    items: [item('workshop', 2)],
    at: Z('2026-03-08T19:40:00Z'),
    unpaidStatus: 'processing',
  });
  await makeOrder({
    eventId,
    provider: 'paypal',
    percent: 10,
    items: [item('full', 2), item('vip', 1)],
    at: Z('2026-03-08T19:45:00Z'),
    unpaidStatus: 'pending',
    holdExpiresAt: new Date(Date.now() - 60_000),
  });
  const released = await makeOrder({
    eventId,
    provider: 'stripe',
    percent: 0,
    items: [item('vip', 2), item('workshop', 1)],
    at: Z('2026-03-08T20:30:00Z'),
  });
  const refundId = await refundOrder(released, released.totalCents, Z('2026-03-08T21:30:00Z'));
  await transaction((tx) =>
    releaseOrderTicketsInTx(tx, { orderId: released.orderId, refundId, actor: { type: 'admin', id: 'treasurer' } }),
  );
  const cancelled = await makeOrder({
    eventId,
    provider: 'stripe',
    percent: 0,
    items: [item('full', 1), item('workshop', 1)],
    at: Z('2026-03-08T20:45:00Z'),
    unpaidStatus: 'pending',
  });
  await transaction(async (tx) => {
    const order = await lockOrderById(tx, cancelled.orderId);
    if (!order) throw new Error('seed: cancelled order');
    await releaseOrderHolds(tx, order.id);
    await transition(tx, 'order', order, 'cancelled');
  });
}

beforeAll(async () => {
  key = await makeKey(['analytics:read']);
  const made = await createEventWithTicketTypes({
    full: { priceCents: 10_000, slidingScale: true, capacity: 500 },
    workshop: { priceCents: 4_050, slidingScale: true, capacity: 500 },
    vip: { priceCents: 20_000, slidingScale: false, capacity: 50 },
  });
  slug = made.event.slug;
  eventId = made.event.id;
  for (const [code, t] of Object.entries(made.types)) types[code] = t.id;
  await seed();
});

describe('analytics reports against the raw tables', () => {
  const ALL = [Z('2000-01-01T00:00:00Z'), Z('2200-01-01T00:00:00Z')] as const;
  const DST_DAY = [Z('2026-03-08T07:00:00Z'), Z('2026-03-09T06:00:00Z')] as const; // Denver 03-08, 23 h
  const FALL_DAY = [Z('2026-11-01T06:00:00Z'), Z('2026-11-02T07:00:00Z')] as const; // Denver 11-01, 25 h

  for (const stage of ['nothing folded (all tail)', 'after a fold', 'with rows past the watermark'] as const) {
    it(`summary and series match, ${stage}`, async () => {
      if (stage === 'after a fold') await foldRollups();
      if (stage === 'with rows past the watermark') {
        const late = await makeOrder({
          eventId,
          provider: 'paypal',
          percent: 40,
          items: [{ ticketTypeId: types.full as string, unitPriceCents: 10_000, quantity: 2, slidingScale: true }],
          at: Z('2026-03-08T22:00:00Z'),
          feeCents: 400,
        });
        await refundOrder(late, 3_000, Z('2026-03-08T23:00:00Z'));
      }
      const all = await expectSummaryMatches({}, ...ALL);
      expect(all.money.grossCents).toBeGreaterThan(0);
      expect(all.slidingScale.buckets.every((b: any) => b.orders > 0)).toBe(true);
      expect(all.money.disputes).toMatchObject({ opened: 4, won: 1, lost: 2 });
      expect(all.providers.stripe.money.grossCents + all.providers.paypal.money.grossCents).toBe(all.money.grossCents);

      const day = await expectSummaryMatches({ from: '2026-03-08', to: '2026-03-08' }, ...DST_DAY);
      expect(day.range).toEqual({ from: DST_DAY[0].toISOString(), to: DST_DAY[1].toISOString() });
      await expectSummaryMatches({ from: '2026-11-01', to: '2026-11-01' }, ...FALL_DAY);
      // Another zone than the event's: whole UTC days (the daily rollups are in Denver time, so hourly rows answer).
      await expectSummaryMatches(
        { from: '2026-03-08', to: '2026-03-09', tz: 'UTC' },
        Z('2026-03-08T00:00:00Z'),
        Z('2026-03-10T00:00:00Z'),
      );
      // Instants inside days: hourly edges around whole days.
      await expectSummaryMatches(
        { from: '2026-03-07T20:00:00-07:00', to: '2026-03-09T03:00:00-06:00' },
        Z('2026-03-08T03:00:00Z'),
        Z('2026-03-09T09:00:00Z'),
      );

      const days = await expectSeriesMatches('day', '2026-03-06', '2026-03-10');
      expect(days.points.map((p: any) => [p.local, p.hours])).toEqual([
        ['2026-03-06T00:00-07:00', 24],
        ['2026-03-07T00:00-07:00', 24],
        ['2026-03-08T00:00-07:00', 23],
        ['2026-03-09T00:00-06:00', 24],
        ['2026-03-10T00:00-06:00', 24],
      ]);
      const fall = await expectSeriesMatches('day', '2026-10-31', '2026-11-02');
      expect(fall.points.map((p: any) => p.hours)).toEqual([24, 25, 24]);
      const hours = await expectSeriesMatches('hour', '2026-03-08', '2026-03-08');
      expect(hours.points).toHaveLength(23);
      expect(hours.points.map((p: any) => p.local.slice(11))).toContain('03:00-06:00');
      expect(hours.points.map((p: any) => p.local.slice(11))).not.toContain('02:00-07:00');
      const fallHours = await expectSeriesMatches('hour', '2026-11-01', '2026-11-01');
      expect(fallHours.points).toHaveLength(25);
      expect(fallHours.points.filter((p: any) => p.local.slice(11, 16) === '01:00').map((p: any) => p.local)).toEqual([
        '2026-11-01T01:00-06:00',
        '2026-11-01T01:00-07:00',
      ]);
      await expectSeriesMatches('week', '2026-03-01', '2026-03-31');
      await expectSeriesMatches('month', '2026-01-01', '2026-12-31');
      await expectCapacityMatches();
    });
  }

  it('answers CSV with the same figures', async () => {
    const res = await call(summaryRoute.GET, {
      path: '/api/analytics/summary',
      query: { event: slug, format: 'csv' },
      headers: key.header,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const json = await summary({});
    const lines = res.text.trim().split('\r\n');
    expect(lines[0]).toBe('scope,metric,key,value,amount,currency');
    expect(lines).toContain(`all,money,net,${json.money.netCents},${(json.money.netCents / 100).toFixed(2)},USD`);
    expect(lines).toContain(
      `paypal,money,gross,${json.providers.paypal.money.grossCents},${(json.providers.paypal.money.grossCents / 100).toFixed(2)},USD`,
    );
    for (const t of json.capacity) {
      for (const metric of ['capacity', 'sold', 'held'] as const) {
        expect(lines).toContain(`all,capacity:${t.code},${metric},${t[metric]},,`);
      }
    }

    const series = await call(revenueRoute.GET, {
      path: '/api/analytics/revenue',
      query: { event: slug, format: 'csv', groupBy: 'day', from: '2026-03-07', to: '2026-03-09' },
      headers: key.header,
    });
    const seriesJson = await revenue({ groupBy: 'day', from: '2026-03-07', to: '2026-03-09' });
    const rows = series.text.trim().split('\r\n');
    expect(rows).toHaveLength(4);
    expect(rows[2]).toBe(
      [
        seriesJson.points[1].start,
        seriesJson.points[1].local,
        23,
        seriesJson.points[1].grossCents,
        seriesJson.points[1].refundsCents,
        seriesJson.points[1].feesCents,
        seriesJson.points[1].disputesLostCents,
        seriesJson.points[1].netCents,
        seriesJson.points[1].discountCents,
        seriesJson.points[1].orders,
        seriesJson.points[1].tickets,
        'USD',
      ].join(','),
    );
  });

  it('shows tickets sold and held against capacity per ticket type', async () => {
    const body = await summary({});
    expect(body.capacity.map((t: any) => [t.code, t.capacity])).toEqual([
      ['full', 500],
      ['workshop', 500],
      ['vip', 50],
    ]);
    const raw = await expectCapacityMatches();
    // The cases are really there: tickets sold on every type, live holds, and the expired hold still counted
    // (3 tickets), unless another test file's hold sweeper has reclaimed it already (then it is given back,
    // which the comparison checks just as well). Tests share one database; nothing below depends on it.
    expect(raw.every((t) => t.sold > 0)).toBe(true);
    expect(raw.find((t) => t.code === 'workshop')?.held).toBeGreaterThan(0);
    expect([0, 3]).toContain(raw.reduce((n, t) => n + t.expiredHeld, 0));
    // A new hold, then its expiry: held moves to available and back, sold stays. On the workshop type, which
    // has no expired hold that a sweeper could take meanwhile.
    const workshop = (rows: RawCapacity[]) => rows.find((t) => t.code === 'workshop');
    const hold = await makeOrder({
      eventId,
      provider: 'stripe',
      percent: 0,
      items: [{ ticketTypeId: types.workshop as string, unitPriceCents: 4_050, quantity: 3, slidingScale: true }],
      at: new Date(),
      unpaidStatus: 'pending',
    });
    const withHold = await expectCapacityMatches();
    expect(workshop(withHold)?.held).toBe((workshop(raw)?.held ?? 0) + 3);
    expect(workshop(withHold)?.sold).toBe(workshop(raw)?.sold);
    await transaction(async (tx) => {
      const order = await lockOrderById(tx, hold.orderId);
      if (!order) throw new Error('hold order');
      await releaseOrderHolds(tx, order.id);
      await transition(tx, 'order', order, 'expired');
    });
    expect(workshop(await expectCapacityMatches())).toEqual(workshop(raw));
  });
});
