import type { Queryable } from '../client.js';
import type { FestivalEvent } from '../models/events.js';
import type { Order } from '../models/orders.js';
import {
  type SlidingCount,
  type SlidingWindowHit,
  slidingCountsOf,
  slidingWindowHitsParam,
  slidingWindowHitsSql,
} from '../models/rate-limits.js';
import { TICKET_TYPE_COLUMNS, type TicketType } from '../models/ticket-types.js';
import { namedStatement } from '../statement.js';

/**
 * Checkout's statements (issue 17, flash-sale speed): a successful checkout is the catalogue read, the one
 * write (checkout_place_order, migration 0100) and, after the provider call, the one session write; a
 * sold-out answer is the catalogue read alone. See lib/checkout/create-checkout-session.ts.
 */

export interface CatalogTicketType extends TicketType {
  /** ticket_type_catalog_version(): checkout_place_order refuses when the row no longer has it. */
  catalogVersion: string;
  /** Held tickets of pending orders whose hold has already passed (reclaimable). */
  expiredHeld: number;
}

export interface CheckoutRead {
  /** Per hit, in the order given (empty without hits). */
  rateLimitCounts: SlidingCount[];
  /** Whether the Idempotency-Key already has a row (then the request takes the ordinary idempotent path). */
  idempotencyKeyInUse: boolean;
  event: (FestivalEvent & { catalogVersion: string }) | undefined;
  types: CatalogTicketType[];
}

export interface CheckoutReadInput {
  eventSlug: string;
  codes: readonly string[];
  /** Rate-limit hits counted in the same statement (lib/http/rate-limit.ts decides on the counts). */
  hits?: readonly SlidingWindowHit[];
  /** The Idempotency-Key row to look for (scope + key hash). */
  idempotencyKey?: { scope: string; keyHash: string } | undefined;
  now: Date;
}

interface JsonTicketType extends Omit<CatalogTicketType, 'salesStartAt' | 'salesEndAt'> {
  salesStartAt: string | null;
  salesEndAt: string | null;
}

const HITS = slidingWindowHitsSql(3);

/**
 * $1 event slug, $2 ticket type codes (shared by every call of the statement); $3 the calls' rate-limit
 * hits; $4 each call's Idempotency-Key scope and hash (null: none), as jsonb (see slidingWindowHitsSql: a
 * generic plan). One row per call, in call order; the event and its ticket types (read once) only on the first.
 */
const READ_CHECKOUTS = namedStatement(
  'read_checkouts',
  `WITH ${HITS.cte},
   ev AS (SELECT e.id, e.slug, e.name, e.venue, e.timezone, e.starts_at AS "startsAt", e.ends_at AS "endsAt", e.currency,
            e.status, event_catalog_version(e) AS "catalogVersion"
          FROM events e WHERE e.slug = $1),
   tt AS (SELECT ${TICKET_TYPE_COLUMNS}, ticket_type_catalog_version(t) AS "catalogVersion",
            coalesce((SELECT x.n FROM expired_held_tickets(ARRAY[t.id]) x), 0) AS "expiredHeld"
          FROM ticket_types t WHERE t.event_id = (SELECT id FROM ev) AND t.code = ANY($2::text[])),
   calls AS (SELECT c.n::int AS n, c.scope, c.key
          FROM ROWS FROM (jsonb_to_recordset($4::jsonb) AS (scope text, key text)) WITH ORDINALITY AS c(scope, key, n))
   SELECT ${HITS.counted('calls.n')} AS counted,
     -- A scalar subquery, not EXISTS: an EXISTS over a set of calls may be planned as a hash of every key.
     coalesce((SELECT true FROM idempotency_keys k WHERE k.scope = calls.scope AND k.key = calls.key), false) AS "keyInUse",
     CASE WHEN calls.n = 1 THEN (SELECT row_to_json(ev) FROM ev) END AS event,
     CASE WHEN calls.n = 1 THEN (SELECT json_agg(tt ORDER BY tt.code) FROM tt) END AS types
   FROM calls ORDER BY calls.n`,
);

/**
 * Which reads may share one statement (readCheckouts): the same event and the same set of ticket types.
 * Their rate-limit hits and Idempotency-Keys are their own.
 */
export function checkoutReadGroupKey(input: Pick<CheckoutReadInput, 'eventSlug' | 'codes'>): string {
  return JSON.stringify([input.eventSlug, [...new Set(input.codes)].sort()]);
}

/** Checkout's first statement for one request (readCheckouts with one call). */
export async function readCheckout(q: Queryable, input: CheckoutReadInput): Promise<CheckoutRead> {
  const [read] = await readCheckouts(q, [input]);
  if (!read) throw new Error('read_checkouts returned no row');
  return read;
}

/**
 * Checkout's first statement: a FRESH read (no lock) of the event and the requested ticket types with
 * their counters and reclaimable holds, plus the rate-limit hits and the Idempotency-Key look-up folded
 * in, so a sold-out answer costs one round trip. Reads only what it may refuse from; never grants.
 *
 * One statement serves several requests at once (group commit for reads, lib/checkout/
 * create-checkout-session.ts): every input must have the same checkoutReadGroupKey, and no rate-limit
 * bucket may appear twice among them. The read is fresh for each of them: the statement starts after each
 * request has asked for it. One answer per input, in order.
 */
export async function readCheckouts(q: Queryable, inputs: readonly CheckoutReadInput[]): Promise<CheckoutRead[]> {
  const first = inputs[0];
  if (!first) return [];
  const key = checkoutReadGroupKey(first);
  if (inputs.some((input) => checkoutReadGroupKey(input) !== key)) {
    throw new Error('readCheckouts: every read of one statement must ask for the same event and ticket types');
  }
  const rows = await q.queryMany<{
    counted: { bucket: string; current: number; previous: number }[];
    keyInUse: boolean;
    event: (Omit<FestivalEvent, 'startsAt' | 'endsAt'> & { startsAt: string; endsAt: string; catalogVersion: string }) | null;
    types: JsonTicketType[] | null;
  }>(READ_CHECKOUTS, [
    first.eventSlug,
    first.codes,
    slidingWindowHitsParam(inputs.map((input) => ({ hits: input.hits ?? [], now: input.now }))),
    JSON.stringify(
      inputs.map((input) => ({ scope: input.idempotencyKey?.scope ?? null, key: input.idempotencyKey?.keyHash ?? null })),
    ),
  ]);
  if (rows.length !== inputs.length) throw new Error(`read_checkouts returned ${rows.length} rows for ${inputs.length} reads`);
  const shared = rows[0];
  return inputs.map((input, index) => {
    const row = rows[index];
    const event = shared?.event
      ? { ...shared.event, startsAt: new Date(shared.event.startsAt), endsAt: new Date(shared.event.endsAt) }
      : undefined;
    return {
      rateLimitCounts: slidingCountsOf(input.hits ?? [], row?.counted ?? [], input.now),
      idempotencyKeyInUse: row?.keyInUse ?? false,
      event,
      // Each request gets its own objects (the domain may keep them), parsed from the one answer.
      types: (shared?.types ?? []).map((t) => ({
        ...t,
        salesStartAt: t.salesStartAt === null ? null : new Date(t.salesStartAt),
        salesEndAt: t.salesEndAt === null ? null : new Date(t.salesEndAt),
      })),
    };
  });
}

export interface PlaceCheckoutOrderInput {
  eventId: string;
  eventVersion: string;
  /** Sorted by ticket type id (the order the hot rows are locked in). */
  lines: { ticketTypeId: string; quantity: number; catalogVersion: string }[];
  order: {
    currency: string;
    subtotalCents: number;
    discountCents: number;
    totalCents: number;
    slidingScalePercent: number;
    provider: string;
    accessTokenHash: string;
    holdExpiresAt: Date;
    metadata: Record<string, unknown>;
    idempotencyKeyHash: string | null;
  };
  buyer: {
    email: string;
    firstName: string;
    lastName: string;
    phone: string | null;
    clientKey: string | null;
    emailKey: string;
    capPerClient: number;
    capPerEmail: number;
  };
  items: {
    ticketTypeId: string;
    unitPriceCents: number;
    discountCents: number;
    priceCents: number;
    currency: string;
    attendeeFirstName: string | null;
    attendeeLastName: string | null;
    attendeeEmail: string | null;
  }[];
  audit: {
    actorType: string;
    actorId: string | null;
    ip: string | null;
    userAgent: string | null;
    requestId: string | null;
    /** status and orderNumber are added by the statement. */
    newValues: Record<string, unknown>;
  };
  /** The Idempotency-Key to claim with the order (undone with it). */
  claim: { scope: string; key: string; requestHash: string; staleAfterSeconds: number } | null;
}

export type PlaceCheckoutOrderOutcome =
  | { outcome: 'created'; order: Order; paymentId: string; customerId: string }
  | { outcome: 'sold_out'; ticketTypeId: string; capacity: number; taken: number; expiredHeld: number }
  | { outcome: 'hold_limit'; byClient: number; byEmail: number; requested: number }
  | { outcome: 'stale' }
  | { outcome: 'key_in_use' };

type Raw = Record<string, unknown>;

function orderOf(raw: Raw): Order {
  const date = (v: unknown) => (v === null || v === undefined ? null : new Date(String(v)));
  return {
    id: String(raw.id),
    orderNumber: String(raw.order_number),
    eventId: String(raw.event_id),
    customerId: String(raw.customer_id),
    status: raw.status as Order['status'],
    currency: raw.currency as Order['currency'],
    subtotalCents: Number(raw.subtotal_cents),
    discountCents: Number(raw.discount_cents),
    totalCents: Number(raw.total_cents),
    refundedCents: Number(raw.refunded_cents),
    slidingScalePercent: Number(raw.sliding_scale_percent),
    provider: raw.provider as Order['provider'],
    accessTokenHash: String(raw.access_token_hash),
    holdExpiresAt: date(raw.hold_expires_at),
    attentionReason: (raw.attention_reason ?? null) as Order['attentionReason'],
    metadata: (raw.metadata ?? {}) as Record<string, unknown>,
    completedAt: date(raw.completed_at),
    createdAt: date(raw.created_at) ?? new Date(0),
    updatedAt: date(raw.updated_at) ?? new Date(0),
  };
}

export const PLACE_CHECKOUT_ORDER = namedStatement(
  'place_checkout_order',
  'SELECT checkout_place_order($1, $2, $3, $4, $5, $6) AS result',
);

/** checkout_place_order's six jsonb arguments, in order. */
export function placeCheckoutOrderParams(input: PlaceCheckoutOrderInput): (string | null)[] {
  return [
    JSON.stringify(input.lines),
    JSON.stringify({ eventId: input.eventId, eventVersion: input.eventVersion, ...input.order }),
    JSON.stringify(input.buyer),
    JSON.stringify(input.items),
    JSON.stringify(input.audit),
    input.claim ? JSON.stringify(input.claim) : null,
  ];
}

/**
 * The whole checkout write in ONE statement (a single-statement transaction: no BEGIN/COMMIT round trips):
 * checkout_place_order (migration 0100) re-checks the catalogue versions, refuses a short line from a fresh
 * read, enforces the hold caps under advisory locks, claims the Idempotency-Key, writes customer, order
 * (with the buyer snapshot and key hash), items, payment and audit, and takes the holds last, all or nothing.
 */
export async function placeCheckoutOrder(q: Queryable, input: PlaceCheckoutOrderInput): Promise<PlaceCheckoutOrderOutcome> {
  const row = await q.queryOne<{ result: Raw }>(PLACE_CHECKOUT_ORDER, placeCheckoutOrderParams(input));
  const result = row?.result;
  if (!result) throw new Error('checkout_place_order returned nothing');
  if (result.outcome === 'created') {
    return {
      outcome: 'created',
      order: orderOf(result.order as Raw),
      paymentId: String(result.paymentId),
      customerId: String(result.customerId),
    };
  }
  return result as unknown as PlaceCheckoutOrderOutcome;
}

const RECORD_CHECKOUT_SESSIONS = namedStatement('record_checkout_sessions', 'SELECT checkout_record_sessions($1::jsonb)');

/** One sale's after-provider write (recordCheckoutSessions). */
export interface CheckoutSessionRecord {
  paymentId: string;
  session: { sessionId: string; checkoutUrl: string };
  /** For a request whose Idempotency-Key checkout_place_order claimed: the key's stored answer. */
  completion?: { claim: { scope: string; key: string; requestHash: string }; status: number; body: unknown } | undefined;
}

/**
 * The one statement after the provider call: the session on the payment and, for a request whose
 * Idempotency-Key checkout_place_order claimed, its stored answer (checkout_record_sessions with one record).
 */
export async function recordCheckoutSession(
  q: Queryable,
  paymentId: string,
  session: { sessionId: string; checkoutUrl: string },
  completion?: CheckoutSessionRecord['completion'],
): Promise<void> {
  await recordCheckoutSessions(q, [{ paymentId, session, completion }]);
}

/**
 * The after-provider write of several sales in ONE statement (checkout_record_sessions, migration 0172):
 * concurrent sales share it (lib/checkout/create-checkout-session.ts). All or nothing: a payment that is
 * not there fails the statement. No payment twice.
 */
export async function recordCheckoutSessions(q: Queryable, records: readonly CheckoutSessionRecord[]): Promise<void> {
  if (records.length === 0) return;
  await q.query(RECORD_CHECKOUT_SESSIONS, [
    JSON.stringify(
      records.map((r) => ({
        payment_id: r.paymentId,
        session_id: r.session.sessionId,
        checkout_url: r.session.checkoutUrl,
        ...(r.completion ? { claim: r.completion.claim, status: r.completion.status, body: r.completion.body } : {}),
      })),
    ),
  ]);
}
