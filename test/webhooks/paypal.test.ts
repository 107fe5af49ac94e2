import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturePayPalOrder } from '../../lib/checkout/capture-paypal-order.js';
import { expireHeldOrderInTx } from '../../lib/checkout/holds.js';
import { parseConfig } from '../../lib/config.js';
import { db, transaction } from '../../lib/db/client.js';
import { findLedgerMismatches, listLedgerForOrder } from '../../lib/db/models/money-ledger.js';
import { createPayPalClient, type PayPalClients } from '../../lib/providers/paypal-client.js';
import { allowedPayPalCertOrigins } from '../../lib/webhooks/paypal/verify.js';
import type { PayPalSandbox } from '../../sandbox/paypal-sandbox.js';
import { type LocalServer, startLocalServer } from '../../scripts/local-server.js';
import { startCheckout } from '../support/checkout.js';
import { checkoutBody, createEventWithTicketTypes } from '../support/factories.js';
import { countInbox, createPendingOrder, deliverPayPal, inboxRow, orderState } from './support.js';
import { startPayPalSandboxForApp, TEST_PAYPAL_CLIENT_ID, TEST_PAYPAL_CLIENT_SECRET } from '../support/providers.js';

/**
 * PayPal webhooks against the local PayPal sandbox: orders made by the real checkout function,
 * approved and captured at the sandbox, its RSA-signed webhooks delivered to our route through the
 * local server (the certificate fetched from the sandbox's cert URL).
 */

const WEBHOOK_ID = 'WH-TESTWEBHOOKS-0001';
let sandbox: PayPalSandbox;
let server: LocalServer;
let paypal: PayPalClients;

beforeAll(async () => {
  process.env.PUBLIC_SITE_URL = 'http://localhost:3000';
  sandbox = await startPayPalSandboxForApp({ webhookId: WEBHOOK_ID });
  server = await startLocalServer({ port: 0 });
  sandbox.setWebhookTarget(`${server.url}/api/webhooks/paypal`, WEBHOOK_ID);
  paypal = createPayPalClient({
    clientId: TEST_PAYPAL_CLIENT_ID,
    clientSecret: TEST_PAYPAL_CLIENT_SECRET,
    environment: 'sandbox',
    apiBaseUrl: sandbox.url,
  });
});

afterAll(async () => {
  await sandbox?.idle();
  await server?.close();
  await sandbox?.close();
});

async function paypalCheckout(options: { quantity?: number; capacity?: number } = {}) {
  const { event, types } = await createEventWithTicketTypes({ pass: { priceCents: 6_000, capacity: options.capacity ?? 20 } });
  const { created, sessionId } = await startCheckout(
    checkoutBody(event, [{ ticketType: 'pass', quantity: options.quantity ?? 2 }], { provider: 'paypal' }),
    'webhooks-test',
  );
  return { created, paypalOrderId: sessionId, ticketType: types.pass };
}

function unknownCaptureEvent() {
  return sandbox.buildEvent('PAYMENT.CAPTURE.COMPLETED', 'capture', {
    id: `CAP${Date.now()}${Math.floor(Math.random() * 1e6)}`,
    status: 'COMPLETED',
    amount: { currency_code: 'USD', value: '10.00' },
  });
}

describe('PayPal signatures', () => {
  it('valid → 200 and stored; tampered, other webhook id, 301 s old, missing header, foreign cert host → 400, nothing stored', async () => {
    const valid = unknownCaptureEvent();
    const body = JSON.stringify(valid);
    const ok = await deliverPayPal(body, { ...sandbox.signPayload(body) });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ received: true, status: 'ignored' });
    expect(await countInbox(String(valid.id))).toBe(1);

    const refused = unknownCaptureEvent();
    const raw = JSON.stringify(refused);
    const signed = sandbox.signPayload(raw);
    const cases: [string, string, Record<string, string>][] = [
      ['tampered', raw.replace('"10.00"', '"1000.00"'), { ...signed }],
      ['other webhook id', raw, { ...sandbox.signPayload(raw, { webhookId: 'WH-SOMEONE-ELSE' }) }],
      ['301 s old', raw, { ...sandbox.signPayload(raw, { transmissionTime: new Date(Date.now() - 301_000) }) }],
      ['missing signature', raw, { ...signed, 'PAYPAL-TRANSMISSION-SIG': '' }],
      ['foreign certificate host', raw, { ...signed, 'PAYPAL-CERT-URL': 'https://certs.example.com/cert.pem' }],
      ['plain http PayPal host', raw, { ...signed, 'PAYPAL-CERT-URL': 'http://api.paypal.com/v1/notifications/certs/x' }],
    ];
    for (const [name, payload, headers] of cases) {
      const response = await deliverPayPal(payload, Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== '')));
      expect(response.status, name).toBe(400);
      expect(response.body.error.code, name).toBe('WEBHOOK_SIGNATURE_INVALID');
    }
    expect(await countInbox(String(refused.id))).toBe(0);
  });

  it('allows the local sandbox certificate host only outside production', () => {
    const base = { DATABASE_URL: 'postgres://x@127.0.0.1/db' };
    const dev = parseConfig({ ...base, NODE_ENV: 'development', PAYPAL_API_BASE: sandbox.url });
    expect(allowedPayPalCertOrigins(dev)).toEqual([
      'https://api.paypal.com',
      'https://api.sandbox.paypal.com',
      new URL(sandbox.url).origin,
    ]);
    const production = parseConfig({ ...base, NODE_ENV: 'production' });
    expect(allowedPayPalCertOrigins(production)).toEqual(['https://api.paypal.com', 'https://api.sandbox.paypal.com']);
  });
});

describe('PayPal events', () => {
  it('CHECKOUT.ORDER.APPROVED with the tab closed → captured at PayPal by the webhook, order completed once', async () => {
    const { created, paypalOrderId, ticketType } = await paypalCheckout({ quantity: 2 });
    const approved = await sandbox.approve(paypalOrderId);
    expect(approved.outcome).toBe('approved');
    if (approved.outcome !== 'approved') return;
    expect(approved.delivery.status).toBe(200);
    await sandbox.idle(); // PAYMENT.CAPTURE.COMPLETED from the capture, delivered too.
    const captures = sandbox.requests.filter(
      (r) => r.method === 'POST' && r.path === `/v2/checkout/orders/${paypalOrderId}/capture`,
    );
    expect(captures).toHaveLength(1);
    expect(captures[0]?.headers['paypal-request-id']).toBe(`capture-${paypalOrderId}`);
    const s = await orderState(created.orderId, ticketType.id);
    expect(s.order.status).toBe('completed');
    expect(s.counters).toMatchObject({ sold: 2, held: 0 });
    expect(s.audit.filter((a) => a.action === 'payment_completed')).toHaveLength(1);
    const completedEvent = sandbox.webhooks.find(
      (w) => w.eventType === 'PAYMENT.CAPTURE.COMPLETED' && w.payload.includes(created.orderId),
    );
    expect(completedEvent?.status).toBe(200);
    expect(await inboxRow(String(completedEvent?.eventId), 'paypal')).toMatchObject({ status: 'processed' });
  });

  it('browser capture racing the webhooks (APPROVED + PAYMENT.CAPTURE.COMPLETED) → one capture, one completion, one sold set', async () => {
    const { created, paypalOrderId, ticketType } = await paypalCheckout({ quantity: 3, capacity: 3 });
    sandbox.setWebhookTarget(undefined);
    const approved = await sandbox.approve(paypalOrderId);
    sandbox.setWebhookTarget(`${server.url}/api/webhooks/paypal`, WEBHOOK_ID);
    if (approved.outcome !== 'approved') throw new Error('not approved');
    const actor = { type: 'buyer' as const, requestId: 'browser-return' };
    const [browser, ...webhooks] = await Promise.all([
      capturePayPalOrder({ orderId: created.orderId, accessToken: created.accessToken, actor }),
      sandbox.resendEvent(String(approved.event.id)),
      sandbox.resendEvent(String(approved.event.id)),
    ]);
    expect(browser.capture).toBe('captured');
    expect(webhooks.map((w) => w.status)).toEqual([200, 200]);
    await sandbox.idle();
    const completed = sandbox.webhooks.filter(
      (w) => w.eventType === 'PAYMENT.CAPTURE.COMPLETED' && w.payload.includes(created.orderId),
    );
    expect(completed).toHaveLength(1);
    // PayPal retries the completion too, racing nothing by now: still one completion.
    await Promise.all([sandbox.resendEvent(String(completed[0]?.eventId)), sandbox.resendEvent(String(completed[0]?.eventId))]);
    const s = await orderState(created.orderId, ticketType.id);
    expect(s.order.status).toBe('completed');
    expect(s.counters).toEqual({ capacity: 3, taken: 3, sold: 3, held: 0 });
    expect(s.payments.filter((p) => p.status === 'completed')).toHaveLength(1);
    expect(s.audit.filter((a) => a.action === 'payment_completed' || a.action === 'late_payment_completed')).toHaveLength(1);
    expect(
      sandbox.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/${paypalOrderId}/capture`)).length,
    ).toBeGreaterThanOrEqual(1);
  });

  it('PAYMENT.CAPTURE.PENDING → processing; PAYMENT.CAPTURE.DENIED → failed and hold released', async () => {
    const p = await createPendingOrder({ provider: 'paypal', quantity: 2 });
    const capture = (status: string) => ({
      id: `CAP${p.order.id.slice(0, 8).toUpperCase()}`,
      status,
      amount: { currency_code: 'USD', value: (p.order.totalCents / 100).toFixed(2) },
      custom_id: p.order.id,
      invoice_id: p.order.orderNumber,
      supplementary_data: { related_ids: { order_id: p.sessionId } },
    });
    await sandbox.deliverEvent(sandbox.buildEvent('PAYMENT.CAPTURE.PENDING', 'capture', capture('PENDING')));
    let s = await orderState(p.order.id, p.ticketType.id);
    expect(s.order.status).toBe('processing');
    expect(s.payments[0]).toMatchObject({ status: 'processing', providerPaymentId: capture('PENDING').id });
    expect(s.counters).toMatchObject({ held: 2 });

    const denied = await sandbox.deliverEvent(sandbox.buildEvent('PAYMENT.CAPTURE.DENIED', 'capture', capture('DECLINED')));
    expect(denied.status).toBe(200);
    s = await orderState(p.order.id, p.ticketType.id);
    expect(s.order.status).toBe('failed');
    expect(s.payments[0]).toMatchObject({ status: 'failed', failureCode: 'capture_denied', failureCount: 1 });
    expect(s.counters).toMatchObject({ sold: 0, held: 0 });
    expect(s.audit.map((a) => a.action)).toEqual(['payment_processing', 'payment_failed']);
  });

  it('a refund made at PayPal (dashboard) → PAYMENT.CAPTURE.REFUNDED → recorded with source provider', async () => {
    const { created, paypalOrderId, ticketType } = await paypalCheckout({ quantity: 1 });
    await sandbox.approve(paypalOrderId);
    await sandbox.idle();
    const captureId = String((await orderState(created.orderId, ticketType.id)).payments[0]?.providerPaymentId);
    await paypal.paymentsController.refundCapturedPayment({
      captureId,
      body: { amount: { currencyCode: 'USD', value: '25.00' } },
    });
    await sandbox.idle();
    const s = await orderState(created.orderId, ticketType.id);
    expect(s.refunds).toHaveLength(1);
    expect(s.refunds[0]).toMatchObject({ source: 'provider', status: 'succeeded', amountCents: 2_500 });
    expect(s.order).toMatchObject({ status: 'partially_refunded', refundedCents: 2_500 });
  });

  it('PAYMENT.CAPTURE.REFUNDED with a fee given back → the fee booked with the refund once, a resend books nothing', async () => {
    const { created, paypalOrderId, ticketType } = await paypalCheckout({ quantity: 1 });
    await sandbox.approve(paypalOrderId);
    await sandbox.idle();
    const captureId = String((await orderState(created.orderId, ticketType.id)).payments[0]?.providerPaymentId);
    sandbox.setReturnFeesOnRefund(true);
    try {
      await paypal.paymentsController.refundCapturedPayment({
        captureId,
        body: { amount: { currencyCode: 'USD', value: '30.00' } },
      });
      await sandbox.idle();
    } finally {
      sandbox.setReturnFeesOnRefund(false);
    }
    const delivery = sandbox.webhooks.find((w) => w.eventType === 'PAYMENT.CAPTURE.REFUNDED' && w.payload.includes(captureId));
    expect(delivery?.status).toBe(200);
    const resource = JSON.parse(String(delivery?.payload)).resource;
    const returned = Math.round(Number(resource.seller_payable_breakdown.paypal_fee.value) * 100);
    expect(returned).toBe(Math.floor((3_000 * 349 + 5_000) / 10_000));
    const s = await orderState(created.orderId, ticketType.id);
    expect(s.refunds[0]).toMatchObject({ source: 'provider', status: 'succeeded', amountCents: 3_000 });
    const refundId = s.refunds[0]?.id as string;
    const feeRows = async () =>
      (await listLedgerForOrder(db, created.orderId)).filter((e) => e.kind === 'fee' && e.refundId === refundId);
    expect((await feeRows()).map((e) => e.amountCents)).toEqual([returned]);
    expect(await findLedgerMismatches(db, created.orderId)).toEqual([]);
    // PayPal sends it again: nothing more.
    expect((await sandbox.resendEvent(JSON.parse(String(delivery?.payload)).id)).status).toBe(200);
    expect((await feeRows()).map((e) => e.amountCents)).toEqual([returned]);
    expect(await findLedgerMismatches(db, created.orderId)).toEqual([]);
  });

  it('late payment without capacity → refunded in full at PayPal, recorded, 200 to PayPal', async () => {
    const { created, paypalOrderId, ticketType } = await paypalCheckout({ quantity: 2, capacity: 2 });
    await transaction((tx) =>
      expireHeldOrderInTx(tx, created.orderId, {
        actor: { type: 'system', id: 'test' },
        reason: 'test expiry',
        onlyIfDue: false,
      }),
    );
    await createPendingOrder({ ticketType, quantity: 2 });

    const approved = await sandbox.approve(paypalOrderId);
    if (approved.outcome !== 'approved') throw new Error('not approved');
    expect(approved.delivery.status).toBe(200);
    await sandbox.idle();

    const s = await orderState(created.orderId, ticketType.id);
    const captureId = String(s.payments[0]?.providerPaymentId);
    expect(sandbox.refundedAmount(captureId)).toBe(created.totalCents);
    const refundCalls = sandbox.requests.filter(
      (r) => r.method === 'POST' && r.path === `/v2/payments/captures/${captureId}/refund`,
    );
    // APPROVED (our capture) and the sandbox's PAYMENT.CAPTURE.COMPLETED both see the late payment and
    // may both ask for the refund: always with the same PayPal-Request-Id, so PayPal refunds once.
    expect(refundCalls.length).toBeGreaterThanOrEqual(1);
    expect(new Set(refundCalls.map((r) => r.headers['paypal-request-id']))).toEqual(
      new Set([`system-refund-${s.refunds[0]?.id}`]),
    );
    expect(s.order).toMatchObject({ status: 'expired', attentionReason: 'late_payment_no_capacity' });
    expect(s.refunds).toHaveLength(1);
    expect(s.refunds[0]).toMatchObject({ source: 'system', status: 'succeeded', amountCents: created.totalCents });
    expect(s.payments[0]).toMatchObject({ status: 'refunded', refundedCents: created.totalCents });
    expect(s.audit.filter((a) => a.reason === 'late_payment_no_capacity').map((a) => a.action)).toEqual([
      'late_payment_no_capacity',
      'system_refund_issued',
    ]);
    // The sandbox's own PAYMENT.CAPTURE.COMPLETED and PAYMENT.CAPTURE.REFUNDED reached us and changed nothing more.
    const later = sandbox.webhooks.filter((w) => w.payload.includes(captureId));
    expect(later.map((w) => [w.eventType, w.status])).toEqual(
      expect.arrayContaining([
        ['PAYMENT.CAPTURE.COMPLETED', 200],
        ['PAYMENT.CAPTURE.REFUNDED', 200],
      ]),
    );
    expect(s.counters).toMatchObject({ capacity: 2, sold: 0, held: 2 });
  });
});
