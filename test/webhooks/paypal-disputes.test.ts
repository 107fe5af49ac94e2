import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as summaryRoute from '../../api/analytics/summary.js';
import { db } from '../../lib/db/client.js';
import { findLedgerMismatches, listLedgerForOrder } from '../../lib/db/models/money-ledger.js';
import { checkLedger } from '../../lib/ledger/check-ledger.js';
import type { PayPalSandbox } from '../../sandbox/paypal-sandbox.js';
import { type LocalServer, startLocalServer } from '../../scripts/local-server.js';
import { disputeOrder, makeOrder } from '../support/books.js';
import { startCheckout } from '../support/checkout.js';
import { checkoutBody, createEventWithTicketTypes } from '../support/factories.js';
import { call } from '../support/http.js';
import { startPayPalSandboxForApp } from '../support/providers.js';
import { rawFigures } from '../support/raw-books.js';
import { makeKey } from '../support/staff.js';
import { inboxRow, orderState } from './support.js';

/**
 * PayPal disputes (issue 13) through the real receive path: the sandbox opens and resolves a dispute on a
 * capture it made, signs CUSTOMER.DISPUTE.* like its other events and delivers them to our route; the ledger
 * gets `dispute_opened` / `dispute_won` / `dispute_lost` as for Stripe, the books stay balanced, duplicates
 * and races record once, and the analytics summary shows the dispute under PayPal.
 */

const WEBHOOK_ID = 'WH-TESTDISPUTES-0001';
let sandbox: PayPalSandbox;
let server: LocalServer;

beforeAll(async () => {
  process.env.PUBLIC_SITE_URL = 'http://localhost:3000';
  sandbox = await startPayPalSandboxForApp({ webhookId: WEBHOOK_ID });
  server = await startLocalServer({ port: 0 });
  sandbox.setWebhookTarget(`${server.url}/api/webhooks/paypal`, WEBHOOK_ID);
});

afterAll(async () => {
  await sandbox?.idle();
  await server?.close();
  await sandbox?.close();
});

/** An order paid with PayPal through checkout, approved and captured at the sandbox: its order and capture id. */
async function paidPayPalOrder(quantity = 2) {
  const { event, types } = await createEventWithTicketTypes({ pass: { priceCents: 6_000, capacity: 20 } });
  const { created, sessionId } = await startCheckout(
    checkoutBody(event, [{ ticketType: 'pass', quantity }], { provider: 'paypal' }),
    'disputes-test',
  );
  const approved = await sandbox.approve(sessionId);
  expect(approved.outcome).toBe('approved');
  await sandbox.idle();
  const state = await orderState(created.orderId, types.pass.id);
  expect(state.order.status).toBe('completed');
  const captureId = String(state.payments[0]?.providerPaymentId);
  expect(sandbox.getCapture(captureId)).toBeDefined();
  return { event, orderId: created.orderId, ticketTypeId: types.pass.id, captureId };
}

/**
 * The order's dispute movements as [kind, signed amount, contested amount]: the ledger signs what the festival
 * keeps (dispute_opened / dispute_won 0, dispute_lost minus the amount) and keeps the contested amount in
 * details.disputedCents (lib/ledger/record-movement.ts).
 */
async function disputeRows(orderId: string) {
  return (await listLedgerForOrder(db, orderId))
    .filter((e) => e.kind.startsWith('dispute_'))
    .map((e) => ({ ...e, contested: e.details?.disputedCents }));
}

async function expectBalanced(orderId: string) {
  expect(await findLedgerMismatches(db, orderId)).toEqual([]);
  // lib/ledger's check (what health and reconciliation run), on this order's payment: no mismatch.
  const check = await checkLedger({ since: new Date(Date.now() - 3_600_000) });
  expect(check.mismatches.filter((m) => m.orderId === orderId)).toEqual([]);
}

describe('PayPal CUSTOMER.DISPUTE.* → the ledger', () => {
  it('CREATED → dispute_opened with the disputed amount, money set aside, order flagged; books balanced', async () => {
    const paid = await paidPayPalOrder();
    const opened = await sandbox.openDispute(paid.captureId, { amountMinor: 5_000 });
    expect(opened.delivery.status).toBe(200);
    expect(opened.dispute).toMatchObject({
      status: 'OPEN',
      dispute_amount: { currency_code: 'USD', value: '50.00' },
      disputed_transactions: [{ seller_transaction_id: paid.captureId }],
    });
    expect(await inboxRow(String(opened.event.id), 'paypal')).toMatchObject({ status: 'processed' });
    const rows = await disputeRows(paid.orderId);
    expect(rows.map((r) => [r.kind, r.amountCents, r.contested, r.provider, r.providerRef])).toEqual([
      ['dispute_opened', 0, 5_000, 'paypal', opened.dispute.dispute_id],
    ]);
    const s = await orderState(paid.orderId, paid.ticketTypeId);
    expect(s.order.attentionReason).toBe('disputed');
    expect(s.payments[0]).toMatchObject({ disputedCents: 5_000 });
    await expectBalanced(paid.orderId);

    // UPDATED (under review, now a chargeback): a status change, no money.
    const updated = await sandbox.updateDispute(String(opened.dispute.dispute_id), 'UNDER_REVIEW', 'CHARGEBACK');
    expect(updated.delivery.status).toBe(200);
    expect(await inboxRow(String(updated.event.id), 'paypal')).toMatchObject({ status: 'processed' });
    expect((await disputeRows(paid.orderId)).map((r) => r.kind)).toEqual(['dispute_opened']);
    const after = await orderState(paid.orderId, paid.ticketTypeId);
    expect(after.payments[0]).toMatchObject({ disputedCents: 5_000 });
    expect(after.audit.filter((a) => a.action === 'dispute_updated')).toHaveLength(1);
  });

  it('RESOLVED in the buyer’s favour → dispute_lost; the money stays withheld; books balanced', async () => {
    const paid = await paidPayPalOrder();
    const opened = await sandbox.openDispute(paid.captureId);
    const resolved = await sandbox.resolveDispute(String(opened.dispute.dispute_id), 'RESOLVED_BUYER_FAVOUR');
    expect(resolved.delivery.status).toBe(200);
    expect(await inboxRow(String(resolved.event.id), 'paypal')).toMatchObject({ status: 'processed' });
    expect((await disputeRows(paid.orderId)).map((r) => [r.kind, r.amountCents, r.contested])).toEqual([
      ['dispute_opened', 0, 12_000],
      ['dispute_lost', -12_000, 12_000],
    ]);
    const s = await orderState(paid.orderId, paid.ticketTypeId);
    expect(s.payments[0]).toMatchObject({ disputedCents: 12_000 });
    expect(s.audit.filter((a) => a.action === 'dispute_lost')).toHaveLength(1);
    await expectBalanced(paid.orderId);
  });

  it('RESOLVED in the seller’s favour → dispute_won; the money is the payment’s again; books balanced', async () => {
    const paid = await paidPayPalOrder();
    const opened = await sandbox.openDispute(paid.captureId, { amountMinor: 3_000 });
    await sandbox.resolveDispute(String(opened.dispute.dispute_id), 'RESOLVED_SELLER_FAVOUR');
    expect((await disputeRows(paid.orderId)).map((r) => [r.kind, r.amountCents, r.contested])).toEqual([
      ['dispute_opened', 0, 3_000],
      ['dispute_won', 0, 3_000],
    ]);
    const s = await orderState(paid.orderId, paid.ticketTypeId);
    expect(s.payments[0]).toMatchObject({ disputedCents: 0 });
    await expectBalanced(paid.orderId);
  });

  it('a dispute on a capture we do not know → 200, stored and ignored, nothing on the ledger', async () => {
    const dispute = {
      dispute_id: 'PP-D-UNKNOWN1',
      disputed_transactions: [{ seller_transaction_id: 'NOSUCHCAPTURE01' }],
      reason: 'UNAUTHORISED',
      status: 'OPEN',
      dispute_amount: { currency_code: 'USD', value: '10.00' },
    };
    const event = sandbox.buildEvent('CUSTOMER.DISPUTE.CREATED', 'dispute', dispute);
    const delivery = await sandbox.deliverEvent(event);
    expect(delivery.status).toBe(200);
    expect(await inboxRow(String(event.id), 'paypal')).toMatchObject({ status: 'ignored' });
  });

  it('20× the same CREATED at once, then 20 RESOLVED envelopes of it at once → one opened row, one lost row', async () => {
    const paid = await paidPayPalOrder();
    sandbox.setWebhookTarget(undefined); // opened at PayPal; every delivery below is ours
    const opened = await sandbox.openDispute(paid.captureId, { amountMinor: 4_000 });
    sandbox.setWebhookTarget(`${server.url}/api/webhooks/paypal`, WEBHOOK_ID);
    const eventId = String(opened.event.id);
    const resends = await Promise.all(Array.from({ length: 20 }, () => sandbox.resendEvent(eventId)));
    expect(resends.map((d) => d.status)).toEqual(Array(20).fill(200));
    expect((await disputeRows(paid.orderId)).map((r) => [r.kind, r.amountCents, r.contested])).toEqual([
      ['dispute_opened', 0, 4_000],
    ]);

    // PayPal may send the resolution under several event ids (RESOLVED, and an UPDATED with status RESOLVED).
    sandbox.setWebhookTarget(undefined);
    const resolved = await sandbox.resolveDispute(String(opened.dispute.dispute_id), 'RESOLVED_BUYER_FAVOUR');
    sandbox.setWebhookTarget(`${server.url}/api/webhooks/paypal`, WEBHOOK_ID);
    const envelopes = Array.from({ length: 20 }, (_, i) =>
      sandbox.buildEvent(i % 2 ? 'CUSTOMER.DISPUTE.UPDATED' : 'CUSTOMER.DISPUTE.RESOLVED', 'dispute', resolved.dispute),
    );
    const deliveries = await Promise.all(envelopes.map((e) => sandbox.deliverEvent(e)));
    expect(deliveries.map((d) => d.status)).toEqual(Array(20).fill(200));
    expect((await disputeRows(paid.orderId)).map((r) => [r.kind, r.amountCents, r.contested])).toEqual([
      ['dispute_opened', 0, 4_000],
      ['dispute_lost', -4_000, 4_000],
    ]);
    const s = await orderState(paid.orderId, paid.ticketTypeId);
    expect(s.audit.filter((a) => a.action === 'payment_disputed')).toHaveLength(1);
    expect(s.audit.filter((a) => a.action === 'dispute_lost')).toHaveLength(1);
    await expectBalanced(paid.orderId);
  });

  it('the analytics summary shows the PayPal disputes as the raw tables give them, per provider', async () => {
    const won = await paidPayPalOrder();
    const key = await makeKey(['analytics:read']);
    // Both orders under one festival: the second checkout in the first one's event.
    const { created, sessionId } = await startCheckout(
      checkoutBody(won.event, [{ ticketType: 'pass', quantity: 1 }], { provider: 'paypal' }),
      'disputes-test',
    );
    await sandbox.approve(sessionId);
    await sandbox.idle();
    const lostCapture = String((await orderState(created.orderId, won.ticketTypeId)).payments[0]?.providerPaymentId);
    const a = await sandbox.openDispute(won.captureId, { amountMinor: 2_000 });
    await sandbox.resolveDispute(String(a.dispute.dispute_id), 'RESOLVED_SELLER_FAVOUR');
    const b = await sandbox.openDispute(lostCapture);
    await sandbox.resolveDispute(String(b.dispute.dispute_id), 'RESOLVED_BUYER_FAVOUR');

    // A Stripe order of the same festival, disputed and lost through the same lib/disputes functions the Stripe
    // handlers call: both providers' disputes side by side.
    const stripeOrder = await makeOrder({
      eventId: won.event.id,
      provider: 'stripe',
      percent: 0,
      items: [{ ticketTypeId: won.ticketTypeId, unitPriceCents: 6_000, quantity: 1, slidingScale: false }],
      at: new Date(),
    });
    await disputeOrder(stripeOrder, 6_000, new Date(), { status: 'lost', at: new Date() });

    const res = await call(summaryRoute.GET, {
      path: '/api/analytics/summary',
      query: { event: won.event.slug },
      headers: key.header,
    });
    expect(res.status, res.text).toBe(200);
    const from = new Date(res.body.range.from);
    const to = new Date(res.body.range.to);
    const disputesOf = (raw: Awaited<ReturnType<typeof rawFigures>>) => ({
      opened: raw.disputesOpened,
      disputedCents: raw.disputedCents,
      won: raw.disputesWon,
      lost: raw.disputesLost,
      lostCents: raw.lostCents,
    });
    const paypalRaw = await rawFigures(won.event.id, from, to, 'paypal');
    expect(disputesOf(paypalRaw)).toEqual({ opened: 2, disputedCents: 8_000, won: 1, lost: 1, lostCents: 6_000 });
    expect(res.body.providers.paypal.money.disputes).toEqual(disputesOf(paypalRaw));
    expect(res.body.money.disputes).toEqual(disputesOf(await rawFigures(won.event.id, from, to)));
    const stripeRaw = await rawFigures(won.event.id, from, to, 'stripe');
    expect(disputesOf(stripeRaw)).toEqual({ opened: 1, disputedCents: 6_000, won: 0, lost: 1, lostCents: 6_000 });
    expect(res.body.providers.stripe.money.disputes).toEqual(disputesOf(stripeRaw));
    expect(res.body.money.disputes).toMatchObject({ opened: 3, won: 1, lost: 2, lostCents: 12_000 });
    const money = res.body.providers.paypal.money;
    expect(money.netCents).toBe(paypalRaw.net);
    expect(money.netCents).toBe(money.grossCents - money.refundsCents - money.feesCents - money.disputes.lostCents);
  });
});
