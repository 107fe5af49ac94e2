import { describe, expect, it } from 'vitest';
import { db, transaction } from '../../lib/db/client.js';
import { placeCheckoutOrder } from '../../lib/db/queries/checkout.js';
import { type PlaceOrderCatalog, placeOrderInput } from '../support/checkout.js';
import { createEventWithTicketTypes, ticketCounters } from '../support/factories.js';

/**
 * The catalogue versions (migrations 0100 and 0161): checkout prices from its first read, and its write
 * refuses ('stale') when the event or ticket type it priced from has changed since. Every field checkout
 * prices or checks with must change the version; the counters (changed by every sale) must not.
 */

const TYPE_CHANGES: Record<string, string> = {
  code: `code = code || 'x'`,
  name: `name = name || ' (new)'`,
  price_cents: 'price_cents = price_cents + 1',
  sliding_scale: 'sliding_scale = NOT sliding_scale',
  max_per_order: 'max_per_order = max_per_order + 1',
  is_active: 'is_active = NOT is_active',
  sales_start_at: `sales_start_at = coalesce(sales_start_at, now()) - interval '1 second'`,
  sales_end_at: `sales_end_at = coalesce(sales_end_at, now() + interval '1 day') + interval '1 second'`,
};
const TYPE_UNVERSIONED: Record<string, string> = {
  taken: 'taken = taken + 1',
  capacity: 'capacity = capacity + 1',
  sort_order: 'sort_order = sort_order + 1',
  description: `description = 'changed'`,
};
const EVENT_CHANGES: Record<string, string> = {
  slug: `slug = slug || 'x'`,
  name: `name = name || ' (new)'`,
  status: `status = 'closed'`,
  ends_at: `ends_at = ends_at + interval '1 second'`,
};

class RollBack extends Error {}

async function versionsAfter(table: 'ticket_types' | 'events', id: string, set: string) {
  const fn = table === 'events' ? 'event_catalog_version' : 'ticket_type_catalog_version';
  const read = `SELECT ${fn}(x) AS v FROM ${table} x WHERE id = $1`;
  let before: string | undefined;
  let after: string | undefined;
  // Changed in a transaction that is rolled back: the shared test database keeps its rows as they were.
  await transaction(async (tx) => {
    before = (await tx.queryOne<{ v: string }>(read, [id]))?.v;
    await tx.query(`UPDATE ${table} SET ${set} WHERE id = $1`, [id]);
    after = (await tx.queryOne<{ v: string }>(read, [id]))?.v;
    throw new RollBack();
  }).catch((error: unknown) => {
    if (!(error instanceof RollBack)) throw error;
  });
  return { before, after };
}

describe('catalogue versions', () => {
  it('change with every field checkout prices or checks with, and not with the counters', async () => {
    const { event, types } = await createEventWithTicketTypes({ ga: { capacity: 10 } });
    for (const [field, set] of Object.entries(TYPE_CHANGES)) {
      const { before, after } = await versionsAfter('ticket_types', types.ga.id, set);
      expect(before, field).toMatch(/^-?\d+$/);
      expect(after, field).not.toBe(before);
    }
    for (const [field, set] of Object.entries(TYPE_UNVERSIONED)) {
      const { before, after } = await versionsAfter('ticket_types', types.ga.id, set);
      expect(after, field).toBe(before);
    }
    for (const [field, set] of Object.entries(EVENT_CHANGES)) {
      const { before, after } = await versionsAfter('events', event.id, set);
      expect(after, field).not.toBe(before);
    }
    const venue = await versionsAfter('events', event.id, `venue = 'Elsewhere'`);
    expect(venue.after).toBe(venue.before);
  });

  it('checkout_place_order refuses a write priced from an older catalogue (stale) and writes nothing', async () => {
    const { event, types } = await createEventWithTicketTypes({ ga: { capacity: 10, priceCents: 4500 } });
    const catalogOf = async () =>
      (await db.queryOne<PlaceOrderCatalog>(
        `SELECT e.id AS "eventId", event_catalog_version(e) AS "eventVersion", t.id AS "typeId",
                ticket_type_catalog_version(t) AS "typeVersion"
         FROM events e JOIN ticket_types t ON t.event_id = e.id WHERE t.id = $1`,
        [types.ga.id],
      )) as PlaceOrderCatalog;
    const read = await catalogOf();
    await db.query('UPDATE ticket_types SET price_cents = 4600 WHERE id = $1', [types.ga.id]);
    const stale = await placeCheckoutOrder(db, placeOrderInput(read, `stale-${event.id}`));
    expect(stale.outcome).toBe('stale');
    expect(await ticketCounters(types.ga.id)).toMatchObject({ taken: 0 });
    const orders = await db.queryOne<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE event_id = $1', [event.id]);
    expect(orders?.n).toBe(0);

    // Read again: the new version is accepted.
    await db.query('UPDATE ticket_types SET price_cents = 4500 WHERE id = $1', [types.ga.id]);
    const fresh = await placeCheckoutOrder(db, placeOrderInput(await catalogOf(), `fresh-${event.id}`));
    expect(fresh.outcome).toBe('created');
  });
});
