import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateUp } from '../../lib/db/migrate.js';
import { PLACE_CHECKOUT_ORDER, placeCheckoutOrderParams } from '../../lib/db/queries/checkout.js';
import { type PlaceOrderCatalog, placeOrderInput } from '../support/checkout.js';
import { createEmptyDatabase } from '../support/databases.js';

/**
 * Issue 17: checkout's statements cost the same whatever the planner knew when it planned them
 * (migration 0160).
 *
 * A flash sale on a new database is the worst case: named statements and plpgsql keep a generic plan per
 * connection, made on the first calls while the sale's tables were still empty, and nothing replaces it
 * before autovacuum analyzes the tables. With the earlier SQL, two of those plans visited every live hold
 * on every checkout (the bench's database time grew with the tickets sold). This reproduces that state in
 * a database of its own: plans made on nearly empty tables, then 3,000 live holds. Each statement's
 * buffer count must stay small; with the earlier functions both read thousands (one per hold and item).
 */

const HOLDS = 3_000;
let client: pg.Client;

let catalog: PlaceOrderCatalog;

async function buffersOf(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: Record<string, number> }] }>(
    `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`,
    params,
  );
  const plan = rows[0]?.['QUERY PLAN'][0]?.Plan;
  if (!plan) throw new Error('no plan');
  return (plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0);
}

const PLACE = PLACE_CHECKOUT_ORDER.text;
const placeArgs = (n: number) => placeCheckoutOrderParams(placeOrderInput(catalog, n));

beforeAll(async () => {
  const url = await createEmptyDatabase('plans');
  await migrateUp({ databaseUrl: url });
  client = new pg.Client({ connectionString: url });
  await client.connect();
  // No autovacuum: its ANALYZE would invalidate the plans this test is about.
  for (const table of ['orders', 'order_items', 'ticket_types', 'customers', 'payments']) {
    await client.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
  }
  await client.query(
    `INSERT INTO events (slug, name, starts_at, ends_at, currency, status)
     VALUES ('plans', 'Plans', now() + interval '30 days', now() + interval '31 days', 'USD', 'on_sale')`,
  );
  await client.query(
    `INSERT INTO ticket_types (event_id, code, name, price_cents, currency, capacity)
     SELECT id, 'flash', 'Flash', 4500, 'USD', ${HOLDS + 20} FROM events WHERE slug = 'plans'`,
  );
  const { rows } = await client.query<PlaceOrderCatalog>(
    `SELECT e.id AS "eventId", event_catalog_version(e) AS "eventVersion", t.id AS "typeId",
            ticket_type_catalog_version(t) AS "typeVersion"
     FROM events e JOIN ticket_types t ON t.event_id = e.id WHERE e.slug = 'plans'`,
  );
  if (!rows[0]) throw new Error('no catalogue');
  catalog = rows[0];

  // The sale opens: the first calls plan the statements on the (nearly) empty tables. PostgreSQL plans a
  // prepared statement (and each plpgsql statement) for its first five calls, then settles on a generic plan.
  await client.query(
    `PREPARE expired_read(text[]) AS
     SELECT t.id, coalesce((SELECT x.n FROM expired_held_tickets(ARRAY[t.id]) x), 0) AS n
     FROM ticket_types t WHERE t.code = ANY($1)`,
  );
  for (let call = 0; call < 7; call++) {
    await client.query(`EXECUTE expired_read('{flash}')`);
    const opening = await client.query<{ result: { outcome: string } }>(PLACE, placeArgs(100 + call));
    expect(opening.rows[0]?.result.outcome).toBe('created');
  }

  // Then HOLDS live holds (pending, hold in the future), one ticket each, each from its own client and email.
  await client.query(
    `WITH o AS (
       INSERT INTO orders (event_id, customer_id, currency, subtotal_cents, total_cents, provider, access_token_hash,
                           hold_expires_at, client_key, held_email_key)
       SELECT e.id, c.id, 'USD', 4500, 4500, 'stripe', repeat('a', 64), now() + interval '1 hour',
              '10.0.' || g, 'holder' || g || '@plans.example'
       FROM events e, customers c, generate_series(1, ${HOLDS}) g WHERE e.slug = 'plans'
       RETURNING id)
     INSERT INTO order_items (order_id, ticket_type_id, unit_price_cents, price_cents, currency)
     SELECT o.id, $1, 4500, 4500, 'USD' FROM o`,
    [catalog.typeId],
  );
  await client.query('UPDATE ticket_types SET taken = taken + $1', [HOLDS]);
});

afterAll(async () => {
  await client?.end();
});

describe('checkout statements planned on empty tables, run over thousands of holds', () => {
  it("the first read's reclaimable-holds count reads a few buffers, not one per hold", async () => {
    const { rows } = await client.query<{ n: number }>(`EXECUTE expired_read('{flash}')`);
    expect(rows).toEqual([expect.objectContaining({ n: 0 })]);
    expect(await buffersOf(`EXECUTE expired_read('{flash}')`)).toBeLessThan(50);
  });

  it('still counts the expired holds when there are some (the gate opens)', async () => {
    await client.query('BEGIN');
    try {
      await client.query(
        `UPDATE orders SET hold_expires_at = now() - interval '1 minute'
         WHERE id IN (SELECT id FROM orders WHERE client_key LIKE '10.0.%' ORDER BY client_key LIMIT 7)`,
      );
      const { rows } = await client.query<{ n: number }>(`EXECUTE expired_read('{flash}')`);
      expect(rows).toEqual([expect.objectContaining({ n: 7 })]);
    } finally {
      await client.query('ROLLBACK');
    }
  });

  it("checkout_place_order's hold caps count the buyer's own holds only", async () => {
    const buffers = await buffersOf(PLACE, placeArgs(1));
    // One order with its item, payment, audit entry and customer, and the hot row: dozens of buffers.
    // The earlier count (client OR email) read every live hold and its item: thousands.
    expect(buffers).toBeLessThan(HOLDS / 10);
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM orders WHERE client_key = '10.1.1'`);
    expect(rows[0]?.n).toBe(1);
  });
});
