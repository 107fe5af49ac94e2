import { randomUUID } from 'node:crypto';
import { db, type Queryable } from '../../lib/db/client.js';
import { type FestivalEvent, upsertEvent } from '../../lib/db/models/events.js';
import { type NewTicketType, type TicketType, upsertTicketType } from '../../lib/db/models/ticket-types.js';
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
  /** Start the counters somewhere else than 0 (written directly; sold + held <= capacity still holds). */
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
  if (options.sold !== undefined || options.held !== undefined) {
    await q.query('UPDATE ticket_types SET sold = $2, held = $3 WHERE id = $1', [row.id, options.sold ?? 0, options.held ?? 0]);
    return { ...row, sold: options.sold ?? 0, held: options.held ?? 0 };
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

/** Live counters of a ticket type. */
export async function ticketCounters(ticketTypeId: string): Promise<{ capacity: number; sold: number; held: number }> {
  const row = await db.queryOne<{ capacity: number; sold: number; held: number }>(
    'SELECT capacity, sold, held FROM ticket_types WHERE id = $1',
    [ticketTypeId],
  );
  if (!row) throw new Error(`ticket type ${ticketTypeId} not found`);
  return row;
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
       (SELECT coalesce(sum(sold), 0)::int FROM ticket_types WHERE event_id = $1) AS sold,
       (SELECT coalesce(sum(held), 0)::int FROM ticket_types WHERE event_id = $1) AS held,
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
