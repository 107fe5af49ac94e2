import { getConfig } from '../config.js';
import { db } from '../db/client.js';
import type { Actor } from '../db/models/audit-log.js';
import type { FestivalEvent } from '../db/models/events.js';
import type { NewOrderItem } from '../db/models/order-items.js';
import type { Order, Provider } from '../db/models/orders.js';
import type { SlidingCount, SlidingWindowHit } from '../db/models/rate-limits.js';
import {
  type CatalogTicketType,
  type CheckoutRead,
  type CheckoutReadInput,
  checkoutReadGroupKey,
  type PlaceCheckoutOrderOutcome,
  placeCheckoutOrder,
  readCheckout,
  readCheckouts,
  type CheckoutSessionRecord,
  recordCheckoutSessions,
} from '../db/queries/checkout.js';
import { halfThePool, statementGroups } from '../db/statement-groups.js';
import { AppError } from '../errors.js';
import { log } from '../log.js';
import type { Currency } from '../money.js';
import { type CheckoutProvider, ProviderError } from '../providers/checkout-provider.js';
import { getCheckoutProvider } from '../providers/index.js';
import { unsafeCrashPointForTests } from '../testing/crash-points.js';
import { generateAccessToken } from './access-token.js';
import { failCheckoutAfterProviderError } from './fail-checkout.js';
import { holdCapError, holdCaps, holdKeysFor } from './hold-caps.js';
import { reclaimExpiredHolds } from './holds.js';
import { releaseCheckoutsLeftByKey } from './release-abandoned-checkouts.js';
import { type OrderPricing, type PricedLine, PricingError, priceOrder } from './pricing.js';
import { eventHasEnded, isEventOnSale } from './sales-window.js';
import type { CheckoutSessionRequest } from './schemas.js';

/**
 * POST /api/payments/checkout-session, the domain side. Issue 17 (flash-sale speed): a successful
 * checkout is THREE statements, a sold-out answer ONE (lib/db/queries/checkout.ts, migration 0100).
 *
 * 1. One fresh read (no lock): the event and the requested ticket types with their counters and
 *    reclaimable holds, plus what the HTTP layer folds in (the rate-limit hits, the Idempotency-Key
 *    look-up). Concurrent requests share the statement (checkoutReads below), each read still fresh.
 *    Everything that can be refused without writing is refused from it (event, ticket types, sale window,
 *    max per order, return URLs, provider configured) and so is a line that is short (SOLD_OUT with
 *    `remaining`): a refusal may come from a fresh read, a grant never does.
 *    No catalogue cache: the read is fresh, and the write below still re-checks the catalogue versions
 *    ('stale' → read again, once).
 * 2. ONE statement, its own transaction (checkout_place_order): the hold caps (advisory locks per client
 *    and email, then the count), the Idempotency-Key claim, customer, order (pending, with its hold
 *    expiry, buyer snapshot and key hash), one item per ticket, a pending payment and an audit entry, and
 *    LAST the conditional UPDATE of every ticket type's hold, all or nothing. The hot ticket_types row
 *    is locked from its UPDATE to the commit that ends the same statement: no round trip in between.
 * 3. When a hold cannot be taken, reclaim the EXPIRED holds of that ticket type (when there are
 *    any) and try once more, so an expired hold never blocks a sale even if the cron has not run.
 * 4. Outside any transaction: create the provider checkout with the deterministic idempotency key
 *    `checkout-<orderId>`, then ONE statement records its id and URL on the payment together with the
 *    stored answer of the Idempotency-Key (checkout_record_sessions, shared by concurrent sales:
 *    checkoutRecords below). A provider failure or time-out
 *    releases the hold, fails the order and records the failure (one transaction) → 502.
 *    A crash between 2 and 4 leaves a hold no one can pay: the retry with the same Idempotency-Key
 *    releases it first, and the hold cron releases it once the request is over
 *    (release-abandoned-checkouts.ts).
 */

/**
 * Per-request writes of the HTTP layer folded into checkout's statements (issue 17), so that they cost
 * no round trip of their own. The domain does not interpret them: it runs them where they belong and
 * hands back what they found.
 */
export interface FoldedRequestWork {
  /** Counted in the first statement; `admit` decides on the counts (throws to refuse) before anything else. */
  rateLimits?: { hits: SlidingWindowHit[]; now: Date; admit(counts: SlidingCount[]): void } | undefined;
  /**
   * The request's Idempotency-Key: looked up in the first statement (a row already there → the attempt
   * answers `idempotency_key_in_use` and the caller takes the ordinary idempotent path), claimed in the
   * order's statement (undone with it) and completed with `storedAnswer` in the after-provider statement.
   */
  idempotency?: FoldedIdempotencyKey | undefined;
  /** Runs after the checks that write nothing and before the first write (the on-sale challenge). */
  beforeWriting?: (() => Promise<void>) | undefined;
}

export interface FoldedIdempotencyKey {
  scope: string;
  keyHash: string;
  requestHash: string;
  staleAfterSeconds: number;
  storedAnswer(created: CheckoutSessionCreated): { status: number; body: unknown };
  /** Called once the claim is committed: from then on a failure must give the key back. */
  onClaimed(): void;
}

export interface CheckoutContext {
  actor: Actor;
  /**
   * The request's Idempotency-Key hash (as stored in idempotency_keys): recorded on the order, so that
   * a retry after a crash releases what the dead attempt held (release-abandoned-checkouts.ts).
   */
  idempotencyKeyHash?: string | undefined;
  folded?: FoldedRequestWork | undefined;
}

export type CheckoutAttempt =
  | { kind: 'created'; created: CheckoutSessionCreated }
  /** The folded Idempotency-Key already has a row: nothing was done; take the ordinary idempotent path. */
  | { kind: 'idempotency_key_in_use' };

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
  event: FestivalEvent & { catalogVersion: string };
  pricing: OrderPricing;
  /** Per ticket type: the request item, for attendees. */
  items: { type: CatalogTicketType; quantity: number; attendees: CheckoutSessionRequest['items'][number]['attendees'] }[];
}

/** Everything that can be refused without writing anything, from the fresh read. */
function checkOrder(request: CheckoutSessionRequest, read: CheckoutRead, now: Date): CheckedOrder {
  const event = read.event;
  if (!event || event.status === 'draft') throw fieldError('event', 'no such event');
  const byCode = new Map(read.types.map((t) => [t.code, t]));
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

interface Counters {
  capacity: number;
  /** Held + sold (migration 0099): what checkout may not give again. */
  taken: number;
  expiredHeld: number;
}

function soldOut(line: PricedLine, counters: Counters | undefined): AppError {
  const remaining = counters ? Math.max(0, counters.capacity - counters.taken) : 0;
  return new AppError(
    'SOLD_OUT',
    remaining === 0 ? `${line.name} is sold out` : `Only ${remaining} ${line.name} ticket${remaining === 1 ? '' : 's'} left`,
    { details: { ticketType: line.code, name: line.name, requested: line.quantity, remaining } },
  );
}

/** The first line whose known counters cannot cover it (an advisory look: only the conditional UPDATE grants). */
function shortLine(checked: CheckedOrder, counters: Map<string, Counters>): PricedLine | undefined {
  return checked.pricing.lines.find((l) => {
    const c = counters.get(l.ticketTypeId);
    return c !== undefined && c.capacity - c.taken < l.quantity;
  });
}

/** Shared checkout statements (reads; after-provider writes) running at once per instance (at most half the pool). */
const SHARED_IN_FLIGHT = 2;

/**
 * The fresh reads of concurrent checkouts share statements (lib/db/statement-groups.ts, as webhook
 * completions do): at most SHARED_IN_FLIGHT reads run at once, and the requests for the same event and
 * ticket types that arrive meanwhile are answered by the next one, up to 50 per statement. Each request's
 * read still starts after the request asked for it (a refusal comes from a fresh read), its rate-limit hits
 * and Idempotency-Key are its own, and two requests counting the same rate-limit bucket never share one. In
 * a flash sale, once the last ticket is gone, most buyers are refused from a shared read.
 *
 * Why 2: a read is short (about 0.2 ms of PostgreSQL for one request, 0.35 ms for ten), so more reads at
 * once add statements, not answers. In the sold-out bench (`npm run bench -- checkout --attempts 20000
 * --tickets 10 --rounds 1`, 50 buyers, pool 20) 2 reads at once answered 2,890-2,960 requests/s (p50
 * 14 ms), 4 answered 2,740-2,800/s and 10 (half the pool) 2,110-2,200/s (p50 20 ms).
 *
 * The price: a shared read that fails after its statement committed (the connection lost on the way back)
 * is read again one request at a time, and those requests' rate-limit hits are then counted twice (strict
 * side: a buyer may be limited one request early, never let through).
 */
const checkoutReads = statementGroups<CheckoutReadInput, CheckoutRead>({
  maxInFlight: () => halfThePool(SHARED_IN_FLIGHT),
  maxGroup: 50,
  keysOf: (input) => (input.hits ?? []).map((hit) => `bucket:${hit.bucket}`),
  groupOf: checkoutReadGroupKey,
  runGroup: (inputs) => readCheckouts(db, inputs),
});

/**
 * The after-provider writes of concurrent sales share statements the same way (checkout_record_sessions,
 * migration 0172): at most SHARED_IN_FLIGHT at once, up to 50 sales per statement, never one payment twice.
 * A statement that fails records each of its sales again alone, so one sale's error never fails another.
 */
const checkoutRecords = statementGroups<CheckoutSessionRecord, void>({
  maxInFlight: () => halfThePool(SHARED_IN_FLIGHT),
  maxGroup: 50,
  keysOf: (record) => [`payment:${record.paymentId}`],
  groupOf: () => 'record',
  runGroup: async (records) => {
    await recordCheckoutSessions(db, records);
    return records.map(() => undefined);
  },
});

/** One sale's after-provider write, through the shared statements (checkoutRecords). */
export async function recordCheckoutSessionShared(record: CheckoutSessionRecord): Promise<void> {
  await checkoutRecords.run(record);
}

type Placed = Extract<PlaceCheckoutOrderOutcome, { outcome: 'created' }> & { accessToken: string };

/**
 * Holds the tickets and writes the order (one statement per try); SOLD_OUT when a type cannot be held
 * even after reclaiming its expired holds; 'key_in_use' when the folded Idempotency-Key was claimed
 * meanwhile (or an earlier attempt under it left an order to release).
 */
async function holdAndInsert(
  request: CheckoutSessionRequest,
  initial: CheckedOrder,
  holdExpiresAt: Date,
  context: CheckoutContext,
): Promise<Placed | 'key_in_use'> {
  const { actor } = context;
  let checked = initial;
  let counters = new Map<string, Counters>(checked.items.map(({ type }) => [type.id, type]));
  let reclaimed = false;
  let reread = false;
  let tries = 0;
  const holdKeys = holdKeysFor(actor.ip, request.customer.email);
  const caps = holdCaps();
  const claim = context.folded?.idempotency;
  for (;;) {
    // Short from a fresh read: refuse, or reclaim the expired holds first (once). Never a grant.
    const failing = shortLine(checked, counters);
    if (failing) {
      const c = counters.get(failing.ticketTypeId);
      if (reclaimed || !c || c.expiredHeld === 0) throw soldOut(failing, c);
      reclaimed = true;
      await reclaimExpiredHolds({
        ticketTypeId: failing.ticketTypeId,
        actor: { ...actor, type: 'system' },
        reason: 'expired hold reclaimed by checkout',
      });
      counters = new Map(); // unknown now: the statement below reads them afresh
    }
    const { pricing } = checked;
    const { token, hash } = generateAccessToken();
    const outcome = await placeCheckoutOrder(db, {
      eventId: checked.event.id,
      eventVersion: checked.event.catalogVersion,
      lines: [...pricing.lines]
        .sort((a, b) => (a.ticketTypeId < b.ticketTypeId ? -1 : 1))
        .map((l) => ({
          ticketTypeId: l.ticketTypeId,
          quantity: l.quantity,
          catalogVersion: checked.items.find((i) => i.type.id === l.ticketTypeId)?.type.catalogVersion ?? '',
        })),
      order: {
        currency: pricing.currency,
        subtotalCents: pricing.subtotalCents,
        discountCents: pricing.discountCents,
        totalCents: pricing.totalCents,
        slidingScalePercent: pricing.slidingScalePercent,
        provider: request.provider,
        accessTokenHash: hash,
        holdExpiresAt,
        metadata: actor.requestId ? { requestId: actor.requestId } : {},
        idempotencyKeyHash: context.idempotencyKeyHash ?? null,
      },
      buyer: {
        email: request.customer.email,
        firstName: request.customer.firstName,
        lastName: request.customer.lastName,
        phone: request.customer.phone ?? null,
        clientKey: holdKeys.clientKey,
        emailKey: holdKeys.emailKey,
        capPerClient: caps.perClient,
        capPerEmail: caps.perEmail,
      },
      items: ticketRows(checked).map((r) => ({
        ...r,
        attendeeFirstName: r.attendeeFirstName ?? null,
        attendeeLastName: r.attendeeLastName ?? null,
        attendeeEmail: r.attendeeEmail ?? null,
      })),
      audit: {
        actorType: actor.type,
        actorId: actor.id ?? null,
        ip: actor.ip ?? null,
        userAgent: actor.userAgent ?? null,
        requestId: actor.requestId ?? null,
        newValues: {
          provider: request.provider,
          currency: pricing.currency,
          subtotalCents: pricing.subtotalCents,
          discountCents: pricing.discountCents,
          totalCents: pricing.totalCents,
          slidingScalePercent: pricing.slidingScalePercent,
          holdExpiresAt: holdExpiresAt.toISOString(),
          items: pricing.lines.map((l) => ({ ticketType: l.code, quantity: l.quantity, unitNetCents: l.unitNetCents })),
        },
      },
      claim: claim
        ? { scope: claim.scope, key: claim.keyHash, requestHash: claim.requestHash, staleAfterSeconds: claim.staleAfterSeconds }
        : null,
    });
    switch (outcome.outcome) {
      case 'created':
        claim?.onClaimed();
        return { ...outcome, accessToken: token };
      case 'key_in_use':
        return 'key_in_use';
      case 'hold_limit':
        throw (
          holdCapError(holdKeys, outcome, outcome.requested) ??
          new Error('checkout_place_order refused a hold cap the rule lets through')
        );
      case 'sold_out': {
        counters = new Map([[outcome.ticketTypeId, outcome]]);
        // Refused, then tickets came back before the counters were read: try again (a few times at most).
        tries += 1;
        const line = checked.pricing.lines.find((l) => l.ticketTypeId === outcome.ticketTypeId);
        if (line && !shortLine(checked, counters) && tries >= 3) throw soldOut(line, outcome);
        continue;
      }
      case 'stale': {
        // The catalogue changed between the read and the write: read it again (once) and check afresh.
        if (reread) throw new AppError('CONFLICT', 'The ticket catalogue changed during checkout; please try again');
        reread = true;
        const read = await readCheckout(db, {
          eventSlug: request.event,
          codes: request.items.map((i) => i.ticketType),
          now: new Date(),
        });
        checked = checkOrder(request, read, new Date());
        counters = new Map(checked.items.map(({ type }) => [type.id, type]));
        continue;
      }
    }
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

/** The checkout for callers that hold the Idempotency-Key claim themselves (or have no key). */
export async function createCheckoutSession(
  request: CheckoutSessionRequest,
  context: CheckoutContext,
): Promise<CheckoutSessionCreated> {
  const attempt = await attemptCheckoutSession(request, { ...context, folded: undefined });
  if (attempt.kind !== 'created') throw new Error('checkout without a folded Idempotency-Key cannot find it in use');
  return attempt.created;
}

/** The checkout with the HTTP layer's per-request writes folded into its statements (the route). */
export async function attemptCheckoutSession(
  request: CheckoutSessionRequest,
  context: CheckoutContext,
): Promise<CheckoutAttempt> {
  const config = getConfig();
  const returnUrls = resolveReturnUrls(request);
  const now = new Date();
  const folded = context.folded;
  // The provider's SDK loads (first use in this instance) while the order is checked against the database;
  // it is awaited before anything is written, so a ConfigError (provider not configured) still writes nothing.
  const providerReady = getCheckoutProvider(request.provider);
  providerReady.catch(() => undefined); // rethrown below; no unhandled rejection when a check throws first
  const read = await checkoutReads.run({
    eventSlug: request.event,
    codes: request.items.map((item) => item.ticketType),
    hits: folded?.rateLimits?.hits,
    now: folded?.rateLimits?.now ?? now,
    idempotencyKey: folded?.idempotency ? { scope: folded.idempotency.scope, keyHash: folded.idempotency.keyHash } : undefined,
  });
  folded?.rateLimits?.admit(read.rateLimitCounts);
  if (folded?.idempotency && read.idempotencyKeyInUse) return { kind: 'idempotency_key_in_use' };
  const checked = checkOrder(request, read, now);
  const provider: CheckoutProvider = await providerReady;

  // Sold out from the fresh read: one round trip, no lock, nothing written.
  const failing = shortLine(checked, new Map(checked.items.map(({ type }) => [type.id, type])));
  const failingType = failing && checked.items.find((i) => i.type.id === failing.ticketTypeId)?.type;
  if (failing && failingType?.expiredHeld === 0) throw soldOut(failing, failingType);

  await folded?.beforeWriting?.();
  // A retry of a request that died after its hold: release what that attempt left before holding again.
  // (With a folded key, the order's statement itself refuses while such an order exists: 'key_in_use'.)
  if (context.idempotencyKeyHash && !folded?.idempotency) {
    await releaseCheckoutsLeftByKey(context.idempotencyKeyHash, context.actor);
  }

  const holdMs = config.checkout.holdMinutes * 60_000 + HOLD_SLACK_MS;
  const holdExpiresAt = new Date(Math.ceil((Date.now() + holdMs) / 1000) * 1000);
  const placed = await holdAndInsert(request, checked, holdExpiresAt, context);
  if (placed === 'key_in_use') return { kind: 'idempotency_key_in_use' };
  const { order, paymentId, accessToken } = placed;
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
      await failCheckoutAfterProviderError(order, { id: paymentId }, providerError, context.actor);
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

  const answer: CheckoutSessionCreated = {
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
  const claim = folded?.idempotency;
  const stored = claim?.storedAnswer(answer);
  await recordCheckoutSessionShared({
    paymentId,
    session: created,
    completion:
      claim && stored
        ? { claim: { scope: claim.scope, key: claim.keyHash, requestHash: claim.requestHash }, ...stored }
        : undefined,
  });
  return { kind: 'created', created: answer };
}
