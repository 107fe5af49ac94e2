import { getConfig } from '../config.js';
import { db, transaction, type Tx } from '../db/client.js';
import { type Actor, appendAudit } from '../db/models/audit-log.js';
import { findOrCreateCustomerByEmail } from '../db/models/customers.js';
import { recordOrderBuyer } from '../db/models/order-buyer.js';
import { type FestivalEvent, findEventBySlug } from '../db/models/events.js';
import { enforceHoldCaps, holdKeysFor } from './hold-caps.js';
import { insertOrderItems, type NewOrderItem } from '../db/models/order-items.js';
import { insertOrder, type Order, type Provider } from '../db/models/orders.js';
import { insertPayment, type Payment, updatePayment } from '../db/models/payments.js';
import {
  findTicketTypesByCodes,
  listTicketAvailability,
  type TicketAvailability,
  type TicketType,
  tryTakeHold,
} from '../db/models/ticket-types.js';
import { tagOrderIdempotencyKey } from '../db/models/checkout-recovery.js';
import { AppError } from '../errors.js';
import { log } from '../log.js';
import type { Currency } from '../money.js';
import { type CheckoutProvider, ProviderError } from '../providers/checkout-provider.js';
import { getCheckoutProvider } from '../providers/index.js';
import { unsafeCrashPointForTests } from '../testing/crash-points.js';
import { generateAccessToken } from './access-token.js';
import { failCheckoutAfterProviderError } from './fail-checkout.js';
import { reclaimExpiredHolds } from './holds.js';
import { releaseCheckoutsLeftByKey } from './release-abandoned-checkouts.js';
import { type OrderPricing, type PricedLine, PricingError, priceOrder } from './pricing.js';
import { eventHasEnded, isEventOnSale } from './sales-window.js';
import type { CheckoutSessionRequest } from './schemas.js';

/**
 * POST /api/payments/checkout-session, the domain side.
 *
 * 1. Validate everything that can be validated without writing (event, ticket types, sale window,
 *    max per order, return URLs, provider configured). A refusal here writes nothing.
 * 2. ONE short transaction: upsert the customer, insert the order (pending, with its hold expiry),
 *    one item per ticket, a pending payment and an audit entry, and LAST take the hold of every
 *    ticket type with a conditional UPDATE (all or nothing: one failure rolls everything back).
 *    Taking the holds last keeps the hot ticket_types row locked only from its UPDATE to COMMIT.
 * 3. When a hold cannot be taken, reclaim the EXPIRED holds of that ticket type (when there are
 *    any) and try once more, so an expired hold never blocks a sale even if the cron has not run.
 * 4. Outside any transaction: create the provider checkout with the deterministic idempotency key
 *    `checkout-<orderId>`, then record its id and URL on the payment. A provider failure or
 *    time-out releases the hold, fails the order and records the failure (one transaction) → 502.
 *    A crash between 2 and 4 leaves a hold no one can pay: the retry with the same Idempotency-Key
 *    releases it first, and the hold cron releases it once the request is over
 *    (release-abandoned-checkouts.ts).
 */

export interface CheckoutContext {
  actor: Actor;
  /**
   * The request's Idempotency-Key hash (as stored in idempotency_keys): recorded on the order, so that
   * a retry after a crash releases what the dead attempt held (release-abandoned-checkouts.ts).
   */
  idempotencyKeyHash?: string | undefined;
}

export interface CheckoutSessionCreated {
  orderId: string;
  orderNumber: string;
  status: Order['status'];
  totalCents: number;
  currency: Currency;
  provider: Provider;
  checkoutUrl: string;
  expiresAt: string;
  /** Shown once; only its hash is stored. */
  accessToken: string;
}

/** Extra time on every hold so the provider call still sees ≥ 30 minutes left (Stripe's minimum expires_at). */
export const HOLD_SLACK_MS = 60_000;
const STRIPE_MAX_EXPIRY_MS = 24 * 3_600_000 - 60_000;
/** Stripe refuses a Checkout Session that expires sooner than 30 minutes. */
const PROVIDER_SESSION_MIN_MS = 30 * 60_000;

/** The provider session lasts as long as the hold, but never less than the provider's minimum (+ slack) nor more than its maximum. */
function providerSessionExpiry(holdExpiresAt: Date): Date {
  const now = Date.now();
  const expiry =
    holdExpiresAt.getTime() >= now + PROVIDER_SESSION_MIN_MS
      ? holdExpiresAt.getTime()
      : Math.ceil((now + PROVIDER_SESSION_MIN_MS + HOLD_SLACK_MS) / 1000) * 1000;
  return new Date(Math.min(expiry, now + STRIPE_MAX_EXPIRY_MS));
}

function fieldError(path: string, message: string): AppError {
  return new AppError('VALIDATION_ERROR', `Invalid request body: ${path}`, { details: { fields: [{ path, message }] } });
}

export interface ReturnUrls {
  successUrl: string;
  cancelUrl: string;
}

/** Return URLs must be on an allowed origin (ALLOWED_ORIGINS); defaults derive from PUBLIC_SITE_URL. */
export function resolveReturnUrls(request: Pick<CheckoutSessionRequest, 'successUrl' | 'cancelUrl'>): ReturnUrls {
  const { allowedOrigins, publicSiteUrl } = getConfig().http;
  const check = (field: string, value: string): string => {
    let origin: string;
    try {
      origin = new URL(value).origin;
    } catch {
      throw fieldError(field, 'must be a URL');
    }
    if (!allowedOrigins.includes(origin)) throw fieldError(field, 'must be on one of the festival site origins');
    return value;
  };
  const base = (publicSiteUrl ?? allowedOrigins[0])?.replace(/\/+$/, '');
  if ((!request.successUrl || !request.cancelUrl) && !base) {
    throw fieldError(request.successUrl ? 'cancelUrl' : 'successUrl', 'is required (no default site configured)');
  }
  return {
    successUrl: check('successUrl', request.successUrl ?? `${base}/tickets/success`),
    cancelUrl: check('cancelUrl', request.cancelUrl ?? `${base}/tickets/cancel`),
  };
}

function withQuery(url: string, params: Record<string, string>, raw = ''): string {
  const parsed = new URL(url);
  for (const [key, value] of Object.entries(params)) parsed.searchParams.set(key, value);
  const text = parsed.toString();
  if (!raw) return text;
  // Raw parameters (Stripe's {CHECKOUT_SESSION_ID} template) must stay unencoded; put them before any fragment.
  const hash = text.indexOf('#');
  const head = hash < 0 ? text : text.slice(0, hash);
  const tail = hash < 0 ? '' : text.slice(hash);
  return `${head}${head.includes('?') ? '&' : '?'}${raw}${tail}`;
}

interface CheckedOrder {
  event: FestivalEvent;
  pricing: OrderPricing;
  /** Per ticket type: the request item, for attendees. */
  items: { type: TicketType; quantity: number; attendees: CheckoutSessionRequest['items'][number]['attendees'] }[];
}

/** Everything that can be refused without writing anything. */
async function checkOrder(request: CheckoutSessionRequest, now: Date): Promise<CheckedOrder> {
  const event = await findEventBySlug(db, request.event);
  if (!event || event.status === 'draft') throw fieldError('event', 'no such event');
  const codes = request.items.map((item) => item.ticketType);
  const types = await findTicketTypesByCodes(db, event.id, codes);
  const byCode = new Map(types.map((t) => [t.code, t]));
  request.items.forEach((item, index) => {
    if (!byCode.has(item.ticketType)) throw fieldError(`items.${index}.ticketType`, 'no such ticket type for this event');
  });
  if (!isEventOnSale(event, now)) {
    const ended = eventHasEnded(event, now);
    throw new AppError('SALES_CLOSED', `Ticket sales for ${event.name} ${ended ? 'ended with the event' : 'are closed'}`, {
      details: { event: event.slug, ...(ended ? { endedAt: event.endsAt.toISOString() } : {}) },
    });
  }
  const items = request.items.map((item) => {
    const type = byCode.get(item.ticketType);
    if (!type) throw fieldError('items', 'no such ticket type for this event');
    if (!type.isActive) {
      throw new AppError('TICKET_TYPE_INACTIVE', `${type.name} is not available`, { details: { ticketType: type.code } });
    }
    if ((type.salesStartAt && now < type.salesStartAt) || (type.salesEndAt && now >= type.salesEndAt)) {
      throw new AppError('SALES_CLOSED', `${type.name} is not on sale right now`, {
        details: {
          ticketType: type.code,
          salesStartAt: type.salesStartAt?.toISOString() ?? null,
          salesEndAt: type.salesEndAt?.toISOString() ?? null,
        },
      });
    }
    if (item.quantity > type.maxPerOrder) {
      throw new AppError('MAX_PER_ORDER_EXCEEDED', `At most ${type.maxPerOrder} ${type.name} tickets per order`, {
        details: { ticketType: type.code, maxPerOrder: type.maxPerOrder, requested: item.quantity },
      });
    }
    return { type, quantity: item.quantity, attendees: item.attendees };
  });
  let pricing: OrderPricing;
  try {
    pricing = priceOrder(
      items.map(({ type, quantity }) => ({
        ticketTypeId: type.id,
        code: type.code,
        name: type.name,
        unitPriceCents: type.priceCents,
        currency: type.currency,
        slidingScale: type.slidingScale,
        quantity,
      })),
      request.slidingScalePercent ?? 0,
    );
  } catch (error) {
    if (error instanceof PricingError) throw new AppError('UNPROCESSABLE', error.message);
    throw error;
  }
  if (pricing.totalCents === 0) {
    throw new AppError('UNPROCESSABLE', 'This order costs nothing; free tickets are not sold through card checkout');
  }
  return { event, pricing, items };
}

class HoldUnavailable extends Error {
  constructor(readonly ticketTypeId: string) {
    super('hold unavailable');
  }
}

interface CreatedOrder {
  order: Order;
  payment: Payment;
  accessToken: string;
}

function ticketRows(checked: CheckedOrder): NewOrderItem[] {
  const rows: NewOrderItem[] = [];
  for (const item of checked.items) {
    const line = checked.pricing.lines.find((l) => l.ticketTypeId === item.type.id);
    if (!line) throw new Error('priced line missing');
    for (let i = 0; i < item.quantity; i++) {
      const attendee = item.attendees?.[i];
      rows.push({
        ticketTypeId: item.type.id,
        unitPriceCents: line.unitPriceCents,
        discountCents: line.unitDiscountCents,
        priceCents: line.unitNetCents,
        currency: line.currency,
        attendeeFirstName: attendee?.firstName ?? null,
        attendeeLastName: attendee?.lastName ?? null,
        attendeeEmail: attendee?.email ?? null,
      });
    }
  }
  return rows;
}

async function insertOrderWithHolds(
  tx: Tx,
  request: CheckoutSessionRequest,
  checked: CheckedOrder,
  holdExpiresAt: Date,
  accessTokenHash: string,
  actor: Actor,
  idempotencyKeyHash?: string,
): Promise<{ order: Order; payment: Payment }> {
  const { pricing } = checked;
  const holdKeys = holdKeysFor(actor.ip, request.customer.email);
  await enforceHoldCaps(
    tx,
    holdKeys,
    pricing.lines.reduce((sum, line) => sum + line.quantity, 0),
  );
  const buyer = {
    email: request.customer.email,
    firstName: request.customer.firstName,
    lastName: request.customer.lastName,
    phone: request.customer.phone ?? null,
  };
  // Never rewrites an existing customer (an unauthenticated request); the order keeps its own copy.
  const customer = await findOrCreateCustomerByEmail(tx, { ...buyer, phone: buyer.phone ?? undefined });
  const order = await insertOrder(tx, {
    eventId: checked.event.id,
    customerId: customer.id,
    currency: pricing.currency,
    subtotalCents: pricing.subtotalCents,
    discountCents: pricing.discountCents,
    totalCents: pricing.totalCents,
    slidingScalePercent: pricing.slidingScalePercent,
    provider: request.provider,
    accessTokenHash,
    holdExpiresAt,
    metadata: actor.requestId ? { requestId: actor.requestId } : {},
  });
  await recordOrderBuyer(tx, order.id, buyer, holdKeys);
  if (idempotencyKeyHash) await tagOrderIdempotencyKey(tx, order.id, idempotencyKeyHash);
  await insertOrderItems(tx, order.id, ticketRows(checked));
  const payment = await insertPayment(tx, {
    orderId: order.id,
    provider: request.provider,
    amountCents: pricing.totalCents,
    currency: pricing.currency,
  });
  await appendAudit(tx, {
    entityType: 'order',
    entityId: order.id,
    action: 'checkout_started',
    actor: { ...actor, id: actor.id ?? customer.id },
    newValues: {
      status: order.status,
      orderNumber: order.orderNumber,
      provider: request.provider,
      currency: pricing.currency,
      subtotalCents: pricing.subtotalCents,
      discountCents: pricing.discountCents,
      totalCents: pricing.totalCents,
      slidingScalePercent: pricing.slidingScalePercent,
      holdExpiresAt: holdExpiresAt.toISOString(),
      items: pricing.lines.map((l) => ({ ticketType: l.code, quantity: l.quantity, unitNetCents: l.unitNetCents })),
    },
  });
  // Last, in a fixed order (by id) so two multi-type orders never wait on each other in a cycle.
  const byId = [...pricing.lines].sort((a, b) => (a.ticketTypeId < b.ticketTypeId ? -1 : 1));
  for (const line of byId) {
    if (!(await tryTakeHold(tx, line.ticketTypeId, line.quantity))) throw new HoldUnavailable(line.ticketTypeId);
  }
  return { order, payment };
}

function soldOut(line: PricedLine, availability: TicketAvailability | undefined): AppError {
  const remaining = availability ? Math.max(0, availability.capacity - availability.taken) : 0;
  return new AppError(
    'SOLD_OUT',
    remaining === 0 ? `${line.name} is sold out` : `Only ${remaining} ${line.name} ticket${remaining === 1 ? '' : 's'} left`,
    { details: { ticketType: line.code, name: line.name, requested: line.quantity, remaining } },
  );
}

/** Holds the tickets and writes the order; SOLD_OUT when a type cannot be held even after reclaiming expired holds. */
async function holdAndInsert(
  request: CheckoutSessionRequest,
  checked: CheckedOrder,
  holdExpiresAt: Date,
  actor: Actor,
  idempotencyKeyHash?: string,
): Promise<CreatedOrder> {
  const lines = checked.pricing.lines;
  // The counters read by checkOrder a moment ago are the first (advisory) look at what is left.
  let counters = new Map<string, Pick<TicketAvailability, 'capacity' | 'taken'>>(
    checked.items.map(({ type }) => [type.id, type]),
  );
  let reclaimed = false;
  for (;;) {
    // When a type is clearly short, refuse (or reclaim) without opening a transaction. The
    // conditional UPDATE in the transaction stays the only authority for taking tickets.
    let failing = lines.find((l) => {
      const c = counters.get(l.ticketTypeId);
      return !c || c.capacity - c.taken < l.quantity;
    });
    if (!failing) {
      const { token, hash } = generateAccessToken();
      try {
        const created = await transaction((tx) =>
          insertOrderWithHolds(tx, request, checked, holdExpiresAt, hash, actor, idempotencyKeyHash),
        );
        return { ...created, accessToken: token };
      } catch (error) {
        if (!(error instanceof HoldUnavailable)) throw error;
        failing = lines.find((l) => l.ticketTypeId === error.ticketTypeId);
        if (!failing) throw error;
      }
    }
    // Short: is it only short because of holds that have already expired?
    const [current] = await listTicketAvailability(db, { ticketTypeIds: [failing.ticketTypeId] });
    if (!reclaimed && current && current.expiredHeld > 0) {
      reclaimed = true;
      await reclaimExpiredHolds({
        ticketTypeId: failing.ticketTypeId,
        actor: { ...actor, type: 'system' },
        reason: 'expired hold reclaimed by checkout',
      });
      counters = new Map(
        (await listTicketAvailability(db, { ticketTypeIds: lines.map((l) => l.ticketTypeId) })).map((a) => [a.id, a]),
      );
      continue;
    }
    throw soldOut(failing, current);
  }
}

function providerLines(pricing: OrderPricing) {
  return pricing.lines.map((line) => ({
    name: line.appliedPercent > 0 ? `${line.name} (sliding scale, ${line.appliedPercent}% off)` : line.name,
    sku: line.code,
    unitAmountCents: line.unitNetCents,
    quantity: line.quantity,
  }));
}

export async function createCheckoutSession(
  request: CheckoutSessionRequest,
  context: CheckoutContext,
): Promise<CheckoutSessionCreated> {
  const config = getConfig();
  const returnUrls = resolveReturnUrls(request);
  const now = new Date();
  // The provider's SDK loads (first use in this instance) while the order is checked against the database;
  // it is awaited before anything is written, so a ConfigError (provider not configured) still writes nothing.
  const providerReady = getCheckoutProvider(request.provider);
  providerReady.catch(() => undefined); // rethrown below; no unhandled rejection when checkOrder throws first
  const checked = await checkOrder(request, now);
  const provider: CheckoutProvider = await providerReady;

  // A retry of a request that died after its hold: release what that attempt left before holding again.
  if (context.idempotencyKeyHash) await releaseCheckoutsLeftByKey(context.idempotencyKeyHash, context.actor);

  const holdMs = config.checkout.holdMinutes * 60_000 + HOLD_SLACK_MS;
  const holdExpiresAt = new Date(Math.ceil((Date.now() + holdMs) / 1000) * 1000);
  const { order, payment, accessToken } = await holdAndInsert(
    request,
    checked,
    holdExpiresAt,
    context.actor,
    context.idempotencyKeyHash,
  );
  unsafeCrashPointForTests('checkout.after-hold');

  const orderParams = { order_id: order.id };
  let created: { sessionId: string; checkoutUrl: string };
  try {
    created = await provider.createCheckout({
      orderId: order.id,
      orderNumber: order.orderNumber,
      currency: checked.pricing.currency,
      totalCents: checked.pricing.totalCents,
      lines: providerLines(checked.pricing),
      customerEmail: request.customer.email,
      expiresAt: providerSessionExpiry(holdExpiresAt),
      successUrl:
        request.provider === 'stripe'
          ? withQuery(returnUrls.successUrl, orderParams, 'session_id={CHECKOUT_SESSION_ID}')
          : withQuery(returnUrls.successUrl, orderParams),
      cancelUrl: withQuery(returnUrls.cancelUrl, orderParams),
      idempotencyKey: `checkout-${order.id}`,
      description: `${checked.event.name}, order ${order.orderNumber}`,
    });
  } catch (error) {
    const providerError =
      error instanceof ProviderError
        ? error
        : new ProviderError(request.provider, 'unexpected_error', error instanceof Error ? error.message : String(error), {
            kind: 'api',
            cause: error,
          });
    log.warn('checkout provider call failed', {
      orderId: order.id,
      provider: request.provider,
      code: providerError.code,
      kind: providerError.kind,
      requestId: context.actor.requestId,
    });
    try {
      await failCheckoutAfterProviderError(order, payment, providerError, context.actor);
    } catch (cleanupError) {
      // The hold then ends with its expiry (cron / reclaim); the buyer still gets the 502.
      log.error('releasing the hold after a provider failure failed', { orderId: order.id, error: cleanupError });
    }
    throw new AppError(
      'PROVIDER_UNAVAILABLE',
      'The payment provider is not available right now. Nothing was charged and the tickets were released; please try again.',
      { details: { provider: request.provider }, cause: providerError },
    );
  }

  await updatePayment(db, payment.id, { providerSessionId: created.sessionId, checkoutUrl: created.checkoutUrl });
  return {
    orderId: order.id,
    orderNumber: order.orderNumber,
    status: order.status,
    totalCents: order.totalCents,
    currency: order.currency,
    provider: order.provider,
    checkoutUrl: created.checkoutUrl,
    expiresAt: holdExpiresAt.toISOString(),
    accessToken,
  };
}
