import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as cronRoute from '../../api/cron/reconcile.js';
import * as route from '../../api/reconciliation.js';
import { reconcileDay } from '../../lib/reconciliation/reconcile-day.js';
import { reconcileYesterday } from '../../lib/reconciliation/reconcile-yesterday.js';
import { reconcileCronResponseSchema, reconciliationReportResponseSchema } from '../../lib/reconciliation/schemas.js';
import { RECONCILIATION_CSV_COLUMNS } from '../../lib/reconciliation/get-reconciliation-report.js';
import type { PayPalReportingStore } from '../../sandbox/paypal/reporting.js';
import {
  type ReportingSandbox,
  startPayPalReportingSandbox,
  startStripeReportingSandbox,
} from '../../sandbox/reporting-servers.js';
import type { StripeReportingStore } from '../../sandbox/stripe/reporting.js';
import { makeKey } from '../support/staff.js';
import { call } from '../support/http.js';
import { isolatedDay } from '../support/recon-books.js';
import { booksForPayPal, booksForStripe, configureProviders, STRIPE_KEY, unconfigureProviders } from './support.js';

/** GET /api/reconciliation (finance:read, JSON and CSV), the reconcile cron and npm run reconcile. */

let stripe: ReportingSandbox<StripeReportingStore>;
let paypal: ReportingSandbox<PayPalReportingStore>;
let day: string;

beforeAll(async () => {
  stripe = await startStripeReportingSandbox();
  paypal = await startPayPalReportingSandbox();
  configureProviders({ stripe: stripe.url, paypal: paypal.url });
  process.env.CRON_SECRET = 'recon-cron-secret';
  day = isolatedDay();
  const s = stripe.store.generateDay({ day, charges: 12, refundEvery: 6 });
  const p = paypal.store.generateDay({ day, captures: 8, refundEvery: 4 });
  await booksForStripe(s.charges, s.refunds);
  await booksForPayPal(p.captures, p.refunds);
  stripe.store.changeAmount((s.charges[3] as (typeof s.charges)[0]).chargeId, 1);
  paypal.store.remove((p.captures[2] as (typeof p.captures)[0]).captureId);
  await reconcileDay({ provider: 'stripe', day });
  await reconcileDay({ provider: 'paypal', day });
});

afterAll(async () => {
  await stripe?.close();
  await paypal?.close();
  delete process.env.CRON_SECRET;
  unconfigureProviders();
});

const get = (query: Record<string, string>, headers: Record<string, string> = {}) =>
  call(route.GET, { path: '/api/reconciliation', query, headers });

describe('GET /api/reconciliation', () => {
  it('answers the day: summary per provider and every mismatch with its order and explanation', async () => {
    const key = await makeKey(['finance:read']);
    const response = await get({ date: day }, key.header);
    expect(response.status).toBe(200);
    const report = reconciliationReportResponseSchema.parse(response.body);
    expect(report.providers.map((p) => p.provider)).toEqual(['paypal', 'stripe']);
    const [pp, st] = report.providers as [(typeof report.providers)[0], (typeof report.providers)[0]];
    expect(st.summary.counts).toMatchObject({ matched: 13, amount_differs: 1 });
    expect(st.mismatches).toEqual([
      expect.objectContaining({ class: 'amount_differs', providerAmountCents: 1, orderNumber: expect.stringMatching(/^ALB-/) }),
    ]);
    expect(pp.summary.counts).toMatchObject({ matched: 9, books_only: 1 });
    expect(pp.mismatches[0]?.explanation).toMatch(/PayPal's report for the day has no such transaction/);

    const one = await get({ date: day, provider: 'stripe' }, key.header);
    expect(one.body.providers).toHaveLength(1);
  });

  it('exports every line as CSV', async () => {
    const key = await makeKey(['finance:read']);
    const response = await get({ date: day, format: 'csv' }, key.header);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/csv');
    const rows = response.text.trim().split('\r\n');
    expect(rows[0]).toBe(RECONCILIATION_CSV_COLUMNS.join(','));
    expect(rows.length - 1).toBe(14 + 10);
    expect(rows.filter((r) => r.includes(',amount_differs,'))).toHaveLength(1);
  });

  it('says per payout whether its transactions are listed, lists account fees apart, and exports both as CSV', async () => {
    const other = isolatedDay();
    const start = Date.parse(`${other}T00:00:00Z`);
    const s = stripe.store.generateDay({ day: other, charges: 4 });
    const p = paypal.store.generateDay({ day: other, captures: 4 });
    await booksForStripe(s.charges, s.refunds);
    await booksForPayPal(p.captures, p.refunds);
    const fee = stripe.store.injectStripeFee({
      amount: 1_999,
      created: start / 1000 + 80_000,
      description: 'Radar for Fraud Teams',
    });
    const dayNet = p.captures.reduce((sum, c) => sum + c.amountMinor - c.feeMinor, 0);
    const withdrawal = paypal.store.withdraw({ at: start + 86_000_000, amountMinor: dayNet + 500 });
    await reconcileDay({ provider: 'stripe', day: other });
    await reconcileDay({ provider: 'paypal', day: other });

    const key = await makeKey(['finance:read']);
    // call() validates the answer against the OpenAPI document (lib/contract): the new fields are in it.
    const response = await get({ date: other }, key.header);
    expect(response.status).toBe(200);
    const report = reconciliationReportResponseSchema.parse(response.body);
    const [pp, st] = report.providers as [(typeof report.providers)[0], (typeof report.providers)[0]];
    expect(st.summary.counts).toMatchObject({ matched: 4, account_fee: 1 });
    expect(st.summary.mismatches).toBe(0);
    expect(st.mismatches).toEqual([]);
    expect(st.accountFees).toEqual([
      expect.objectContaining({ class: 'account_fee', kind: 'fee', providerRecordId: fee.id, orderId: null }),
    ]);
    expect(pp.summary.payouts).toEqual([
      expect.objectContaining({
        id: withdrawal.id,
        amountCents: dayNet + 500,
        transactionsListed: false,
        dayNetCents: dayNet,
        matchesDayNet: false,
        explanation: expect.stringContaining('PayPal does not say which transactions a withdrawal pays out'),
      }),
    ]);
    expect(pp.mismatches).toEqual([
      expect.objectContaining({ class: 'amount_differs', kind: 'payout', providerRecordId: withdrawal.id }),
    ]);

    const csv = await get({ date: other, format: 'csv' }, key.header);
    const rows = csv.text.trim().split('\r\n');
    expect(rows.filter((r) => r.startsWith('stripe,') && r.includes(',account_fee,fee,'))).toHaveLength(1);
    const payoutRows = rows.filter((r) => r.startsWith('paypal,') && r.includes(',amount_differs,payout,'));
    expect(payoutRows).toHaveLength(1);
    expect(payoutRows[0]).toContain('does not match the day');
  });

  it('refuses without the scope, and names what is wrong', async () => {
    expect((await get({ date: day })).status).toBe(401);
    const analytics = await makeKey(['analytics:read', 'payments:read']);
    const forbidden = await get({ date: day }, analytics.header);
    expect(forbidden.status).toBe(403);
    const key = await makeKey(['finance:read']);
    const bad = await get({ date: '2026-13-01' }, key.header);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_ERROR');
    const missing = await get({ date: '2014-01-01' }, key.header);
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toContain('npm run reconcile -- --date 2014-01-01');
  });
});

describe('the reconcile cron', () => {
  it('reconciles yesterday for each configured provider, and leaves a completed day alone', async () => {
    const target = isolatedDay();
    const s = stripe.store.generateDay({ day: target, charges: 5 });
    await booksForStripe(s.charges, s.refunds);
    const now = new Date(Date.parse(`${target}T02:00:00Z`) + 86_400_000);
    const first = reconcileCronResponseSchema.parse(await reconcileYesterday({ timeBudgetMs: 30_000, now }));
    expect(first.day).toBe(target);
    expect(first.providers).toEqual([
      expect.objectContaining({ outcome: 'ran', provider: 'stripe', status: 'completed', recordsTotal: 5, mismatches: 0 }),
      expect.objectContaining({ outcome: 'ran', provider: 'paypal', status: 'completed', recordsTotal: 0 }),
    ]);
    const again = await reconcileYesterday({ timeBudgetMs: 30_000, now });
    expect(again.providers[0]).toMatchObject({ status: 'completed', recordsThisCall: 0, runId: first.providers[0]?.runId });
  });

  it('GET /api/cron/reconcile needs CRON_SECRET', async () => {
    expect((await call(cronRoute.GET, { path: '/api/cron/reconcile' })).status).toBe(401);
    const ok = await call(cronRoute.GET, { path: '/api/cron/reconcile', headers: { authorization: 'Bearer recon-cron-secret' } });
    expect(ok.status).toBe(200);
    reconcileCronResponseSchema.parse(ok.body);
  });
});

describe('npm run reconcile', () => {
  it('reconciles a day from the command line and exits 1 when there are mismatches', async () => {
    const run = promisify(execFile);
    const env = { ...process.env, STRIPE_SECRET_KEY: STRIPE_KEY, STRIPE_API_BASE: stripe.url, LOG_LEVEL: 'silent' };
    const failed = await run(
      process.execPath,
      ['--import', 'tsx', 'scripts/reconcile.ts', '--date', day, '--provider', 'stripe'],
      {
        env,
      },
    ).catch((error: { code: number; stdout: string }) => error);
    expect('code' in failed ? failed.code : 0).toBe(1);
    const line = JSON.parse(failed.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(line).toMatchObject({ provider: 'stripe', day, summary: { mismatches: 1, counts: { matched: 13 } } });
    const usage = await run(process.execPath, ['--import', 'tsx', 'scripts/reconcile.ts', '--date', 'yesterday'], { env }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect('code' in usage ? usage.code : 0).toBe(2);
  });
});
