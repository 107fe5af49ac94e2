import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { db, transaction } from '../../lib/db/client.js';
import { closeDisputeInTx, openDisputeInTx } from '../../lib/disputes/record-dispute.js';
import { getReconciliationReport } from '../../lib/reconciliation/get-reconciliation-report.js';
import { reconcileDay } from '../../lib/reconciliation/reconcile-day.js';
import type { GeneratedCharge, StripeReportingStore } from '../../sandbox/stripe/reporting.js';
import { dayStartSeconds } from '../../sandbox/stripe/reporting.js';
import { isolatedDay, seedBooks } from '../support/recon-books.js';
import { type ReportingSandbox, startStripeReportingSandbox } from '../../sandbox/reporting-servers.js';
import { createPendingOrder } from '../webhooks/support.js';
import { expectedBooksSource, booksForStripe, configureProviders, linesOf, runsOfDay, unconfigureProviders } from './support.js';

/**
 * Stripe reconciliation against the sandbox's balance transactions (real stripe SDK, auto-pagination,
 * expand data.source) and our books in PostgreSQL: a clean day, then one discrepancy of each class.
 */

let sandbox: ReportingSandbox<StripeReportingStore>;
type Charge = GeneratedCharge;

beforeAll(async () => {
  sandbox = await startStripeReportingSandbox();
  configureProviders({ stripe: sandbox.url });
});

afterAll(async () => {
  await sandbox?.close();
  unconfigureProviders();
});

describe('Stripe daily reconciliation', () => {
  it('a clean day: every transaction matched, totals equal, the payout fully matched', async () => {
    const day = isolatedDay();
    const { charges, refunds } = sandbox.store.generateDay({ day, charges: 40, refundEvery: 8 });
    await booksForStripe(charges, refunds);
    const payout = sandbox.store.createPayout({ created: dayStartSeconds(day) + 86_300 });

    const outcome = await reconcileDay({ provider: 'stripe', day });
    expect(outcome.status).toBe('completed');
    const summary = outcome.summary;
    if (!summary) throw new Error('no summary');
    expect(summary.counts).toEqual({
      matched: 45,
      amount_differs: 0,
      fee_differs: 0,
      provider_only: 0,
      books_only: 0,
      account_fee: 0,
    });
    expect(summary.mismatches).toBe(0);
    const gross = charges.reduce((s, c) => s + c.amount, 0);
    const refunded = refunds.reduce((s, r) => s + r.amount, 0);
    const fees = charges.reduce((s, c) => s + c.fee, 0);
    expect(summary.totals.provider).toEqual({
      grossCents: gross,
      refundsCents: -refunded,
      feesCents: fees,
      netCents: gross - refunded - fees,
      records: 45,
    });
    expect(summary.totals.books.grossCents).toBe(gross);
    expect(summary.totals.books.refundsCents).toBe(-refunded);
    expect(summary.totals.books.records).toBe(45);
    if (summary.source === 'money_ledger') expect(summary.totals.books.feesCents).toBe(fees);
    else expect(summary.totals.books.feesCents).toBeNull();
    expect(summary.payouts).toEqual([
      expect.objectContaining({
        id: payout.id,
        amountCents: gross - refunded - fees,
        transactions: 45,
        matched: 45,
        allMatched: true,
        transactionsListed: true,
        matchesDayNet: null,
        explanation: expect.stringMatching(/Stripe lists the 45 transaction\(s\) it paid out: every one is matched/),
      }),
    ]);
    const paidOut = await db.queryOne<{ n: number }>(
      'SELECT count(*)::int AS n FROM reconciliation_lines WHERE run_id = $1 AND payout_id = $2',
      [outcome.runId, payout.id],
    );
    expect(paidOut?.n).toBe(45);
  });

  it('names each class of discrepancy with its order, and counts the rest as matched', async () => {
    const day = isolatedDay();
    const start = dayStartSeconds(day);
    const { charges, refunds } = sandbox.store.generateDay({ day, charges: 20, refundEvery: 10 });
    const books = await booksForStripe(charges, refunds);
    const [, refunded, changedAmount, changedFee, missing] = charges as [
      unknown,
      (typeof charges)[0],
      (typeof charges)[0],
      (typeof charges)[0],
      (typeof charges)[0],
    ];

    // A paid checkout whose webhook never came: money at Stripe, the order still pending here.
    const pending = await createPendingOrder();
    const unknown = sandbox.store.injectCharge({
      amount: pending.order.totalCents,
      created: start + 3_600,
      orderId: pending.order.id,
    });
    const stranger = sandbox.store.injectCharge({ amount: 4_200, created: start + 3_700 });
    const dashboardRefund = sandbox.store.injectRefund({
      chargeId: refunded.chargeId,
      paymentIntentId: refunded.paymentIntentId,
      amount: 1_000,
      currency: 'usd',
      created: start + 80_000,
    });
    sandbox.store.changeAmount(changedAmount.chargeId, changedAmount.amount + 500);
    sandbox.store.changeFee(changedFee.chargeId, changedFee.fee + 17);
    sandbox.store.remove(missing.chargeId);

    const outcome = await reconcileDay({ provider: 'stripe', day });
    const summary = outcome.summary;
    if (!summary) throw new Error('no summary');
    expect(summary.source).toBe(await expectedBooksSource());
    const feesKnown = summary.source === 'money_ledger';
    const lines = await linesOf(outcome.runId);
    const byReference = new Map(lines.map((l) => [l.reference, l]));

    const u = byReference.get(unknown.paymentIntentId);
    expect(u).toMatchObject({
      class: 'provider_only',
      kind: 'charge',
      orderId: pending.order.id,
      orderNumber: pending.order.orderNumber,
    });
    expect(u?.explanation).toMatch(/no captured payment.*not paid in our books: its webhook never arrived/);
    expect(byReference.get(stranger.paymentIntentId)).toMatchObject({ class: 'provider_only', orderId: null });
    expect(byReference.get(stranger.paymentIntentId)?.explanation).toMatch(/No order of ours names it/);

    const r = byReference.get(dashboardRefund.refundId);
    expect(r).toMatchObject({
      class: 'provider_only',
      kind: 'refund',
      orderId: books.orderIdByReference.get(refunded.paymentIntentId),
    });
    expect(r?.explanation).toMatch(/refunded 10\.00 USD .* our books hold no such refund/);

    const a = byReference.get(changedAmount.paymentIntentId);
    expect(a).toMatchObject({
      class: 'amount_differs',
      orderNumber: books.orderNumberByReference.get(changedAmount.paymentIntentId),
    });
    expect(a?.explanation).toContain(`our books say`);

    expect(byReference.get(changedFee.paymentIntentId)?.class).toBe(feesKnown ? 'fee_differs' : 'matched');

    const m = byReference.get(missing.paymentIntentId);
    expect(m).toMatchObject({
      class: 'books_only',
      providerRecordId: null,
      orderId: books.orderIdByReference.get(missing.paymentIntentId),
    });
    expect(m?.explanation).toMatch(/report for the day has no such transaction/);

    // 20 charges + 2 refunds generated, one removed, three injected: 24 provider records.
    expect(summary.counts).toEqual({
      matched: feesKnown ? 19 : 20,
      amount_differs: 1,
      fee_differs: feesKnown ? 1 : 0,
      provider_only: 3,
      books_only: 1,
      account_fee: 0,
    });
    expect(summary.totals.provider.records).toBe(24);

    // Re-running the day replaces the run: one report, the same lines.
    const again = await reconcileDay({ provider: 'stripe', day, restart: true });
    expect(again.runId).not.toBe(outcome.runId);
    expect(again.summary?.counts).toEqual(summary.counts);
    expect(await runsOfDay('stripe', day)).toEqual([{ id: again.runId, status: 'completed' }]);
    expect((await linesOf(again.runId)).length).toBe(lines.length);
    // Without restart the completed report is returned as it is.
    const cached = await reconcileDay({ provider: 'stripe', day });
    expect(cached.runId).toBe(again.runId);
  });

  it('matches dispute adjustments with the disputes in our books, and puts account fees in their own class', async () => {
    const day = isolatedDay();
    const start = dayStartSeconds(day);
    const { charges } = sandbox.store.generateDay({ day, charges: 8 });
    const books = await booksForStripe(charges, []);
    expect(await expectedBooksSource()).toBe('money_ledger');
    const [ours, lost, differs, won] = charges as [Charge, Charge, Charge, Charge];
    const actor = { type: 'system' as const, id: 'test' };
    const disputeId = () => `dp_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
    const ourDispute = disputeId();
    const wonDispute = disputeId();
    const differsDispute = disputeId();
    await transaction(async (tx) => {
      const report = (c: Charge, id: string, amountCents = c.amount) => ({
        provider: 'stripe' as const,
        providerDisputeId: id,
        providerPaymentId: c.paymentIntentId,
        amountCents,
        currency: 'USD',
        reason: 'fraudulent',
        actor,
      });
      expect((await openDisputeInTx(tx, report(ours, ourDispute))).outcome).toBe('recorded');
      expect((await openDisputeInTx(tx, report(differs, differsDispute, differs.amount - 500))).outcome).toBe('recorded');
      expect((await closeDisputeInTx(tx, { ...report(won, wonDispute), status: 'won' })).outcome).toBe('recorded');
    });
    // At Stripe: the disputes' withdrawals (with the dispute fee), one we never heard of, a won one given back.
    const matched = sandbox.store.injectDispute({
      chargeId: ours.chargeId,
      paymentIntentId: ours.paymentIntentId,
      amount: ours.amount,
      disputeId: ourDispute,
      created: start + 50_000,
    });
    const unknown = sandbox.store.injectDispute({
      chargeId: lost.chargeId,
      paymentIntentId: lost.paymentIntentId,
      amount: lost.amount,
      created: start + 50_100,
    });
    const other = sandbox.store.injectDispute({
      chargeId: differs.chargeId,
      paymentIntentId: differs.paymentIntentId,
      amount: differs.amount,
      disputeId: differsDispute,
      created: start + 50_200,
    });
    const withdrawn = sandbox.store.injectDispute({
      chargeId: won.chargeId,
      paymentIntentId: won.paymentIntentId,
      amount: won.amount,
      disputeId: wonDispute,
      created: start + 50_300,
    });
    const reinstated = sandbox.store.injectDispute({
      chargeId: won.chargeId,
      paymentIntentId: won.paymentIntentId,
      amount: won.amount,
      disputeId: wonDispute,
      phase: 'reinstated',
      created: start + 60_000,
    });
    const fee = sandbox.store.injectStripeFee({
      amount: 2_500,
      description: 'Billing - Usage Fee (2026-06-01)',
      created: start + 70_000,
    });

    const outcome = await reconcileDay({ provider: 'stripe', day });
    const summary = outcome.summary;
    if (!summary) throw new Error('no summary');
    const byRecord = new Map((await linesOf(outcome.runId)).map((l) => [l.providerRecordId, l]));

    expect(byRecord.get(matched.balanceTransactionId)).toMatchObject({
      class: 'matched',
      kind: 'adjustment',
      reference: ourDispute,
      orderId: books.orderIdByReference.get(ours.paymentIntentId),
    });
    expect(byRecord.get(matched.balanceTransactionId)?.explanation).toMatch(
      /^Matched with dispute .* \(open in our books\): Stripe withdrew .* and kept a dispute fee of 15\.00 USD\. The dispute fee is an account cost/,
    );
    expect(byRecord.get(unknown.balanceTransactionId)).toMatchObject({
      class: 'provider_only',
      kind: 'adjustment',
      reference: unknown.disputeId,
      orderId: books.orderIdByReference.get(lost.paymentIntentId),
    });
    expect(byRecord.get(unknown.balanceTransactionId)?.explanation).toMatch(
      /our books hold no such dispute: its webhook never arrived/,
    );
    expect(byRecord.get(other.balanceTransactionId)).toMatchObject({
      class: 'amount_differs',
      orderId: books.orderIdByReference.get(differs.paymentIntentId),
    });
    expect(byRecord.get(other.balanceTransactionId)?.explanation).toMatch(/our books hold .* contested \(open\)/);
    for (const id of [withdrawn.balanceTransactionId, reinstated.balanceTransactionId]) {
      expect(byRecord.get(id)).toMatchObject({ class: 'matched', orderId: books.orderIdByReference.get(won.paymentIntentId) });
    }
    expect(byRecord.get(reinstated.balanceTransactionId)?.explanation).toMatch(/\(won in our books\): Stripe gave back/);

    const feeLine = byRecord.get(fee.id);
    expect(feeLine).toMatchObject({ class: 'account_fee', kind: 'fee', orderId: null });
    expect(feeLine?.explanation).toMatch(
      /^Account fee: not an order, book manually\. Stripe charged 25\.00 USD "Billing - Usage Fee/,
    );

    // 8 charges + 5 dispute adjustments + 1 account fee; 2 mismatches; the fee is counted apart, not as one.
    expect(summary.counts).toEqual({
      matched: 11,
      amount_differs: 1,
      fee_differs: 0,
      provider_only: 1,
      books_only: 0,
      account_fee: 1,
    });
    expect(summary.mismatches).toBe(2);
    expect(summary.totals.provider.records).toBe(14);
    // The report: mismatches without the account fee, which is listed apart to be booked by hand.
    const report = await getReconciliationReport({ day, provider: 'stripe' });
    const stripeReport = report.providers[0];
    expect(stripeReport?.mismatches.map((m) => m.class).sort()).toEqual(['amount_differs', 'provider_only']);
    expect(stripeReport?.accountFees).toEqual([
      expect.objectContaining({ class: 'account_fee', providerRecordId: fee.id, providerAmountCents: -2_500 }),
    ]);
  });

  it('reconciles 2,500 balance transactions in a day completely, across runs that continue from a cursor', async () => {
    const day = isolatedDay();
    const { charges, refunds } = sandbox.store.generateDay({ day, charges: 2_250, refundEvery: 9 });
    expect(charges.length + refunds.length).toBe(2_500);
    await booksForStripe(charges, refunds);

    // A time budget of 0: every call writes one chunk (a page) and stops; the next continues.
    let outcome = await reconcileDay({ provider: 'stripe', day, timeBudgetMs: 0 });
    let calls = 1;
    while (outcome.status !== 'completed') {
      outcome = await reconcileDay({ provider: 'stripe', day, timeBudgetMs: 0 });
      calls += 1;
    }
    expect(calls).toBeGreaterThanOrEqual(25);
    expect(outcome.recordsTotal).toBe(2_500);
    expect(outcome.summary?.counts.matched).toBe(2_500);
    expect(outcome.summary?.mismatches).toBe(0);
    const lines = await linesOf(outcome.runId);
    expect(lines.length).toBe(2_500);
    expect(new Set(lines.map((l) => l.providerRecordId)).size).toBe(2_500);
  });

  it('re-runs racing each other leave one report, each record once', async () => {
    const day = isolatedDay();
    const { charges, refunds } = sandbox.store.generateDay({ day, charges: 300 });
    await booksForStripe(charges, refunds);
    const results = await Promise.allSettled([1, 2, 3].map(() => reconcileDay({ provider: 'stripe', day, restart: true })));
    expect(results.some((r) => r.status === 'fulfilled' && r.value.status === 'completed')).toBe(true);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as { code?: string }).code).toBe('CONFLICT');
    const runs = await runsOfDay('stripe', day);
    expect(runs.map((r) => r.status)).toEqual(['completed']);
    const lines = await linesOf(runs[0]?.id as string);
    expect(lines).toHaveLength(300);
    expect(new Set(lines.map((l) => l.providerRecordId)).size).toBe(300);
    expect(lines.every((l) => l.class === 'matched')).toBe(true);
  });

  it('a refund recorded by its webhook while the run is under way is matched', async () => {
    const day = isolatedDay();
    const start = dayStartSeconds(day);
    const { charges, refunds } = sandbox.store.generateDay({ day, charges: 250 });
    await booksForStripe(charges, refunds);
    const first = charges[0] as (typeof charges)[0];
    // The oldest record of the day: read on the last page.
    const refund = sandbox.store.injectRefund({
      chargeId: first.chargeId,
      paymentIntentId: first.paymentIntentId,
      amount: 700,
      currency: 'usd',
      created: start + 1,
    });
    const partial = await reconcileDay({ provider: 'stripe', day, restart: true, timeBudgetMs: 0 });
    expect(partial.status).toBe('incomplete');
    // The refund's webhook arrives now and records it in our books.
    await seedBooks(
      'stripe',
      [],
      [
        {
          reference: refund.refundId,
          paymentReference: first.paymentIntentId,
          amountCents: 700,
          at: new Date((start + 1) * 1000),
        },
      ],
    );
    let outcome = partial;
    while (outcome.status !== 'completed') outcome = await reconcileDay({ provider: 'stripe', day });
    expect(outcome.summary?.counts).toMatchObject({ matched: 251, provider_only: 0, books_only: 0 });
  });
});
