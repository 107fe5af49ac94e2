import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getReconciliationReport } from '../../lib/reconciliation/get-reconciliation-report.js';
import { reconcileDay } from '../../lib/reconciliation/reconcile-day.js';
import type { PayPalReportingStore } from '../../sandbox/paypal/reporting.js';
import { isolatedDay } from '../support/recon-books.js';
import { type ReportingSandbox, startPayPalReportingSandbox } from '../../sandbox/reporting-servers.js';
import { createPendingOrder } from '../webhooks/support.js';
import { expectedBooksSource, booksForPayPal, configureProviders, linesOf, runsOfDay, unconfigureProviders } from './support.js';

/**
 * PayPal reconciliation against the sandbox's Transaction Search (called with the SDK's OAuth token)
 * and our books in PostgreSQL: a clean day, one discrepancy of each class, and a day of 1,200.
 */

let sandbox: ReportingSandbox<PayPalReportingStore>;

beforeAll(async () => {
  sandbox = await startPayPalReportingSandbox();
  configureProviders({ paypal: sandbox.url });
});

afterAll(async () => {
  await sandbox?.close();
  unconfigureProviders();
});

const dayStart = (day: string) => Date.parse(`${day}T00:00:00Z`);

describe('PayPal daily reconciliation', () => {
  it('a clean day: every transaction matched, totals equal, the withdrawal fully matched', async () => {
    const day = isolatedDay();
    const { captures, refunds } = sandbox.store.generateDay({ day, captures: 30, refundEvery: 6 });
    await booksForPayPal(captures, refunds);
    const withdrawal = sandbox.store.withdraw({ at: dayStart(day) + 86_200_000 });

    const outcome = await reconcileDay({ provider: 'paypal', day });
    const summary = outcome.summary;
    if (!summary) throw new Error('no summary');
    // 35 transactions and the withdrawal's payout line, which matches the day's net.
    expect(summary.counts).toEqual({
      matched: 36,
      amount_differs: 0,
      fee_differs: 0,
      provider_only: 0,
      books_only: 0,
      account_fee: 0,
    });
    const gross = captures.reduce((s, c) => s + c.amountMinor, 0);
    const refunded = refunds.reduce((s, r) => s + r.amountMinor, 0);
    const fees = captures.reduce((s, c) => s + c.feeMinor, 0);
    expect(summary.totals.provider).toEqual({
      grossCents: gross,
      refundsCents: -refunded,
      feesCents: fees,
      netCents: gross - refunded - fees,
      records: 35,
    });
    expect(summary.totals.books).toMatchObject({ grossCents: gross, refundsCents: -refunded, records: 35 });
    expect(summary.payouts).toEqual([
      expect.objectContaining({
        id: withdrawal.id,
        amountCents: gross - refunded - fees,
        transactions: 35,
        allMatched: true,
        transactionsListed: false,
        dayNetCents: gross - refunded - fees,
        matchesDayNet: true,
      }),
    ]);
  });

  it('names each class of discrepancy with its order', async () => {
    const day = isolatedDay();
    const start = dayStart(day);
    const { captures, refunds } = sandbox.store.generateDay({ day, captures: 12, refundEvery: 12 });
    const books = await booksForPayPal(captures, refunds);
    const [, refunded, changedAmount, changedFee, missing] = captures as [
      unknown,
      (typeof captures)[0],
      (typeof captures)[0],
      (typeof captures)[0],
      (typeof captures)[0],
    ];

    const pending = await createPendingOrder({ provider: 'paypal' });
    const unknown = sandbox.store.injectCapture({
      amountMinor: pending.order.totalCents,
      at: start + 7_200_000,
      customId: pending.order.id,
    });
    const dashboardRefund = sandbox.store.injectRefund({
      captureId: refunded.captureId,
      amountMinor: 700,
      at: start + 70_000_000,
    });
    sandbox.store.changeAmount(changedAmount.captureId, changedAmount.amountMinor - 100);
    sandbox.store.changeFee(changedFee.captureId, changedFee.feeMinor + 3);
    sandbox.store.remove(missing.captureId);

    const outcome = await reconcileDay({ provider: 'paypal', day });
    const summary = outcome.summary;
    if (!summary) throw new Error('no summary');
    expect(summary.source).toBe(await expectedBooksSource());
    const feesKnown = summary.source === 'money_ledger';
    const byReference = new Map((await linesOf(outcome.runId)).map((l) => [l.reference, l]));

    expect(byReference.get(unknown.captureId)).toMatchObject({ class: 'provider_only', orderId: pending.order.id });
    expect(byReference.get(unknown.captureId)?.explanation).toMatch(/PayPal took .* its webhook never arrived/);
    expect(byReference.get(dashboardRefund.refundId)).toMatchObject({
      class: 'provider_only',
      kind: 'refund',
      orderId: books.orderIdByReference.get(refunded.captureId),
    });
    expect(byReference.get(changedAmount.captureId)).toMatchObject({
      class: 'amount_differs',
      orderNumber: books.orderNumberByReference.get(changedAmount.captureId),
    });
    expect(byReference.get(changedFee.captureId)?.class).toBe(feesKnown ? 'fee_differs' : 'matched');
    expect(byReference.get(missing.captureId)).toMatchObject({
      class: 'books_only',
      orderId: books.orderIdByReference.get(missing.captureId),
    });
    // 12 captures + 1 refund, one removed, two injected: 14 records.
    expect(summary.counts).toEqual({
      matched: feesKnown ? 10 : 11,
      amount_differs: 1,
      fee_differs: feesKnown ? 1 : 0,
      provider_only: 2,
      books_only: 1,
      account_fee: 0,
    });
    const again = await reconcileDay({ provider: 'paypal', day, restart: true });
    expect(again.summary?.counts).toEqual(summary.counts);
    expect(await runsOfDay('paypal', day)).toEqual([{ id: again.runId, status: 'completed' }]);
  });

  it("a withdrawal says it does not list its transactions; equal to the day's net it matches, else it is a named mismatch", async () => {
    const day = isolatedDay();
    const start = dayStart(day);
    const { captures, refunds } = sandbox.store.generateDay({ day, captures: 10, refundEvery: 5 });
    await booksForPayPal(captures, refunds);
    const net = (cs: typeof captures, rs: typeof refunds) =>
      cs.reduce((s, c) => s + c.amountMinor - c.feeMinor, 0) - rs.reduce((s, r) => s + r.amountMinor, 0);
    // Two withdrawals: at noon, the net of the morning (it matches); at the day's end, the net of the afternoon plus
    // 12.34 USD nobody can trace to a transaction (a named mismatch).
    const noon = start + 43_200_000;
    const firstHalf = { captures: captures.filter((c) => c.at <= noon), refunds: refunds.filter((r) => r.at <= noon) };
    const secondHalf = { captures: captures.filter((c) => c.at > noon), refunds: refunds.filter((r) => r.at > noon) };
    expect(firstHalf.captures.length).toBeGreaterThan(0);
    expect(secondHalf.captures.length).toBeGreaterThan(0);
    const morning = sandbox.store.withdraw({ at: noon, amountMinor: net(firstHalf.captures, firstHalf.refunds) });
    const evening = sandbox.store.withdraw({
      at: start + 86_300_000,
      // The afternoon's sales less the account fee below (3.00 USD, before the withdrawal), plus the 12.34.
      amountMinor: net(secondHalf.captures, secondHalf.refunds) - 300 + 1_234,
    });
    const fee = sandbox.store.injectAccountFee({ amountMinor: 300, at: start + 80_000_000 });

    const outcome = await reconcileDay({ provider: 'paypal', day });
    const summary = outcome.summary;
    if (!summary) throw new Error('no summary');
    const [first, second] = summary.payouts;
    expect(first).toMatchObject({
      id: morning.id,
      transactionsListed: false,
      matchesDayNet: true,
      dayNetCents: net(firstHalf.captures, firstHalf.refunds),
      transactions: firstHalf.captures.length + firstHalf.refunds.length,
      allMatched: true,
    });
    expect(first?.explanation).toMatch(/PayPal does not say which transactions a withdrawal pays out; it matches the day's net/);
    expect(second).toMatchObject({ id: evening.id, transactionsListed: false, matchesDayNet: false });
    expect((second?.amountCents ?? 0) - (second?.dayNetCents ?? 0)).toBe(1_234);
    expect(second?.explanation).toMatch(/does not match the day's net: .* a difference of 12\.34 USD/);

    const lines = await linesOf(outcome.runId);
    const payoutLines = lines.filter((l) => l.kind === 'payout');
    expect(payoutLines.map((l) => [l.providerRecordId, l.class])).toEqual([
      [morning.id, 'matched'],
      [evening.id, 'amount_differs'],
    ]);
    expect(lines.find((l) => l.providerRecordId === fee.id)).toMatchObject({ class: 'account_fee', kind: 'fee', orderId: null });
    // 12 transactions (10 captures, 2 refunds) + the fee; payouts apart from the totals, counted as lines.
    expect(summary.totals.provider.records).toBe(13);
    expect(summary.counts).toEqual({
      matched: 13,
      amount_differs: 1,
      fee_differs: 0,
      provider_only: 0,
      books_only: 0,
      account_fee: 1,
    });
    expect(summary.mismatches).toBe(1);
    const report = await getReconciliationReport({ day, provider: 'paypal' });
    expect(report.providers[0]?.mismatches).toEqual([
      expect.objectContaining({ class: 'amount_differs', kind: 'payout', providerRecordId: evening.id, payoutId: evening.id }),
    ]);
  });

  it('reconciles 1,200 transactions in a day completely (pages of 500)', async () => {
    const day = isolatedDay();
    const { captures, refunds } = sandbox.store.generateDay({ day, captures: 1_000, refundEvery: 5 });
    expect(captures.length + refunds.length).toBe(1_200);
    await booksForPayPal(captures, refunds);
    const before = sandbox.requests.filter((r) => r.path === '/v1/reporting/transactions').length;
    const outcome = await reconcileDay({ provider: 'paypal', day });
    const searches = sandbox.requests.filter((r) => r.path === '/v1/reporting/transactions').slice(before);
    expect(searches.map((r) => r.query.page)).toEqual(['1', '2', '3']);
    expect(searches.every((r) => r.query.fields === 'all' && r.query.page_size === '500')).toBe(true);
    expect(outcome.recordsTotal).toBe(1_200);
    expect(outcome.summary?.counts.matched).toBe(1_200);
    expect(outcome.summary?.mismatches).toBe(0);
  });

  it('narrows the time window when PayPal refuses a result set as too large', async () => {
    const small = await startPayPalReportingSandbox({ maxResultItems: 50 });
    try {
      configureProviders({ paypal: small.url });
      const day = isolatedDay();
      const { captures, refunds } = small.store.generateDay({ day, captures: 150, refundEvery: 10 });
      await booksForPayPal(captures, refunds);
      const outcome = await reconcileDay({ provider: 'paypal', day });
      expect(outcome.recordsTotal).toBe(165);
      expect(outcome.summary?.counts.matched).toBe(165);
      const searches = small.requests.filter((r) => r.path === '/v1/reporting/transactions');
      expect(searches.length).toBeGreaterThan(4);
    } finally {
      await small.close();
      configureProviders({ paypal: sandbox.url });
    }
  });
});
