import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStripeClient } from '../../lib/providers/stripe-client.js';
import type { PayPalReportingStore } from '../../sandbox/paypal/reporting.js';
import {
  type ReportingSandbox,
  startPayPalReportingSandbox,
  startStripeReportingSandbox,
} from '../../sandbox/reporting-servers.js';
import { dayStartSeconds, type StripeReportingStore, stripeFee } from '../../sandbox/stripe/reporting.js';

/** The sandboxes' reporting endpoints as the SDKs and PayPal's spec expect them. */

let stripe: ReportingSandbox<StripeReportingStore>;
let paypal: ReportingSandbox<PayPalReportingStore>;

beforeAll(async () => {
  stripe = await startStripeReportingSandbox();
  paypal = await startPayPalReportingSandbox();
});

afterAll(async () => {
  await stripe?.close();
  await paypal?.close();
});

describe('Stripe GET /v1/balance_transactions and /v1/payouts', () => {
  it('lists newest first within the created range, pages with starting_after / ending_before, expands the source', async () => {
    const client = createStripeClient({ secretKey: 'sk_test_reporting', apiBaseUrl: stripe.url, maxNetworkRetries: 0 });
    const day = '2021-03-04';
    const start = dayStartSeconds(day);
    const { charges, refunds } = stripe.store.generateDay({ day, charges: 25, refundEvery: 5 });
    stripe.store.injectCharge({ amount: 999, created: start - 1 });
    stripe.store.injectCharge({ amount: 999, created: start + 86_400 });
    const all: string[] = [];
    for await (const bt of client.balanceTransactions.list({ created: { gte: start, lt: start + 86_400 }, limit: 7 })) {
      all.push(bt.id);
    }
    expect(all).toHaveLength(30);
    expect(new Set(all).size).toBe(30);
    const page = await client.balanceTransactions.list({
      created: { gte: start, lt: start + 86_400 },
      limit: 3,
      expand: ['data.source'],
    });
    expect(page.has_more).toBe(true);
    const newest = page.data[0];
    if (!newest) throw new Error('empty page');
    expect(newest.created).toBeGreaterThanOrEqual(page.data[2]?.created ?? 0);
    expect(typeof newest.source).toBe('object');
    const before = await client.balanceTransactions.list({ created: { gte: start }, ending_before: page.data[2]?.id, limit: 2 });
    expect(before.data.map((b) => b.id)).toEqual(page.data.slice(0, 2).map((b) => b.id));

    const charge = charges[4];
    if (!charge) throw new Error('no charge');
    const bt = await client.balanceTransactions.retrieve(charge.balanceTransactionId);
    expect(bt).toMatchObject({
      type: 'charge',
      amount: charge.amount,
      fee: stripeFee(charge.amount),
      net: charge.amount - charge.fee,
    });
    expect(bt.fee_details).toEqual([expect.objectContaining({ type: 'stripe_fee', amount: charge.fee })]);
    const refundBt = await client.balanceTransactions.retrieve((refunds[0] as (typeof refunds)[0]).balanceTransactionId);
    expect(refundBt).toMatchObject({ type: 'refund', amount: -(refunds[0]?.amount ?? 0), fee: 0, fee_details: [] });

    const payout = stripe.store.createPayout({ created: start + 86_300 });
    const payouts = await client.payouts.list({ created: { gte: start } });
    expect(payouts.data.map((p) => p.id)).toContain(payout.id);
    const inPayout = [];
    for await (const t of client.balanceTransactions.list({ payout: payout.id, limit: 100 })) inPayout.push(t);
    expect(inPayout.filter((t) => t.type !== 'payout').length).toBeGreaterThanOrEqual(30);
  });

  it('answers Stripe-shaped errors for bad parameters', async () => {
    const client = createStripeClient({ secretKey: 'sk_test_reporting', apiBaseUrl: stripe.url, maxNetworkRetries: 0 });
    await expect(client.balanceTransactions.list({ limit: 101 })).rejects.toMatchObject({ statusCode: 400, param: 'limit' });
    await expect(client.balanceTransactions.retrieve('txn_missing')).rejects.toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
    });
  });
});

describe('PayPal GET /v1/reporting/transactions', () => {
  async function search(query: Record<string, string>) {
    const token = await fetch(`${paypal.url}/v1/oauth2/token`, { method: 'POST' }).then(
      (r) => r.json() as Promise<{ access_token: string }>,
    );
    const response = await fetch(`${paypal.url}/v1/reporting/transactions?${new URLSearchParams(query).toString()}`, {
      headers: { authorization: `Bearer ${token.access_token}` },
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  }

  it('pages the range with fields=all, signs refunds and fees, links the next page', async () => {
    const day = '2021-05-06';
    const { captures } = paypal.store.generateDay({ day, captures: 9, refundEvery: 3 });
    const first = await search({ start_date: `${day}T00:00:00Z`, end_date: `${day}T23:59:59Z`, fields: 'all', page_size: '5' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ page: 1, total_items: 12, total_pages: 3 });
    expect(first.body.links.map((l: { rel: string }) => l.rel)).toEqual(['self', 'next']);
    const info = first.body.transaction_details[0];
    expect(info).toHaveProperty('payer_info');
    const capture = captures[0];
    expect(info.transaction_info).toMatchObject({
      transaction_id: capture?.captureId,
      transaction_event_code: 'T0006',
      transaction_status: 'S',
    });
    expect(info.transaction_info.fee_amount.value.startsWith('-')).toBe(true);
    const refund = first.body.transaction_details.find(
      (d: { transaction_info: { transaction_event_code: string } }) => d.transaction_info.transaction_event_code === 'T1107',
    );
    expect(refund.transaction_info.transaction_amount.value.startsWith('-')).toBe(true);
    expect(refund.transaction_info.paypal_reference_id).toBe(capture?.captureId);
    const last = await search({ start_date: `${day}T00:00:00Z`, end_date: `${day}T23:59:59Z`, page_size: '5', page: '3' });
    expect(last.body.transaction_details).toHaveLength(2);
    expect(last.body.transaction_details[0]).not.toHaveProperty('payer_info');
  });

  it('refuses bad ranges and result sets over 10,000 items, as PayPal does', async () => {
    expect((await search({ end_date: '2021-01-01T00:00:00Z' })).status).toBe(400);
    const wide = await search({ start_date: '2021-01-01T00:00:00Z', end_date: '2021-03-01T00:00:00Z' });
    expect(wide.status).toBe(400);
    expect(wide.body.details[0].field).toBe('end_date');
    paypal.store.generateDay({ day: '2021-07-08', captures: 10_001 });
    const big = await search({ start_date: '2021-07-08T00:00:00Z', end_date: '2021-07-08T23:59:59Z' });
    expect(big.status).toBe(400);
    expect(big.body.details[0].issue).toBe('RESULTSET_TOO_LARGE');
    const half = await search({ start_date: '2021-07-08T00:00:00Z', end_date: '2021-07-08T11:59:59Z', page_size: '500' });
    expect(half.status).toBe(200);
    expect(half.body.transaction_details).toHaveLength(500);
  });
});
