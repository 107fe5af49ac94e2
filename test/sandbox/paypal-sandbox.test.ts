import { X509Certificate } from 'node:crypto';
import { SANDBOX_CA_PEM } from '../../lib/providers/paypal-cert-trust.js';
import { ApiError, CheckoutPaymentIntent, type OrderRequest } from '@paypal/paypal-server-sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPayPalClient, type PayPalClients, rewritePayPalUrl } from '../../lib/providers/paypal-client.js';
import { createCertificateFetcher, verifyPayPalWebhookSignature } from '../../lib/providers/paypal-webhook-signature.js';
import { type PayPalSandbox, startPayPalSandbox } from '../../sandbox/paypal-sandbox.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const WEBHOOK_ID = 'SBXWEBHOOK8F3K2';
const CLIENT_ID = 'sandbox-client-id';
const CLIENT_SECRET = 'sandbox-client-secret';

let sandbox: PayPalSandbox;
let receiver: WebhookReceiver;
let paypal: PayPalClients;
const fetchCertificate = createCertificateFetcher();

/** What the app's webhook route checks a delivery with: offline, against the certificate at PAYPAL-CERT-URL. */
const verification = (headers: Headers, rawBody: string) => ({
  headers,
  rawBody,
  webhookId: WEBHOOK_ID,
  fetchCertificate,
  allowedCertOrigins: [new URL(sandbox.url).origin],
  trustedRoots: [new X509Certificate(SANDBOX_CA_PEM)],
});

interface PayPalErrorBody {
  name?: string;
  message?: string;
  debug_id?: string;
  details?: { issue: string; description?: string; field?: string }[];
}

async function apiError(promise: Promise<unknown>): Promise<ApiError<PayPalErrorBody>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error as ApiError<PayPalErrorBody>;
    throw error;
  }
  throw new Error('expected the SDK call to fail');
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  throw new Error('expected the SDK call to fail');
}

/** Two weekend passes at 65.00 and one social at 25.00: item_total 155.00. */
function orderRequest(
  overrides: { invoiceId?: string; value?: string; itemTotal?: string; quantity?: string } = {},
): OrderRequest {
  return {
    intent: CheckoutPaymentIntent.Capture,
    purchaseUnits: [
      {
        referenceId: 'ord_pp_1',
        customId: 'ord_pp_1',
        invoiceId: overrides.invoiceId ?? `BF-${Math.random().toString(36).slice(2, 10)}`,
        description: 'A Lo Cubano Boulder Fest tickets',
        amount: {
          currencyCode: 'USD',
          value: overrides.value ?? '155.00',
          breakdown: { itemTotal: { currencyCode: 'USD', value: overrides.itemTotal ?? '155.00' } },
        },
        items: [
          { name: 'Full weekend pass', quantity: overrides.quantity ?? '2', unitAmount: { currencyCode: 'USD', value: '65.00' } },
          { name: 'Saturday social', quantity: '1', unitAmount: { currencyCode: 'USD', value: '25.00' } },
        ],
      },
    ],
    applicationContext: { returnUrl: 'http://127.0.0.1:9/paypal/return?x=1', cancelUrl: 'http://127.0.0.1:9/paypal/cancel' },
  };
}

async function approvedOrder(invoiceId?: string): Promise<string> {
  const created = await paypal.ordersController.createOrder({ body: orderRequest(invoiceId ? { invoiceId } : {}) });
  const id = created.result.id ?? '';
  const approval = await sandbox.approve(id);
  if (approval.outcome !== 'approved') throw new Error(approval.message);
  return id;
}

async function capturedOrder(): Promise<{ orderId: string; captureId: string }> {
  const orderId = await approvedOrder();
  const captured = await paypal.ordersController.captureOrder({ id: orderId });
  const captureId = captured.result.purchaseUnits?.[0]?.payments?.captures?.[0]?.id ?? '';
  return { orderId, captureId };
}

beforeAll(async () => {
  receiver = await startWebhookReceiver(async (rawBody, headers) => {
    // What the app's webhook route does: verify offline against the certificate at PAYPAL-CERT-URL.
    const result = await verifyPayPalWebhookSignature(verification(headers, rawBody));
    return result.ok ? 'ok' : result.reason;
  });
  sandbox = await startPayPalSandbox({
    port: 0,
    webhookUrl: receiver.url,
    webhookId: WEBHOOK_ID,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
  });
  paypal = createPayPalClient({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    environment: 'sandbox',
    apiBaseUrl: sandbox.url,
    timeoutMs: 5000,
  });
});

afterAll(async () => {
  await sandbox.close();
  await receiver.close();
});

afterEach(async () => {
  await sandbox.idle();
});

describe('createPayPalClient', () => {
  it('rewrites SDK URLs to apiBaseUrl, keeping path and query', () => {
    expect(rewritePayPalUrl('https://api-m.sandbox.paypal.com/v2/checkout/orders/ABC?fields=x', 'http://127.0.0.1:4011')).toBe(
      'http://127.0.0.1:4011/v2/checkout/orders/ABC?fields=x',
    );
    expect(rewritePayPalUrl('https://api-m.paypal.com/v1/oauth2/token', 'http://localhost:9/prefix/')).toBe(
      'http://localhost:9/prefix/v1/oauth2/token',
    );
  });

  it('gets a token with basic auth, then calls the API with it, all on the sandbox', async () => {
    const before = sandbox.requests.length;
    const fresh = createPayPalClient({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      environment: 'sandbox',
      apiBaseUrl: sandbox.url,
    });
    await fresh.ordersController.createOrder({ body: orderRequest() });
    const [token, create] = sandbox.requests.slice(before);
    expect(token?.path).toBe('/v1/oauth2/token');
    expect(token?.headers.authorization).toBe(`Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`);
    expect(token?.rawBody).toBe('grant_type=client_credentials');
    expect(create?.path).toBe('/v2/checkout/orders');
    expect(create?.headers.authorization).toMatch(/^Bearer A21AA/);
  });

  it('fails when the client credentials are wrong', async () => {
    const wrong = createPayPalClient({
      clientId: CLIENT_ID,
      clientSecret: 'nope',
      environment: 'sandbox',
      apiBaseUrl: sandbox.url,
    });
    await expect(wrong.ordersController.createOrder({ body: orderRequest() })).rejects.toThrow();
    expect(sandbox.requests.at(-1)?.path).toBe('/v1/oauth2/token');
  });
});

describe('orders', () => {
  it('creates an order: 201 CREATED with approve link to the sandbox page; full representation on request', async () => {
    const created = await paypal.ordersController.createOrder({ body: orderRequest() });
    expect(created.statusCode).toBe(201);
    expect(created.result.id).toMatch(/^[0-9A-Z]{17}$/);
    expect(created.result.status).toBe('CREATED');
    const links = Object.fromEntries((created.result.links ?? []).map((l) => [l.rel, l.href]));
    expect(links.approve).toBe(`${sandbox.publicUrl}/approve/${created.result.id}`);
    expect(links.self).toBe(`${sandbox.publicUrl}/v2/checkout/orders/${created.result.id}`);
    expect(created.result.purchaseUnits).toBeUndefined(); // minimal by default

    const full = await paypal.ordersController.createOrder({
      body: orderRequest({ invoiceId: 'BF-FULL-1' }),
      prefer: 'return=representation',
    });
    const unit = full.result.purchaseUnits?.[0];
    expect(full.result.intent).toBe('CAPTURE');
    expect(unit?.referenceId).toBe('ord_pp_1');
    expect(unit?.customId).toBe('ord_pp_1');
    expect(unit?.invoiceId).toBe('BF-FULL-1');
    expect(unit?.amount?.value).toBe('155.00');
    expect(unit?.amount?.breakdown?.itemTotal?.value).toBe('155.00');
    expect(unit?.items?.map((i) => [i.name, i.quantity])).toEqual([
      ['Full weekend pass', '2'],
      ['Saturday social', '1'],
    ]);
    expect(unit?.payee?.merchantId).toBeTruthy();

    const got = await paypal.ordersController.getOrder({ id: full.result.id ?? '' });
    expect(got.result.status).toBe('CREATED');
    const missing = await apiError(paypal.ordersController.getOrder({ id: 'NOSUCHORDER000000' }));
    expect(missing.statusCode).toBe(404);
    expect(missing.result?.name).toBe('RESOURCE_NOT_FOUND');
    expect(missing.result?.details?.[0]?.issue).toBe('INVALID_RESOURCE_ID');
  });

  it('uses PAYER_ACTION_REQUIRED and a payer-action link for payment_source.paypal orders', async () => {
    const body = orderRequest();
    delete body.applicationContext;
    body.paymentSource = {
      paypal: { experienceContext: { returnUrl: 'http://127.0.0.1:9/r', cancelUrl: 'http://127.0.0.1:9/c' } },
    };
    const created = await paypal.ordersController.createOrder({ body });
    expect(created.result.status).toBe('PAYER_ACTION_REQUIRED');
    expect(created.result.links?.find((l) => l.rel === 'payer-action')?.href).toBe(
      `${sandbox.publicUrl}/approve/${created.result.id}`,
    );
  });

  it('checks that the breakdown adds up, like PayPal (422 AMOUNT_MISMATCH / ITEM_TOTAL_MISMATCH)', async () => {
    const amount = await apiError(paypal.ordersController.createOrder({ body: orderRequest({ value: '150.00' }) }));
    expect(amount.statusCode).toBe(422);
    expect(amount.result?.name).toBe('UNPROCESSABLE_ENTITY');
    expect(amount.result?.debug_id).toMatch(/^[0-9a-f]+$/);
    expect(amount.result?.details?.[0]?.issue).toBe('AMOUNT_MISMATCH');
    expect(amount.result?.details?.[0]?.field).toBe("/purchase_units/@reference_id=='ord_pp_1'/amount/value");
    expect(amount.result?.details?.[0]?.description).toMatch(/item_total \+ tax_total/);

    const items = await apiError(paypal.ordersController.createOrder({ body: orderRequest({ quantity: '3' }) }));
    expect(items.statusCode).toBe(422);
    expect(items.result?.details?.[0]?.issue).toBe('ITEM_TOTAL_MISMATCH');

    const precision = await apiError(
      paypal.ordersController.createOrder({ body: orderRequest({ value: '155.001', itemTotal: '155.001' }) }),
    );
    expect(precision.result?.details?.[0]?.issue).toBe('DECIMAL_PRECISION');
  });

  it('replays the order for a reused PayPal-Request-Id (200, same id) instead of creating another', async () => {
    const first = await paypal.ordersController.createOrder({ body: orderRequest(), paypalRequestId: 'pp-create-1' });
    const second = await paypal.ordersController.createOrder({ body: orderRequest(), paypalRequestId: 'pp-create-1' });
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(200);
    expect(second.result.id).toBe(first.result.id);
    expect(sandbox.requests.at(-1)?.headers['paypal-request-id']).toBe('pp-create-1');
  });
});

describe('approval and capture', () => {
  it('refuses to capture an order the buyer has not approved (422 ORDER_NOT_APPROVED)', async () => {
    const created = await paypal.ordersController.createOrder({ body: orderRequest() });
    const error = await apiError(paypal.ordersController.captureOrder({ id: created.result.id ?? '' }));
    expect(error.statusCode).toBe(422);
    expect(error.result?.details?.[0]?.issue).toBe('ORDER_NOT_APPROVED');
  });

  it('voidOrder: a created or approved order becomes VOIDED (read by the SDK), cannot be approved or captured; a completed one cannot be voided', async () => {
    const created = await paypal.ordersController.createOrder({ body: orderRequest() });
    const createdId = created.result.id ?? '';
    expect(sandbox.voidOrder(createdId).status).toBe('VOIDED');
    const got = await paypal.ordersController.getOrder({ id: createdId });
    expect(got.result.status).toBe('VOIDED');
    expect(got.result.purchaseUnits?.[0]?.payments).toBeUndefined();
    expect(got.result.links?.map((l) => l.rel)).toEqual(['self']);
    expect(await sandbox.approve(createdId)).toMatchObject({ outcome: 'rejected', reason: 'not_approvable' });

    const approved = await paypal.ordersController.createOrder({ body: orderRequest() });
    const approvedId = approved.result.id ?? '';
    await sandbox.approve(approvedId);
    sandbox.voidOrder(approvedId);
    const refused = await apiError(paypal.ordersController.captureOrder({ id: approvedId }));
    expect(refused.statusCode).toBe(422);
    expect(refused.result?.details?.[0]?.issue).toBe('ORDER_NOT_APPROVED');

    const done = await paypal.ordersController.createOrder({ body: orderRequest() });
    const doneId = done.result.id ?? '';
    await sandbox.approve(doneId);
    await paypal.ordersController.captureOrder({ id: doneId });
    expect(() => sandbox.voidOrder(doneId)).toThrow(/COMPLETED/);
    expect(() => sandbox.voidOrder('NOSUCHORDER000000')).toThrow(/no order/);
  });

  it('approval page: approve → APPROVED, signed CHECKOUT.ORDER.APPROVED, 303 to return_url with token and PayerID', async () => {
    const created = await paypal.ordersController.createOrder({ body: orderRequest() });
    const approveUrl = created.result.links?.find((l) => l.rel === 'approve')?.href ?? '';
    const page = await fetch(approveUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('155.00');

    const posted = await fetch(approveUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ action: 'approve', email: 'buyer@example.com' }),
      redirect: 'manual',
    });
    expect(posted.status).toBe(303);
    const location = new URL(posted.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe('http://127.0.0.1:9/paypal/return');
    expect(location.searchParams.get('x')).toBe('1');
    expect(location.searchParams.get('token')).toBe(created.result.id);
    expect(location.searchParams.get('PayerID')).toMatch(/^[0-9A-Z]{13}$/);

    const delivery = sandbox.webhooks.find(
      (w) => w.eventType === 'CHECKOUT.ORDER.APPROVED' && w.payload.includes(created.result.id ?? '-'),
    );
    expect(delivery?.status).toBe(200); // the receiver verified the RSA signature
    expect(delivery?.headers['paypal-auth-algo']).toBe('SHA256withRSA');
    expect(delivery?.headers['paypal-cert-url']).toBe(sandbox.certUrl);
    const event = JSON.parse(delivery?.payload ?? '{}') as {
      id: string;
      event_type: string;
      resource_type: string;
      resource: { id: string; status: string };
      create_time: string;
      summary: string;
    };
    expect(event.id).toMatch(/^WH-[0-9A-Z]{17}-[0-9A-Z]{17}$/);
    expect(event.event_type).toBe('CHECKOUT.ORDER.APPROVED');
    expect(event.resource_type).toBe('checkout-order');
    expect(event.resource).toMatchObject({ id: created.result.id, status: 'APPROVED' });
    expect(event.summary).toBeTruthy();

    const got = await paypal.ordersController.getOrder({ id: created.result.id ?? '' });
    expect(got.result.status).toBe('APPROVED');
    expect(got.result.payer?.emailAddress).toBe('buyer@example.com');
  });

  it('cancel on the approval page goes back to cancel_url with the token', async () => {
    const created = await paypal.ordersController.createOrder({ body: orderRequest() });
    const posted = await fetch(`${sandbox.publicUrl}/approve/${created.result.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ action: 'cancel' }),
      redirect: 'manual',
    });
    expect(posted.status).toBe(303);
    expect(posted.headers.get('location')).toBe(`http://127.0.0.1:9/paypal/cancel?token=${created.result.id}`);
    expect((await paypal.ordersController.getOrder({ id: created.result.id ?? '' })).result.status).toBe('CREATED');
  });

  it('captures an approved order once: COMPLETED with the capture, signed PAYMENT.CAPTURE.COMPLETED; replay by request id', async () => {
    const orderId = await approvedOrder('BF-CAPTURE-1');
    const captured = await paypal.ordersController.captureOrder({ id: orderId, paypalRequestId: 'pp-capture-1' });
    expect(captured.statusCode).toBe(201);
    expect(captured.result.status).toBe('COMPLETED');
    const capture = captured.result.purchaseUnits?.[0]?.payments?.captures?.[0];
    expect(capture?.id).toMatch(/^[0-9A-Z]{17}$/);
    expect(capture?.status).toBe('COMPLETED');
    expect(capture?.amount).toEqual({ currencyCode: 'USD', value: '155.00' });
    expect(capture?.invoiceId).toBe('BF-CAPTURE-1');
    expect(capture?.customId).toBe('ord_pp_1');
    expect(capture?.finalCapture).toBe(true);

    const replay = await paypal.ordersController.captureOrder({ id: orderId, paypalRequestId: 'pp-capture-1' });
    expect(replay.statusCode).toBe(200);
    expect(replay.result.purchaseUnits?.[0]?.payments?.captures?.[0]?.id).toBe(capture?.id);

    const twice = await apiError(paypal.ordersController.captureOrder({ id: orderId }));
    expect(twice.statusCode).toBe(422);
    expect(twice.result?.details?.[0]?.issue).toBe('ORDER_ALREADY_CAPTURED');

    await sandbox.idle();
    const delivery = sandbox.webhooks.find(
      (w) => w.eventType === 'PAYMENT.CAPTURE.COMPLETED' && w.payload.includes(capture?.id ?? '-'),
    );
    expect(delivery?.status).toBe(200);
    const event = JSON.parse(delivery?.payload ?? '{}') as {
      resource: { id: string; supplementary_data: { related_ids: { order_id: string } } };
    };
    expect(event.resource.supplementary_data.related_ids.order_id).toBe(orderId);
  });

  it('refuses a second capture of the same invoice_id (DUPLICATE_INVOICE_ID, PayPal’s default setting)', async () => {
    const first = await approvedOrder('BF-DUP-1');
    await paypal.ordersController.captureOrder({ id: first });
    const second = await approvedOrder('BF-DUP-1');
    const error = await apiError(paypal.ordersController.captureOrder({ id: second }));
    expect(error.statusCode).toBe(422);
    expect(error.result?.details?.[0]?.issue).toBe('DUPLICATE_INVOICE_ID');
  });
});

describe('refunds', () => {
  it('refunds partially, refuses over-refunds (422 REFUND_AMOUNT_EXCEEDED), then refunds the rest', async () => {
    const { captureId } = await capturedOrder();
    const partial = await paypal.paymentsController.refundCapturedPayment({
      captureId,
      body: { amount: { currencyCode: 'USD', value: '65.00' }, noteToPayer: 'One pass returned' },
      prefer: 'return=representation',
    });
    expect(partial.statusCode).toBe(201);
    expect(partial.result.status).toBe('COMPLETED');
    expect(partial.result.amount).toEqual({ currencyCode: 'USD', value: '65.00' });
    expect(partial.result.sellerPayableBreakdown?.totalRefundedAmount?.value).toBe('65.00');
    expect(sandbox.refundedAmount(captureId)).toBe(6500);
    expect(sandbox.getCapture(captureId)?.status).toBe('PARTIALLY_REFUNDED');

    const over = await apiError(
      paypal.paymentsController.refundCapturedPayment({ captureId, body: { amount: { currencyCode: 'USD', value: '90.01' } } }),
    );
    expect(over.statusCode).toBe(422);
    expect(over.result?.name).toBe('UNPROCESSABLE_ENTITY');
    expect(over.result?.details?.[0]?.issue).toBe('REFUND_AMOUNT_EXCEEDED');
    expect(sandbox.refundedAmount(captureId)).toBe(6500);

    const rest = await paypal.paymentsController.refundCapturedPayment({ captureId });
    expect(rest.result.status).toBe('COMPLETED');
    expect(rest.result.amount).toBeUndefined(); // minimal representation by default
    expect(sandbox.refundedAmount(captureId)).toBe(15500);
    expect(sandbox.getCapture(captureId)?.status).toBe('REFUNDED');

    const done = await apiError(paypal.paymentsController.refundCapturedPayment({ captureId }));
    expect(done.result?.details?.[0]?.issue).toBe('CAPTURE_FULLY_REFUNDED');

    await sandbox.idle();
    expect(
      sandbox.webhooks
        .filter((w) => w.eventType === 'PAYMENT.CAPTURE.REFUNDED' && w.payload.includes(captureId))
        .map((w) => w.status),
    ).toEqual([200, 200]);
  });

  it('a reused PayPal-Request-Id returns the first refund instead of refunding twice', async () => {
    const { captureId } = await capturedOrder();
    const body = { amount: { currencyCode: 'USD', value: '10.00' } };
    const a = await paypal.paymentsController.refundCapturedPayment({ captureId, body, paypalRequestId: 'pp-refund-1' });
    const b = await paypal.paymentsController.refundCapturedPayment({ captureId, body, paypalRequestId: 'pp-refund-1' });
    expect(b.result.id).toBe(a.result.id);
    expect(sandbox.refundedAmount(captureId)).toBe(1000);
  });

  it('404 for an unknown capture', async () => {
    const error = await apiError(paypal.paymentsController.refundCapturedPayment({ captureId: 'NOSUCHCAPTURE0000' }));
    expect(error.statusCode).toBe(404);
    expect(error.result?.details?.[0]?.issue).toBe('INVALID_RESOURCE_ID');
  });
});

describe('failure injection', () => {
  it('answers with PayPal’s error shape for the injected status and issue, then recovers', async () => {
    sandbox.failNext({ match: '/v2/checkout/orders', kind: 'error', status: 503 });
    const unavailable = await apiError(paypal.ordersController.createOrder({ body: orderRequest() }));
    expect(unavailable.statusCode).toBe(503);
    // createOrder maps no 503, so the SDK leaves the body unparsed (result is only filled for mapped statuses).
    expect((JSON.parse(String(unavailable.body)) as PayPalErrorBody).name).toBe('SERVICE_UNAVAILABLE');
    expect(unavailable.headers['paypal-debug-id']).toMatch(/^[0-9a-f]{13}$/);

    sandbox.failNext({ match: /\/capture$/, kind: 'error', code: 'INSTRUMENT_DECLINED' });
    const orderId = await approvedOrder();
    const declined = await apiError(paypal.ordersController.captureOrder({ id: orderId }));
    expect(declined.statusCode).toBe(422);
    expect(declined.result?.details?.[0]?.issue).toBe('INSTRUMENT_DECLINED');
    const captured = await paypal.ordersController.captureOrder({ id: orderId });
    expect(captured.result.status).toBe('COMPLETED');
  });

  it('injects over HTTP (POST /__sandbox/fail)', async () => {
    const response = await fetch(`${sandbox.url}/__sandbox/fail`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ matchRegExp: '^/v2/checkout/orders/[A-Z0-9]+$', kind: 'error', status: 500, times: 2 }),
    });
    expect(response.status).toBe(200);
    const created = await paypal.ordersController.createOrder({ body: orderRequest() });
    expect((await apiError(paypal.ordersController.getOrder({ id: created.result.id ?? '' }))).statusCode).toBe(500);
    expect((await apiError(paypal.ordersController.getOrder({ id: created.result.id ?? '' }))).statusCode).toBe(500);
    expect((await paypal.ordersController.getOrder({ id: created.result.id ?? '' })).result.status).toBe('CREATED');
  });

  it('times out: the SDK gives up on a request the sandbox never answers', async () => {
    const impatient = createPayPalClient({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      environment: 'sandbox',
      apiBaseUrl: sandbox.url,
      timeoutMs: 300,
    });
    sandbox.failNext({ match: '/v2/checkout/orders', kind: 'timeout' });
    const error = await rejection(impatient.ordersController.createOrder({ body: orderRequest() }));
    expect(error).not.toBeInstanceOf(ApiError);
    expect(error.message).toMatch(/timeout/i);
  });
});

describe('webhook signatures', () => {
  it('a tampered body or another webhook id fails verification; the genuine delivery passes', async () => {
    await capturedOrder();
    await sandbox.idle();
    const delivery = sandbox.webhooks.filter((w) => w.eventType === 'PAYMENT.CAPTURE.COMPLETED').at(-1);
    expect(delivery?.status).toBe(200);
    const headers = new Headers(delivery?.headers);
    const rawBody = delivery?.payload ?? '';
    const input = verification(headers, rawBody);
    expect(await verifyPayPalWebhookSignature(input)).toEqual({ ok: true });
    expect(await verifyPayPalWebhookSignature({ ...input, rawBody: rawBody.replace('"COMPLETED"', '"PENDING"') })).toMatchObject({
      ok: false,
      code: 'signature_invalid',
    });
    expect(await verifyPayPalWebhookSignature({ ...input, webhookId: 'SOMEOTHERHOOK1' })).toMatchObject({
      ok: false,
      code: 'signature_invalid',
    });

    // The receiver (standing in for the app) refuses the tampered body.
    const tampered = await fetch(receiver.url, { method: 'POST', headers, body: rawBody.replace('"COMPLETED"', '"PENDING"') });
    expect(tampered.status).toBe(400);
  });

  it('POST /v1/notifications/verify-webhook-signature answers SUCCESS for a genuine event and FAILURE otherwise', async () => {
    const event = sandbox.buildEvent('PAYMENT.CAPTURE.REFUNDED', 'refund', { id: 'REFUND123', status: 'COMPLETED' }, 'refunded');
    const delivery = await sandbox.deliverEvent(event);
    const tokenResponse = await fetch(`${sandbox.url}/v1/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    const { access_token: accessToken } = (await tokenResponse.json()) as { access_token: string };
    const verify = async (webhookId: string, webhookEvent: unknown): Promise<unknown> => {
      const response = await fetch(`${sandbox.url}/v1/notifications/verify-webhook-signature`, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          auth_algo: delivery.headers['paypal-auth-algo'],
          cert_url: delivery.headers['paypal-cert-url'],
          transmission_id: delivery.headers['paypal-transmission-id'],
          transmission_sig: delivery.headers['paypal-transmission-sig'],
          transmission_time: delivery.headers['paypal-transmission-time'],
          webhook_id: webhookId,
          webhook_event: webhookEvent,
        }),
      });
      expect(response.status).toBe(200);
      return response.json();
    };
    expect(await verify(WEBHOOK_ID, JSON.parse(delivery.payload))).toEqual({ verification_status: 'SUCCESS' });
    expect(await verify('SOMEOTHERHOOK1', JSON.parse(delivery.payload))).toEqual({ verification_status: 'FAILURE' });
    expect(await verify(WEBHOOK_ID, { ...event, summary: 'changed' })).toEqual({ verification_status: 'FAILURE' });

    const resent = await sandbox.resendEvent(String(event.id));
    expect(resent.payload).toBe(delivery.payload);
    expect(resent.headers['paypal-transmission-id']).not.toBe(delivery.headers['paypal-transmission-id']);
    expect(resent.status).toBe(200);
  });

  it('serves the signing certificate at PAYPAL-CERT-URL', async () => {
    const response = await fetch(sandbox.certUrl);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(sandbox.certificatePem);
  });
});
