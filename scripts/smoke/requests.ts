import { randomBytes, randomUUID } from 'node:crypto';
import { stripeObject } from '../../sandbox/fixtures/index.js';
import { createSmokeApiKey } from './api-key.js';
import type { RequestBuildContext, RequestBuilder, RequestSpec } from './types.js';

/**
 * Request builders of the expectation table: what the deeper (`also`) calls send: a checkout of a seeded ticket
 * type, a real API key, Stripe events signed by the stripe package, a PayPal event signed by the local sandbox.
 */

export const buyerHeaders = { origin: 'http://localhost:3000' };
/** A webhook delivery without any signature: refused with 400 before anything is stored. */
export const unsignedWebhook: RequestSpec = { body: '{"id":"evt_unsigned"}', headers: { 'content-type': 'application/json' } };

/** Memoised per smoke run (keyed by the run's `query`): one API key, one signed event, however many calls use it. */
export function perRun<T>(make: (ctx: RequestBuildContext) => Promise<T>): (ctx: RequestBuildContext) => Promise<T> {
  const made = new WeakMap<RequestBuildContext['query'], Promise<T>>();
  return (ctx) => {
    let value = made.get(ctx.query);
    if (!value) {
      value = make(ctx);
      made.set(ctx.query, value);
    }
    return value;
  };
}

/** A checkout of one ticket of the cheapest on-sale type (the CLI seeds the demo event unless --no-seed). */
export function checkoutRequest(provider: 'stripe' | 'paypal'): RequestBuilder {
  return async (ctx) => {
    const [row] = await ctx.query<{ slug: string; code: string }>(
      `SELECT e.slug, t.code FROM ticket_types t JOIN events e ON e.id = t.event_id
        WHERE e.status = 'on_sale' ORDER BY t.price_cents, t.code LIMIT 1`,
    );
    if (!row) throw new Error('no on-sale ticket type in the smoke database (the CLI seeds one unless --no-seed)');
    return {
      headers: { ...buyerHeaders, 'idempotency-key': `smoke-${provider}-${randomUUID()}` },
      body: {
        event: row.slug,
        items: [{ ticketType: row.code, quantity: 1 }],
        customer: { email: 'smoke@example.com', firstName: 'Smoke', lastName: 'Test' },
        provider,
      },
    };
  };
}

/** A staff API key with every scope, made through lib/auth (see api-key.ts), once per run. */
export const smokeApiKey = perRun(async (ctx) => {
  if (!ctx.databaseUrl) throw new Error('DATABASE_URL is not set: the smoke API key goes into the smoke database');
  return await createSmokeApiKey(ctx.databaseUrl);
});

/** A request carrying the smoke API key (`Authorization: Bearer bf_test_...`). */
export function withApiKey(spec: (key: { key: string; id: string }) => RequestSpec = () => ({})): RequestBuilder {
  return async (ctx) => {
    const key = await smokeApiKey(ctx);
    const built = spec(key);
    return { ...built, headers: { ...(built.headers ?? {}), authorization: `Bearer ${key.key}` } };
  };
}

/** A copy of one of Stripe's published example objects (sandbox/fixtures/stripe-objects.json). */
export function stripeFixture(name: 'event' | 'checkout.session' | 'charge'): Record<string, unknown> {
  return stripeObject(name);
}

/**
 * A Stripe event delivery: the fixture envelope around `object`, signed with (the first) STRIPE_WEBHOOK_SECRET
 * by the stripe package, as Stripe signs it.
 */
export async function signedStripeEvent(
  ctx: RequestBuildContext,
  type: string,
  object: Record<string, unknown>,
): Promise<RequestSpec> {
  const secret = ctx.env.STRIPE_WEBHOOK_SECRET?.split(',')[0]?.trim();
  if (!secret) throw new Error('STRIPE_WEBHOOK_SECRET is not set');
  const { default: Stripe } = await import('stripe');
  const payload = JSON.stringify({
    ...stripeFixture('event'),
    id: `evt_smoke_${randomBytes(12).toString('hex')}`,
    type,
    created: Math.floor(Date.now() / 1000),
    data: { object },
  });
  const signature = new Stripe('sk_test_smoke').webhooks.generateTestHeaderString({ payload, secret });
  return { headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload };
}

/** checkout.session.expired for a session no order has: stored, dispatched, ignored ("No matching order"). Once per run, so it can be resent. */
export const expiredUnknownSession = perRun((ctx) =>
  signedStripeEvent(ctx, 'checkout.session.expired', {
    ...stripeFixture('checkout.session'),
    id: `cs_test_smoke_${randomBytes(12).toString('hex')}`,
    status: 'expired',
    payment_status: 'unpaid',
    client_reference_id: null,
    metadata: {},
    payment_intent: null,
    url: null,
  }),
);

/**
 * CHECKOUT.ORDER.APPROVED as the local PayPal sandbox delivers it: an order created on the sandbox (for no
 * order of ours), approved as the buyer would; the sandbox renders the event and signs it with its key, whose
 * certificate it serves at PAYPAL-CERT-URL on PAYPAL_API_BASE's host (an allowed host outside production).
 */
export async function signedPayPalApproval(ctx: RequestBuildContext): Promise<RequestSpec> {
  const sandbox = ctx.paypalSandbox;
  if (!sandbox)
    throw new Error('needs the local PayPal sandbox to sign the event (the CLI starts it unless --no-paypal-sandbox)');
  const credentials = `${ctx.env.PAYPAL_CLIENT_ID ?? 'smoke'}:${ctx.env.PAYPAL_CLIENT_SECRET ?? 'smoke'}`;
  const tokenResponse = await fetch(`${sandbox.url}/v1/oauth2/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  const token = (await tokenResponse.json()) as { access_token?: string };
  if (!token.access_token) throw new Error(`PayPal sandbox token: HTTP ${tokenResponse.status}`);
  const orderResponse = await fetch(`${sandbox.url}/v2/checkout/orders`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      intent: 'CAPTURE',
      purchase_units: [
        {
          reference_id: randomUUID(),
          custom_id: randomUUID(),
          invoice_id: `SMOKE-${randomBytes(6).toString('hex')}`,
          amount: { currency_code: 'EUR', value: '10.00' },
        },
      ],
    }),
  });
  const order = (await orderResponse.json()) as { id?: string };
  if (!order.id) throw new Error(`PayPal sandbox order: HTTP ${orderResponse.status}`);
  const approved = await sandbox.approve(order.id);
  if (approved.outcome !== 'approved') throw new Error(`PayPal sandbox approval: ${approved.message}`);
  const { headers, payload } = approved.delivery;
  if (!headers['paypal-transmission-sig']) throw new Error('the PayPal sandbox did not sign the event (no webhook id)');
  return { headers, body: payload };
}

/** `/<base>/<random uuid><tail>?id=<it>`: a dynamic route (`[id]`, or `[id]/<tail>`) for an id nothing has. */
export function unknownIdPath(base: string, tail = ''): RequestSpec {
  const id = randomUUID();
  return { path: `/${base}/${id}${tail}?id=${id}` };
}
