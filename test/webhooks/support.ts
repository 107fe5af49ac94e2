import { createHash, randomBytes, randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { POST as paypalWebhook } from '../../api/webhooks/paypal.js';
import { POST as stripeWebhook } from '../../api/webhooks/stripe.js';
import { db, transaction } from '../../lib/db/client.js';
import { listAuditForEntity } from '../../lib/db/models/audit-log.js';
import { upsertCustomerByEmail } from '../../lib/db/models/customers.js';
import { insertOrderItems } from '../../lib/db/models/order-items.js';
import { findOrderById, insertOrder, type Order, type Provider } from '../../lib/db/models/orders.js';
import { insertPayment, listPaymentsForOrder, type Payment, updatePayment } from '../../lib/db/models/payments.js';
import { listRefundsForOrder } from '../../lib/db/models/refunds.js';
import { type TicketType, tryTakeHold } from '../../lib/db/models/ticket-types.js';
import type { StripeClient } from '../../lib/providers/stripe-client.js';
import { type StripeResource, stripeObject } from '../../sandbox/fixtures/index.js';
import { settleScheduledDeliveries } from '../../lib/messages/schedule-delivery.js';
import { call } from '../support/http.js';
import { TEST_STRIPE_WEBHOOK_SECRET } from '../support/providers.js';
import { createEventWithTicketTypes, ticketCounters, uniqueEmail } from '../support/factories.js';

/**
 * Webhook test support: Stripe payloads built from the provider's published example objects
 * (sandbox/fixtures/stripe-objects.json, from Stripe's fixtures3.json) with our ids filled in, signed with the stripe SDK's
 * generateTestHeaderString; pending orders made the way checkout makes them (hold taken, payment
 * row with the provider session id); and a read-out of everything an order's money touches.
 */

type Json = Record<string, unknown>;

/** Stripe's own example objects: the in-repo copies (sandbox/fixtures, refreshed by `npm run fixtures:sync`). */
function fixture(name: StripeResource): Json {
  return stripeObject(name) as Json;
}

const rand = (n = 24) =>
  randomBytes(n)
    .toString('base64url')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, n)
    .padEnd(n, 'x');

export const ids = {
  event: () => `evt_${rand()}`,
  session: () => `cs_test_${rand(40)}`,
  paymentIntent: () => `pi_${rand()}`,
  charge: () => `ch_${rand()}`,
  refund: () => `re_${rand()}`,
  dispute: () => `dp_${rand()}`,
};

/** The fixture `event` envelope around `object`. */
export function stripeEvent(type: string, object: Json, id = ids.event()): Json {
  const event = fixture('event');
  return { ...event, id, type, created: Math.floor(Date.now() / 1000), api_version: '2026-10-28.endive', data: { object } };
}

export interface SessionFields {
  sessionId: string;
  orderId: string;
  paymentIntentId: string | null;
  amountTotal: number;
  currency?: string;
  paymentStatus?: 'paid' | 'unpaid';
  status?: 'open' | 'complete' | 'expired';
}

/** The fixture `checkout.session` with our order and amounts. */
export function checkoutSession(fields: SessionFields): Json {
  return {
    ...fixture('checkout.session'),
    id: fields.sessionId,
    client_reference_id: fields.orderId,
    metadata: { order_id: fields.orderId },
    payment_intent: fields.paymentIntentId,
    payment_status: fields.paymentStatus ?? 'paid',
    status: fields.status ?? 'complete',
    amount_total: fields.amountTotal,
    amount_subtotal: fields.amountTotal,
    currency: (fields.currency ?? 'usd').toLowerCase(),
    url: null,
  };
}

/** The fixture `refund`. */
export function stripeRefund(fields: {
  refundId: string;
  amount: number;
  paymentIntentId: string;
  chargeId: string;
  currency?: string;
  status?: string;
  metadata?: Record<string, string>;
}): Json {
  return {
    ...fixture('refund'),
    id: fields.refundId,
    amount: fields.amount,
    currency: (fields.currency ?? 'usd').toLowerCase(),
    payment_intent: fields.paymentIntentId,
    charge: fields.chargeId,
    status: fields.status ?? 'succeeded',
    metadata: fields.metadata ?? {},
  };
}

/** The fixture `charge`, refunded by the given refunds. */
export function stripeCharge(fields: {
  chargeId: string;
  paymentIntentId: string;
  amount: number;
  orderId: string;
  refunds: Json[];
  currency?: string;
}): Json {
  const refunded = fields.refunds.reduce((sum, r) => sum + Number(r.amount), 0);
  return {
    ...fixture('charge'),
    id: fields.chargeId,
    amount: fields.amount,
    amount_captured: fields.amount,
    amount_refunded: refunded,
    captured: true,
    refunded: refunded >= fields.amount,
    currency: (fields.currency ?? 'usd').toLowerCase(),
    payment_intent: fields.paymentIntentId,
    metadata: { order_id: fields.orderId },
    refunds: { object: 'list', data: fields.refunds, has_more: false, url: `/v1/charges/${fields.chargeId}/refunds` },
  };
}

/** The fixture `dispute`. */
export function stripeDispute(fields: { paymentIntentId: string; chargeId: string; amount: number }): Json {
  return {
    ...fixture('dispute'),
    id: ids.dispute(),
    amount: fields.amount,
    charge: fields.chargeId,
    payment_intent: fields.paymentIntentId,
  };
}

/** Stripe-Signature for a body, made by the stripe SDK. */
export function sign(payload: string, options: { secret?: string; timestamp?: number } = {}): string {
  return Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? TEST_STRIPE_WEBHOOK_SECRET,
    ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
  });
}

/** Delivers a Stripe event to the route handler as Stripe would (raw body + signature). */
export async function deliverStripe(
  event: Json | string,
  options: { secret?: string; timestamp?: number; signature?: string | null } = {},
): Promise<{ status: number; body: any }> {
  const payload = typeof event === 'string' ? event : JSON.stringify(event);
  const signature = options.signature === undefined ? sign(payload, options) : options.signature;
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (signature !== null) headers['stripe-signature'] = signature;
  const response = await call(stripeWebhook, { method: 'POST', path: '/api/webhooks/stripe', headers, rawBody: payload });
  // And its after-response work (waitUntil on Vercel: the Stripe fee read, email), so tests see it done.
  await settleScheduledDeliveries();
  return { status: response.status, body: response.body };
}

/** Posts a raw PayPal webhook body with the given headers straight to the route handler. */
export async function deliverPayPal(rawBody: string, headers: Record<string, string>) {
  return await call(paypalWebhook, {
    method: 'POST',
    path: '/api/webhooks/paypal',
    headers: { 'content-type': 'application/json', ...headers },
    rawBody,
  });
}

export interface PendingOrder {
  order: Order;
  payment: Payment;
  ticketType: TicketType;
  quantity: number;
  sessionId: string;
  paymentIntentId: string;
  chargeId: string;
}

/**
 * A pending order as checkout leaves it: customer, order with a live hold, `quantity` active items,
 * the hold counted in ticket_types.held, a pending payment carrying the provider session id.
 */
export async function createPendingOrder(
  options: {
    quantity?: number;
    priceCents?: number;
    capacity?: number;
    provider?: Provider;
    sessionId?: string;
    ticketType?: TicketType;
    holdMinutes?: number;
  } = {},
): Promise<PendingOrder> {
  const quantity = options.quantity ?? 2;
  const priceCents = options.priceCents ?? 5_000;
  const ticketType =
    options.ticketType ??
    (await createEventWithTicketTypes({ pass: { priceCents, capacity: options.capacity ?? 100 } })).types.pass;
  const provider = options.provider ?? 'stripe';
  const sessionId = options.sessionId ?? (provider === 'stripe' ? ids.session() : `PP${rand(15).toUpperCase()}`);
  const total = ticketType.priceCents * quantity;
  const { order, payment } = await transaction(async (tx) => {
    const customer = await upsertCustomerByEmail(tx, { email: uniqueEmail('wh'), firstName: 'Ana', lastName: 'García' });
    if (!(await tryTakeHold(tx, ticketType.id, quantity))) throw new Error('no capacity for the test hold');
    const order = await insertOrder(tx, {
      eventId: ticketType.eventId,
      customerId: customer.id,
      currency: ticketType.currency,
      subtotalCents: total,
      discountCents: 0,
      totalCents: total,
      slidingScalePercent: 0,
      provider,
      accessTokenHash: createHash('sha256').update(randomUUID()).digest('hex'),
      holdExpiresAt: new Date(Date.now() + (options.holdMinutes ?? 30) * 60_000),
    });
    await insertOrderItems(
      tx,
      order.id,
      Array.from({ length: quantity }, () => ({
        ticketTypeId: ticketType.id,
        unitPriceCents: ticketType.priceCents,
        discountCents: 0,
        priceCents: ticketType.priceCents,
        currency: ticketType.currency,
      })),
    );
    const inserted = await insertPayment(tx, { orderId: order.id, provider, amountCents: total, currency: ticketType.currency });
    const payment = await updatePayment(tx, inserted.id, { providerSessionId: sessionId });
    return { order, payment };
  });
  return { order, payment, ticketType, quantity, sessionId, paymentIntentId: ids.paymentIntent(), chargeId: ids.charge() };
}

/** Everything an order's money touches, for comparing end states. */
export async function orderState(orderId: string, ticketTypeId: string) {
  const order = await findOrderById(db, orderId);
  if (!order) throw new Error(`order ${orderId} not found`);
  const payments = await listPaymentsForOrder(db, orderId);
  const refunds = await listRefundsForOrder(db, orderId);
  const audit = await listAuditForEntity(db, 'order', orderId);
  const counters = await ticketCounters(ticketTypeId);
  return { order, payments, refunds, audit, counters };
}

/** Inbox rows for one provider event id. */
export async function inboxRow(providerEventId: string, provider: Provider = 'stripe') {
  return await db.queryOne<{
    id: string;
    status: string;
    attempts: number;
    lastError: string | null;
    nextAttemptAt: Date | null;
  }>(
    `SELECT id, status, attempts, last_error AS "lastError", next_attempt_at AS "nextAttemptAt"
     FROM webhook_events WHERE provider = $1 AND provider_event_id = $2`,
    [provider, providerEventId],
  );
}

export async function countInbox(providerEventId: string): Promise<number> {
  const row = await db.queryOne<{ n: number }>('SELECT count(*)::int AS n FROM webhook_events WHERE provider_event_id = $1', [
    providerEventId,
  ]);
  return row?.n ?? 0;
}

/** The fixture `checkout.session` of a pending order as Stripe reports it paid (override any field). */
export function paidSessionFor(p: PendingOrder, overrides: Partial<SessionFields> = {}): Json {
  return checkoutSession({
    sessionId: p.sessionId,
    orderId: p.order.id,
    paymentIntentId: p.paymentIntentId,
    amountTotal: p.order.totalCents,
    ...overrides,
  });
}

/** The pending order's Checkout Session (or `sessionId`) as Stripe reports it expired: unpaid, no payment intent. */
export function expiredSessionFor(p: PendingOrder, sessionId = p.sessionId): Json {
  return paidSessionFor(p, { sessionId, paymentIntentId: null, paymentStatus: 'unpaid', status: 'expired' });
}

/** The fixture `refund` against a pending order's payment, for the whole order unless overridden. */
export function refundFor(p: PendingOrder, overrides: Partial<Parameters<typeof stripeRefund>[0]> = {}): Json {
  return stripeRefund({
    refundId: ids.refund(),
    amount: p.order.totalCents,
    paymentIntentId: p.paymentIntentId,
    chargeId: p.chargeId,
    ...overrides,
  });
}

/** The fixture `charge` of a pending order, refunded by the given refunds. */
export function refundedChargeFor(p: PendingOrder, refunds: Json[]): Json {
  return stripeCharge({
    chargeId: p.chargeId,
    paymentIntentId: p.paymentIntentId,
    amount: p.order.totalCents,
    orderId: p.order.id,
    refunds,
  });
}

/** A Checkout Session on the Stripe sandbox for a pending order, as checkout would create it; its payment points at it. */
export async function sandboxSessionFor(stripe: StripeClient, p: PendingOrder): Promise<string> {
  const session = await stripe.checkout.sessions.create({
    mode: 'payment',
    client_reference_id: p.order.id,
    metadata: { order_id: p.order.id },
    payment_intent_data: { metadata: { order_id: p.order.id } },
    success_url: 'http://localhost:3000/thanks',
    line_items: [
      {
        quantity: p.quantity,
        price_data: { currency: 'usd', unit_amount: p.ticketType.priceCents, product_data: { name: p.ticketType.name } },
      },
    ],
  });
  await db.query('UPDATE payments SET provider_session_id = $2 WHERE id = $1', [p.payment.id, session.id]);
  return session.id;
}
