import type Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createStripeClient, stripeHostSettings } from '../../lib/providers/stripe-client.js';
import { type StripeSandbox, startStripeSandbox } from '../../sandbox/stripe-sandbox.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET_KEY = 'sk_test_sandbox_51BoulderFest';
const WEBHOOK_SECRET = 'whsec_sandbox_test_secret';

let sandbox: StripeSandbox;
let receiver: WebhookReceiver;
let stripe: Stripe;

/** Errors the SDK throws carry these fields. */
interface SdkError {
  type: string;
  statusCode?: number;
  code?: string;
  param?: string;
  decline_code?: string;
  message: string;
}

async function sdkError(promise: Promise<unknown>): Promise<SdkError & Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error as SdkError & Error;
    throw error;
  }
  throw new Error('expected the SDK call to fail');
}

function sessionParams(overrides: Partial<Stripe.Checkout.SessionCreateParams> = {}): Stripe.Checkout.SessionCreateParams {
  return {
    mode: 'payment',
    line_items: [
      { price_data: { currency: 'usd', unit_amount: 6500, product_data: { name: 'Full weekend pass' } }, quantity: 2 },
      { price_data: { currency: 'usd', unit_amount: 2500, product_data: { name: 'Saturday social' } }, quantity: 1 },
    ],
    customer_email: 'dancer@example.com',
    client_reference_id: 'ord_123',
    metadata: { order_id: 'ord_123', event: 'boulder-fest-2026' },
    payment_intent_data: { metadata: { order_id: 'ord_123' } },
    expires_at: Math.floor(Date.now() / 1000) + 3600,
    success_url: 'http://127.0.0.1:9/success?session_id={CHECKOUT_SESSION_ID}',
    cancel_url: 'http://127.0.0.1:9/cancel',
    ...overrides,
  };
}

beforeAll(async () => {
  receiver = await startWebhookReceiver((rawBody, headers) => {
    // What the app's webhook route does: verify the raw body with the real SDK.
    stripe.webhooks.constructEvent(rawBody, headers.get('stripe-signature') ?? '', WEBHOOK_SECRET);
    return 'ok';
  });
  sandbox = await startStripeSandbox({ port: 0, webhookUrl: receiver.url, webhookSecret: WEBHOOK_SECRET });
  stripe = createStripeClient({ secretKey: SECRET_KEY, apiBaseUrl: sandbox.url, maxNetworkRetries: 0, timeoutMs: 5000 });
});

afterAll(async () => {
  await sandbox.close();
  await receiver.close();
});

afterEach(async () => {
  await sandbox.idle();
  sandbox.setWebhookTarget(receiver.url, WEBHOOK_SECRET);
});

describe('createStripeClient', () => {
  it('maps apiBaseUrl to the SDK host settings', () => {
    expect(stripeHostSettings('http://127.0.0.1:4010')).toEqual({ host: '127.0.0.1', port: 4010, protocol: 'http' });
    expect(stripeHostSettings('https://api.stripe.com')).toEqual({ host: 'api.stripe.com', port: 443, protocol: 'https' });
    expect(() => stripeHostSettings('http://127.0.0.1:4010/v1')).toThrow(/path/);
    expect(() => stripeHostSettings('ftp://x')).toThrow(/http/);
  });

  it('sends every request to the sandbox with the secret key as Bearer auth', async () => {
    const before = sandbox.requests.length;
    await stripe.checkout.sessions.create(sessionParams());
    const request = sandbox.requests[before];
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/v1/checkout/sessions');
    expect(request?.headers.authorization).toBe(`Bearer ${SECRET_KEY}`);
    expect(request?.headers['content-type']).toContain('application/x-www-form-urlencoded');
  });

  it('telemetry: false leaves out the SDK telemetry header (default clients send it after the first call)', async () => {
    const quiet = createStripeClient({ secretKey: SECRET_KEY, apiBaseUrl: sandbox.url, maxNetworkRetries: 0, telemetry: false });
    await quiet.checkout.sessions.create(sessionParams());
    await quiet.checkout.sessions.create(sessionParams());
    expect(sandbox.requests.at(-1)?.headers['x-stripe-client-telemetry']).toBeUndefined();
    const chatty = createStripeClient({ secretKey: SECRET_KEY, apiBaseUrl: sandbox.url, maxNetworkRetries: 0 });
    await chatty.checkout.sessions.create(sessionParams());
    await chatty.checkout.sessions.create(sessionParams());
    expect(sandbox.requests.at(-1)?.headers['x-stripe-client-telemetry']).toBeDefined();
  });
});

describe('checkout sessions', () => {
  it('creates a session shaped like Stripe’s, with the payment page URL and the request’s fields', async () => {
    const params = sessionParams();
    const session = await stripe.checkout.sessions.create(params);
    expect(session.id).toMatch(/^cs_test_[A-Za-z0-9]{58}$/);
    expect(session.object).toBe('checkout.session');
    expect(session.mode).toBe('payment');
    expect(session.status).toBe('open');
    expect(session.payment_status).toBe('unpaid');
    expect(session.amount_total).toBe(6500 * 2 + 2500);
    expect(session.amount_subtotal).toBe(6500 * 2 + 2500);
    expect(session.currency).toBe('usd');
    expect(session.customer_email).toBe('dancer@example.com');
    expect(session.client_reference_id).toBe('ord_123');
    expect(session.metadata).toEqual({ order_id: 'ord_123', event: 'boulder-fest-2026' });
    expect(session.expires_at).toBe(params.expires_at);
    expect(session.success_url).toBe(params.success_url);
    expect(session.cancel_url).toBe(params.cancel_url);
    expect(session.payment_intent).toBeNull();
    expect(session.livemode).toBe(false);
    expect(session.url).toBe(`${sandbox.publicUrl}/pay/${session.id}`);
    // Fields the fixture object has are all present.
    expect(session).toHaveProperty('total_details');
    expect(session).toHaveProperty('automatic_tax');

    // The form body the SDK sent was parsed into nested objects.
    const request = sandbox.requests.at(-1);
    expect(request?.body).toMatchObject({
      mode: 'payment',
      line_items: [
        { price_data: { currency: 'usd', unit_amount: '6500', product_data: { name: 'Full weekend pass' } }, quantity: '2' },
        { price_data: { unit_amount: '2500' }, quantity: '1' },
      ],
      metadata: { order_id: 'ord_123' },
    });

    const retrieved = await stripe.checkout.sessions.retrieve(session.id);
    expect(retrieved.id).toBe(session.id);
    expect(retrieved.amount_total).toBe(session.amount_total);

    const withItems = await stripe.checkout.sessions.retrieve(session.id, { expand: ['line_items'] });
    expect(withItems.line_items?.data.map((item) => [item.description, item.quantity, item.amount_total])).toEqual([
      ['Full weekend pass', 2, 13000],
      ['Saturday social', 1, 2500],
    ]);
  });

  it('validates expires_at like Stripe (30 minutes to 24 hours)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const tooSoon = await sdkError(stripe.checkout.sessions.create(sessionParams({ expires_at: now + 60 })));
    expect(tooSoon).toBeInstanceOf(stripe.errors.StripeInvalidRequestError);
    expect(tooSoon.statusCode).toBe(400);
    expect(tooSoon.param).toBe('expires_at');
    expect(tooSoon.message).toMatch(/at least 30 minutes/);
    const tooLate = await sdkError(stripe.checkout.sessions.create(sessionParams({ expires_at: now + 25 * 3600 })));
    expect(tooLate.param).toBe('expires_at');
    expect(tooLate.message).toMatch(/less than 24 hours/);
  });

  it('rejects unknown parameters, missing names and a wrong API key', async () => {
    const noName = await sdkError(
      stripe.checkout.sessions.create(
        sessionParams({
          line_items: [{ price_data: { currency: 'usd', unit_amount: 100, product_data: { name: '' } }, quantity: 1 }],
        }),
      ),
    );
    expect(noName.code).toBe('parameter_missing');
    expect(noName.param).toBe('line_items[0][price_data][product_data][name]');

    const live = createStripeClient({ secretKey: 'sk_live_nope1234567890', apiBaseUrl: sandbox.url, maxNetworkRetries: 0 });
    const auth = await sdkError(live.checkout.sessions.create(sessionParams()));
    expect(auth).toBeInstanceOf(stripe.errors.StripeAuthenticationError);
    expect(auth.statusCode).toBe(401);
  });

  it('expires only open sessions and sends checkout.session.expired', async () => {
    const session = await stripe.checkout.sessions.create(sessionParams());
    const expired = await stripe.checkout.sessions.expire(session.id);
    expect(expired.status).toBe('expired');
    expect(expired.url).toBeNull();
    const again = await sdkError(stripe.checkout.sessions.expire(session.id));
    expect(again).toBeInstanceOf(stripe.errors.StripeInvalidRequestError);
    expect(again.statusCode).toBe(400);
    await sandbox.idle();
    const delivery = sandbox.webhooks.find((w) => w.eventType === 'checkout.session.expired' && w.payload.includes(session.id));
    expect(delivery?.status).toBe(200);

    const missing = await sdkError(stripe.checkout.sessions.retrieve('cs_test_doesnotexist'));
    expect(missing.statusCode).toBe(404);
    expect(missing.code).toBe('resource_missing');
  });
});

describe('session expiry by the clock', () => {
  it('an open session past expires_at reads as expired and checkout.session.expired is sent', async () => {
    let now = new Date();
    const timed = await startStripeSandbox({ now: () => now, webhookUrl: receiver.url, webhookSecret: WEBHOOK_SECRET });
    try {
      const client = createStripeClient({ secretKey: SECRET_KEY, apiBaseUrl: timed.url, maxNetworkRetries: 0 });
      const session = await client.checkout.sessions.create(
        sessionParams({ expires_at: Math.floor(now.getTime() / 1000) + 1800 }),
      );
      now = new Date(now.getTime() + 1799_000);
      expect((await client.checkout.sessions.retrieve(session.id)).status).toBe('open');
      now = new Date(now.getTime() + 2_000);
      expect((await client.checkout.sessions.retrieve(session.id)).status).toBe('expired');
      expect(await timed.pay(session.id, '4242424242424242')).toMatchObject({ outcome: 'rejected', reason: 'session_not_open' });
      await timed.idle();
      expect(timed.webhooks.map((w) => [w.eventType, w.status])).toEqual([['checkout.session.expired', 200]]);
    } finally {
      await timed.close();
    }
  });
});

describe('idempotency', () => {
  it('replays the same response for the same key and params', async () => {
    const params = sessionParams({ client_reference_id: 'ord_idem_1' });
    const first = await stripe.checkout.sessions.create(params, { idempotencyKey: 'idem-create-1' });
    const second = await stripe.checkout.sessions.create(params, { idempotencyKey: 'idem-create-1' });
    expect(second.id).toBe(first.id);
    expect(first.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(second.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(sandbox.listSessions().filter((s) => s.client_reference_id === 'ord_idem_1')).toHaveLength(1);
  });

  it('refuses the same key with different params (idempotency_error)', async () => {
    await stripe.checkout.sessions.create(sessionParams({ client_reference_id: 'ord_idem_2' }), {
      idempotencyKey: 'idem-create-2',
    });
    const error = await sdkError(
      stripe.checkout.sessions.create(sessionParams({ client_reference_id: 'ord_idem_3' }), { idempotencyKey: 'idem-create-2' }),
    );
    expect(error).toBeInstanceOf(stripe.errors.StripeIdempotencyError);
    expect(error.type).toBe('StripeIdempotencyError');
    expect(error.statusCode).toBe(400);
  });
});

describe('payment page', () => {
  it('takes 4242 4242 4242 4242: session complete, payment intent + visa charge, signed checkout.session.completed, 303 to success_url', async () => {
    const session = await stripe.checkout.sessions.create(sessionParams({ client_reference_id: 'ord_page_ok' }));
    const page = await fetch(session.url ?? '');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('name="card"');

    const posted = await fetch(session.url ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ card: '4242 4242 4242 4242', email: 'dancer@example.com', name: 'Rueda Dancer' }),
      redirect: 'manual',
    });
    expect(posted.status).toBe(303);
    expect(posted.headers.get('location')).toBe(`http://127.0.0.1:9/success?session_id=${session.id}`);

    const delivery = sandbox.webhooks.find((w) => w.eventType === 'checkout.session.completed' && w.payload.includes(session.id));
    expect(delivery?.status).toBe(200); // the receiver verified the signature with stripe.webhooks.constructEvent
    const received = receiver.received.find((r) => r.rawBody === delivery?.payload);
    expect(received?.verdict).toBe('ok');
    const event = stripe.webhooks.constructEvent(
      received?.rawBody ?? '',
      received?.headers.get('stripe-signature') ?? '',
      WEBHOOK_SECRET,
    );
    expect(event.type).toBe('checkout.session.completed');
    expect(event.api_version).toBeTruthy();
    const eventSession = event.data.object as Stripe.Checkout.Session;
    expect(eventSession.id).toBe(session.id);
    expect(eventSession.payment_status).toBe('paid');
    expect(eventSession.client_reference_id).toBe('ord_page_ok');
    expect(eventSession.customer_details?.email).toBe('dancer@example.com');

    const paid = await stripe.checkout.sessions.retrieve(session.id);
    expect(paid.status).toBe('complete');
    expect(paid.payment_status).toBe('paid');
    expect(typeof paid.payment_intent).toBe('string');
    const intent = await stripe.paymentIntents.retrieve(String(paid.payment_intent), { expand: ['latest_charge'] });
    expect(intent.status).toBe('succeeded');
    expect(intent.amount).toBe(paid.amount_total);
    expect(intent.amount_received).toBe(paid.amount_total);
    expect(intent.metadata).toEqual({ order_id: 'ord_123' });
    const charge = intent.latest_charge as Stripe.Charge;
    expect(charge.id).toMatch(/^ch_/);
    expect(charge.status).toBe('succeeded');
    expect(charge.payment_method_details?.card?.brand).toBe('visa');
    expect(charge.payment_method_details?.card?.last4).toBe('4242');

    // The page of a paid session no longer takes payments.
    const again = await fetch(session.url ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ card: '4242424242424242' }),
      redirect: 'manual',
    });
    expect(again.status).toBe(410);
  });

  it('declines 4000 0000 0000 0002: page shows it, signed payment_intent.payment_failed (generic_decline), session stays open', async () => {
    const session = await stripe.checkout.sessions.create(sessionParams({ client_reference_id: 'ord_page_decline' }));
    const posted = await fetch(session.url ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ card: '4000000000000002' }),
      redirect: 'manual',
    });
    expect(posted.status).toBe(402);
    expect(await posted.text()).toContain('Your card was declined.');

    // The page answers after the delivery, so the newest payment_failed delivery is this one.
    const delivery = sandbox.webhooks.filter((w) => w.eventType === 'payment_intent.payment_failed').at(-1);
    expect(delivery?.status).toBe(200);
    const event = stripe.webhooks.constructEvent(
      delivery?.payload ?? '',
      delivery?.headers['stripe-signature'] ?? '',
      WEBHOOK_SECRET,
    );
    const intent = event.data.object as Stripe.PaymentIntent;
    expect(intent.status).toBe('requires_payment_method');
    expect(intent.last_payment_error?.decline_code).toBe('generic_decline');
    expect(intent.last_payment_error?.code).toBe('card_declined');

    const open = await stripe.checkout.sessions.retrieve(session.id);
    expect(open.status).toBe('open');
    expect(open.payment_status).toBe('unpaid');
    expect(open.payment_intent).toBe(intent.id);

    // Retrying with a good card pays the same payment intent.
    const retry = await sandbox.pay(session.id, '4242424242424242');
    expect(retry.outcome).toBe('succeeded');
    if (retry.outcome === 'succeeded') expect(retry.paymentIntent.id).toBe(intent.id);
  });

  it('programmatic pay() rejects unknown sessions, bad cards and expired sessions', async () => {
    expect(await sandbox.pay('cs_test_nope', '4242424242424242')).toMatchObject({
      outcome: 'rejected',
      reason: 'no_such_session',
    });
    const session = await stripe.checkout.sessions.create(sessionParams());
    expect(await sandbox.pay(session.id, '1234')).toMatchObject({ outcome: 'rejected', reason: 'invalid_card' });
    await sandbox.expireSession(session.id);
    expect(await sandbox.pay(session.id, '4242424242424242')).toMatchObject({ outcome: 'rejected', reason: 'session_not_open' });
  });

  it('bank debit (async): session complete unpaid, PaymentIntent processing; then it clears (paid) or fails, each with its signed event', async () => {
    const clears = await stripe.checkout.sessions.create(sessionParams());
    const submitted = await sandbox.payByBankDebit(clears.id, { name: 'Ana García' });
    expect(submitted.event.type).toBe('checkout.session.completed');
    expect(submitted.delivery.status).toBe(200);
    const processing = await stripe.checkout.sessions.retrieve(clears.id, { expand: ['payment_intent.latest_charge'] });
    expect(processing).toMatchObject({ status: 'complete', payment_status: 'unpaid' });
    const intent = processing.payment_intent as Stripe.PaymentIntent;
    expect(intent.status).toBe('processing');
    expect(intent.latest_charge).toMatchObject({
      status: 'pending',
      payment_method_details: { type: 'us_bank_account', us_bank_account: { last4: '6789', routing_number: '110000000' } },
    });
    expect(sandbox.balanceTransactions().some((bt) => bt.source === (intent.latest_charge as Stripe.Charge).id)).toBe(false);
    // Only a processing payment settles; a card session cannot be paid by debit once complete.
    await expect(
      sandbox.settleAsyncPayment((await stripe.checkout.sessions.create(sessionParams())).id, 'succeeded'),
    ).rejects.toThrow(/no payment processing/);
    await expect(sandbox.payByBankDebit(clears.id)).rejects.toThrow(/not open/);

    const cleared = await sandbox.settleAsyncPayment(clears.id, 'succeeded');
    expect(cleared.event.type).toBe('checkout.session.async_payment_succeeded');
    expect(cleared.delivery.status).toBe(200);
    const paid = await stripe.checkout.sessions.retrieve(clears.id, { expand: ['payment_intent.latest_charge'] });
    expect(paid.payment_status).toBe('paid');
    const paidIntent = paid.payment_intent as Stripe.PaymentIntent;
    expect(paidIntent).toMatchObject({ status: 'succeeded', amount_received: paid.amount_total });
    const charge = paidIntent.latest_charge as Stripe.Charge;
    expect(charge.status).toBe('succeeded');
    const booked = await stripe.balanceTransactions.retrieve(String(charge.balance_transaction));
    expect(booked).toMatchObject({ type: 'charge', amount: paid.amount_total, source: charge.id });
    expect(booked.fee).toBeGreaterThan(0);

    const fails = await stripe.checkout.sessions.create(sessionParams());
    await sandbox.payByBankDebit(fails.id);
    const failed = await sandbox.settleAsyncPayment(fails.id, 'failed');
    expect(failed.event.type).toBe('checkout.session.async_payment_failed');
    const unpaid = await stripe.checkout.sessions.retrieve(fails.id, { expand: ['payment_intent'] });
    expect(unpaid).toMatchObject({ status: 'complete', payment_status: 'unpaid' });
    expect(unpaid.payment_intent).toMatchObject({
      status: 'requires_payment_method',
      last_payment_error: { code: 'insufficient_funds', payment_method: { type: 'us_bank_account' } },
    });
  });

  it('records an unreachable webhook target instead of failing the payment', async () => {
    const down = await startWebhookReceiver(() => 'ok');
    const downUrl = down.url;
    await down.close();
    sandbox.setWebhookTarget(downUrl);
    const session = await stripe.checkout.sessions.create(sessionParams());
    const result = await sandbox.pay(session.id, '4242424242424242');
    expect(result.outcome).toBe('succeeded');
    if (result.outcome === 'succeeded') {
      expect(result.delivery.status).toBeNull();
      expect(result.delivery.error).toBeTruthy();
      expect(result.delivery.url).toBe(downUrl);
    }
  });
});

describe('refunds', () => {
  async function paidIntent(): Promise<string> {
    const session = await stripe.checkout.sessions.create(sessionParams());
    const result = await sandbox.pay(session.id, '4242424242424242');
    if (result.outcome !== 'succeeded') throw new Error('payment failed');
    return String(result.paymentIntent.id);
  }

  it('refunds partially, refuses over-refunds with Stripe’s error, tracks the refunded total', async () => {
    const intentId = await paidIntent(); // 15500
    const refund = await stripe.refunds.create({ payment_intent: intentId, amount: 6500, reason: 'requested_by_customer' });
    expect(refund.object).toBe('refund');
    expect(refund.id).toMatch(/^re_/);
    expect(refund.amount).toBe(6500);
    expect(refund.status).toBe('succeeded');
    expect(refund.payment_intent).toBe(intentId);
    expect(refund.currency).toBe('usd');
    expect(sandbox.refundedAmount(intentId)).toBe(6500);

    const over = await sdkError(stripe.refunds.create({ payment_intent: intentId, amount: 9001 }));
    expect(over).toBeInstanceOf(stripe.errors.StripeInvalidRequestError);
    expect(over.statusCode).toBe(400);
    expect(over.param).toBe('amount');
    expect(over.message).toBe('Refund amount ($90.01) is greater than unrefunded amount on charge ($90.00)');
    expect(sandbox.refundedAmount(intentId)).toBe(6500);

    const rest = await stripe.refunds.create({ payment_intent: intentId });
    expect(rest.amount).toBe(9000);
    expect(sandbox.refundedAmount(intentId)).toBe(15500);
    const done = await sdkError(stripe.refunds.create({ payment_intent: intentId, amount: 1 }));
    expect(done.code).toBe('charge_already_refunded');

    await sandbox.idle();
    const refundedEvents = sandbox.webhooks.filter((w) => w.eventType === 'charge.refunded' && w.payload.includes(intentId));
    expect(refundedEvents.map((w) => w.status)).toEqual([200, 200]);
  });

  it('replays a refund for a reused Idempotency-Key instead of refunding twice', async () => {
    const intentId = await paidIntent();
    const a = await stripe.refunds.create({ payment_intent: intentId, amount: 1000 }, { idempotencyKey: 'refund-once' });
    const b = await stripe.refunds.create({ payment_intent: intentId, amount: 1000 }, { idempotencyKey: 'refund-once' });
    expect(b.id).toBe(a.id);
    expect(sandbox.refundedAmount(intentId)).toBe(1000);
  });

  it('refuses unknown payment intents with resource_missing', async () => {
    const error = await sdkError(stripe.refunds.create({ payment_intent: 'pi_unknown' }));
    expect(error.code).toBe('resource_missing');
    expect(error.param).toBe('payment_intent');
  });
});

describe('failure injection', () => {
  it('answers the next matching request with an injected Stripe error, then recovers', async () => {
    sandbox.failNext({ match: '/v1/checkout/sessions', kind: 'error', status: 500 });
    const error = await sdkError(stripe.checkout.sessions.create(sessionParams()));
    expect(error).toBeInstanceOf(stripe.errors.StripeAPIError);
    expect(error.statusCode).toBe(500);
    const ok = await stripe.checkout.sessions.create(sessionParams());
    expect(ok.status).toBe('open');
  });

  it('injects over HTTP (POST /__sandbox/fail), e.g. a card error on refunds', async () => {
    const response = await fetch(`${sandbox.url}/__sandbox/fail`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ match: 'POST /v1/refunds', kind: 'error', status: 402, code: 'card_declined' }),
    });
    expect(response.status).toBe(200);
    const error = await sdkError(stripe.refunds.create({ payment_intent: 'pi_whatever' }));
    expect(error).toBeInstanceOf(stripe.errors.StripeCardError);
    expect(error.code).toBe('card_declined');
  });

  it('times out: the request is accepted and never answered, so the SDK throws a connection error', async () => {
    const impatient = createStripeClient({
      secretKey: SECRET_KEY,
      apiBaseUrl: sandbox.url,
      maxNetworkRetries: 0,
      timeoutMs: 300,
    });
    sandbox.failNext({ match: /^\/v1\/payment_intents\//, kind: 'timeout' });
    const error = await sdkError(impatient.paymentIntents.retrieve('pi_slow'));
    expect(error).toBeInstanceOf(stripe.errors.StripeConnectionError);
    expect(sandbox.requests.at(-1)?.path).toBe('/v1/payment_intents/pi_slow');
  });

  it('close() ends requests left hanging', async () => {
    const other = await startStripeSandbox();
    const patient = createStripeClient({ secretKey: SECRET_KEY, apiBaseUrl: other.url, maxNetworkRetries: 0 });
    other.failNext({ kind: 'timeout' });
    const pending = sdkError(patient.checkout.sessions.retrieve('cs_test_hanging'));
    while (other.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await other.close();
    expect(await pending).toBeInstanceOf(stripe.errors.StripeConnectionError);
  });
});

describe('event helpers', () => {
  it('signPayload matches stripe.webhooks.constructEvent; a tampered body or stale timestamp fails', async () => {
    const session = await stripe.checkout.sessions.create(sessionParams());
    const event = sandbox.buildEvent('checkout.session.completed', sandbox.getSession(session.id) ?? {});
    const payload = JSON.stringify(event);
    const header = sandbox.signPayload(payload);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(stripe.webhooks.constructEvent(payload, header, WEBHOOK_SECRET).id).toBe(event.id);
    expect(() => stripe.webhooks.constructEvent(payload.replace('"open"', '"complete"'), header, WEBHOOK_SECRET)).toThrow(
      stripe.errors.StripeSignatureVerificationError,
    );
    expect(() =>
      stripe.webhooks.constructEvent(payload, sandbox.signPayload(payload, { secret: 'whsec_other' }), WEBHOOK_SECRET),
    ).toThrow(stripe.errors.StripeSignatureVerificationError);
    const stale = sandbox.signPayload(payload, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect(() => stripe.webhooks.constructEvent(payload, stale, WEBHOOK_SECRET, 300)).toThrow(
      stripe.errors.StripeSignatureVerificationError,
    );
  });

  it('deliverEvent and resendEvent send the same bytes with fresh valid signatures', async () => {
    const event = sandbox.buildEvent('charge.refunded', { id: 'ch_test_manual', object: 'charge', amount_refunded: 100 });
    const first = await sandbox.deliverEvent(event);
    const second = await sandbox.resendEvent(String(event.id));
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.payload).toBe(first.payload);
    const tampered = await fetch(receiver.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': first.headers['stripe-signature'] ?? '' },
      body: first.payload.replace('100', '999'),
    });
    expect(tampered.status).toBe(400);
  });
});

describe('reset', () => {
  it('forgets objects, requests and deliveries', async () => {
    const other = await startStripeSandbox();
    try {
      const client = createStripeClient({ secretKey: SECRET_KEY, apiBaseUrl: other.url, maxNetworkRetries: 0 });
      const session = await client.checkout.sessions.create(sessionParams());
      expect(other.requests.length).toBe(1);
      other.reset();
      expect(other.requests.length).toBe(0);
      expect(other.listSessions()).toEqual([]);
      const gone = await sdkError(client.checkout.sessions.retrieve(session.id));
      expect(gone.statusCode).toBe(404);
    } finally {
      await other.close();
    }
  });
});
