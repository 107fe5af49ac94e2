import { randomUUID } from 'node:crypto';
import { db, type Queryable, transaction } from '../../lib/db/client.js';
import { type FestivalEvent, upsertEvent } from '../../lib/db/models/events.js';
import {
  findTicketTypeById,
  type NewTicketType,
  type TicketType,
  ticketTypeCounts,
  ticketTypeCountsFromHolds,
  upsertTicketType,
} from '../../lib/db/models/ticket-types.js';
import type { Currency } from '../../lib/money.js';

/**
 * Test data builders. The database is shared by every test file of a run: everything made here is
 * unique (slugs, emails), so tests never collide and never need to truncate.
 */

let counter = 0;
const short = () => `${Date.now().toString(36)}${(counter++).toString(36)}${randomUUID().slice(0, 6)}`;

/** A slug valid for events.slug (`^[a-z0-9][a-z0-9-]{1,62}$`). */
export function uniqueSlug(prefix = 'ev'): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 30);
  return `${clean}-${short()}`.slice(0, 63);
}

export function uniqueEmail(prefix = 'buyer'): string {
  return `${prefix.replace(/[^a-zA-Z0-9._-]/g, '')}.${short()}@example.test`;
}

export interface EventOptions {
  slug?: string;
  name?: string;
  currency?: Currency;
  status?: FestivalEvent['status'];
  startsAt?: Date;
  endsAt?: Date;
}

export async function createEvent(options: EventOptions = {}, q: Queryable = db): Promise<FestivalEvent> {
  const startsAt = options.startsAt ?? new Date(Date.now() + 60 * 86_400_000);
  return await upsertEvent(q, {
    slug: options.slug ?? uniqueSlug('fest'),
    name: options.name ?? 'A Lo Cubano Boulder Fest (test)',
    venue: 'Avalon Ballroom',
    startsAt,
    endsAt: options.endsAt ?? new Date(startsAt.getTime() + 2 * 86_400_000),
    currency: options.currency ?? 'USD',
    status: options.status ?? 'on_sale',
  });
}

export type TicketTypeOptions = Partial<Omit<NewTicketType, 'eventId'>> & {
  /**
   * Start with tickets already sold / held (sold + held <= capacity). Since sold and held are derived
   * from order items (migration 0099), they are made real: one completed order with `sold` tickets and
   * one pending order with `held` tickets (hold a day long, a buyer of its own), and `taken` counts them.
   */
  sold?: number;
  held?: number;
};

export async function createTicketType(
  event: Pick<FestivalEvent, 'id' | 'currency'>,
  options: TicketTypeOptions = {},
  q: Queryable = db,
): Promise<TicketType> {
  const code =
    options.code ??
    `t_${short()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 20)}`;
  const row = await upsertTicketType(q, {
    eventId: event.id,
    code,
    name: options.name ?? `Pass ${code}`,
    priceCents: options.priceCents ?? 5_000,
    currency: options.currency ?? event.currency,
    capacity: options.capacity ?? 100,
    salesStartAt: options.salesStartAt ?? null,
    salesEndAt: options.salesEndAt ?? null,
    slidingScale: options.slidingScale ?? false,
    maxPerOrder: options.maxPerOrder ?? 10,
    isActive: options.isActive ?? true,
    sortOrder: options.sortOrder ?? 0,
    ...(options.description === undefined ? {} : { description: options.description }),
  });
  const sold = options.sold ?? 0;
  const held = options.held ?? 0;
  if (sold > 0 || held > 0) {
    await q.query(
      `WITH c AS (
         INSERT INTO customers (email, first_name, last_name) VALUES ($5, 'Earlier', 'Buyer') RETURNING id
       ), o AS (
         INSERT INTO orders (event_id, customer_id, currency, subtotal_cents, total_cents, provider, access_token_hash,
                             status, hold_expires_at, completed_at)
         SELECT $2, c.id, $6, $7 * s.n, $7 * s.n, 'stripe', md5(s.status || $1::text) || md5($1::text || s.status),
                s.status, CASE WHEN s.status = 'pending' THEN now() + interval '1 day' END,
                CASE WHEN s.status = 'completed' THEN now() END
         FROM c, (VALUES ('completed', $3::int), ('pending', $4::int)) AS s(status, n) WHERE s.n > 0
         RETURNING id, status
       ), i AS (
         INSERT INTO order_items (order_id, ticket_type_id, unit_price_cents, price_cents, currency)
         SELECT o.id, $1::uuid, $7, $7, $6
         FROM o JOIN (VALUES ('completed', $3::int), ('pending', $4::int)) AS s(status, n) ON s.status = o.status,
              generate_series(1, s.n)
       )
       UPDATE ticket_types SET taken = $3 + $4 WHERE id = $1::uuid`,
      [row.id, event.id, sold, held, uniqueEmail('earlier'), row.currency, row.priceCents],
    );
    return { ...row, taken: sold + held };
  }
  return row;
}

/** An on-sale event with the given ticket types, keyed by code. */
export async function createEventWithTicketTypes<C extends string>(
  types: Record<C, TicketTypeOptions>,
  eventOptions: EventOptions = {},
): Promise<{ event: FestivalEvent; types: Record<C, TicketType> }> {
  const event = await createEvent(eventOptions);
  const out = {} as Record<C, TicketType>;
  let sortOrder = 0;
  for (const [code, options] of Object.entries(types) as [C, TicketTypeOptions][]) {
    out[code] = await createTicketType(event, { code, sortOrder: sortOrder++, ...options });
  }
  return { event, types: out };
}

export interface CheckoutBodyItem {
  ticketType: string;
  quantity: number;
  attendees?: { firstName: string; lastName: string; email: string }[];
}

/** Two named attendees (the buyer, Ana García, and Luis Pérez) for an item of quantity 2. */
export const TWO_ATTENDEES: NonNullable<CheckoutBodyItem['attendees']> = [
  { firstName: 'Ana', lastName: 'García', email: 'ana@example.test' },
  { firstName: 'Luis', lastName: 'Pérez', email: 'luis@example.test' },
];

/** A valid POST /api/payments/checkout-session body (override anything). */
export function checkoutBody(
  event: { slug: string },
  items: CheckoutBodyItem[],
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    event: event.slug,
    items,
    customer: { email: uniqueEmail(), firstName: 'Ana', lastName: 'García' },
    provider: 'stripe',
    ...overrides,
  };
}

/**
 * Live counters of a ticket type: the stored `taken`, and sold / held as derived from the order items.
 * In the same snapshot, the report's figures (ticketTypeCountsFromHolds: sold = taken - held) must be
 * the same: every flow test that reads counters checks that `taken` still counts exactly sold + held.
 */
export async function ticketCounters(
  ticketTypeId: string,
): Promise<{ capacity: number; taken: number; sold: number; held: number }> {
  return await transaction(
    async (tx) => {
      const [row] = await ticketTypeCounts(tx, { ticketTypeIds: [ticketTypeId] });
      const type = await findTicketTypeById(tx, ticketTypeId);
      if (!row || !type) throw new Error(`ticket type ${ticketTypeId} not found`);
      const report = (await ticketTypeCountsFromHolds(tx, type.eventId)).find((t) => t.id === ticketTypeId);
      if (report?.sold !== row.sold || report.held !== row.held || row.sold + row.held !== row.taken) {
        throw new Error(
          `taken no longer counts sold + held: items say sold ${row.sold}, held ${row.held}, taken ${row.taken}; ` +
            `the report says sold ${report?.sold}, held ${report?.held}`,
        );
      }
      return { capacity: row.capacity, taken: row.taken, sold: row.sold, held: row.held };
    },
    { isolation: 'repeatable read' },
  );
}

export const WRITE_TABLES = [
  'customers',
  'orders',
  'order_items',
  'payments',
  'payment_failures',
  'payment_audit_log',
  'idempotency_keys',
] as const;

/** Row counts of the tables a checkout writes (to prove that a refused request wrote nothing). */
export async function rowCounts(tables: readonly string[] = WRITE_TABLES): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of tables) {
    if (!/^[a-z_]+$/.test(table)) throw new Error(`bad table name ${table}`);
    const row = await db.queryOne<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    out[table] = row?.n ?? 0;
  }
  return out;
}

/**
 * Everything a checkout could have written for one event (and the given buyer emails): orders,
 * their items, payments, failures and audit entries, ticket counters, customers. Unlike global row
 * counts this is not disturbed by other test files running at the same time.
 */
export async function eventFootprint(eventId: string, emails: readonly string[] = []): Promise<Record<string, number>> {
  const row = await db.queryOne<Record<string, number>>(
    `SELECT
       (SELECT count(*)::int FROM orders WHERE event_id = $1) AS orders,
       (SELECT count(*)::int FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.event_id = $1) AS "orderItems",
       (SELECT count(*)::int FROM payments p JOIN orders o ON o.id = p.order_id WHERE o.event_id = $1) AS payments,
       (SELECT count(*)::int FROM payment_failures f JOIN orders o ON o.id = f.order_id WHERE o.event_id = $1) AS "paymentFailures",
       (SELECT count(*)::int FROM payment_audit_log a WHERE a.entity_type = 'order'
          AND a.entity_id IN (SELECT id::text FROM orders WHERE event_id = $1)) AS "auditEntries",
       (SELECT coalesce(sum(taken), 0)::int FROM ticket_types WHERE event_id = $1) AS taken,
       (SELECT count(*)::int FROM order_items i JOIN orders o ON o.id = i.order_id
          WHERE o.event_id = $1 AND i.status = 'active' AND o.status IN ('completed', 'partially_refunded', 'refunded')) AS sold,
       (SELECT count(*)::int FROM order_items i JOIN orders o ON o.id = i.order_id
          WHERE o.event_id = $1 AND i.status = 'active' AND o.status IN ('pending', 'processing')) AS held,
       (SELECT count(*)::int FROM customers WHERE lower(email) = ANY($2::text[])) AS customers`,
    [eventId, emails.map((e) => e.toLowerCase())],
  );
  if (!row) throw new Error('eventFootprint returned no row');
  return row;
}

/** Moves an order's hold into the past (as if its time ran out). */
export async function expireHoldNow(orderId: string, secondsAgo = 60): Promise<void> {
  await db.query(`UPDATE orders SET hold_expires_at = now() - make_interval(secs => $2) WHERE id = $1`, [orderId, secondsAgo]);
}
