import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { db, transaction } from '../../lib/db/client.js';
import { DbError } from '../../lib/db/errors.js';
import { appendAudit } from '../../lib/db/models/audit-log.js';
import { upsertCustomerByEmail } from '../../lib/db/models/customers.js';
import { upsertEvent } from '../../lib/db/models/events.js';
import { insertOrder, type Order } from '../../lib/db/models/orders.js';
import { insertPayment } from '../../lib/db/models/payments.js';
import { upsertTicketType } from '../../lib/db/models/ticket-types.js';
import { insertWebhookEventIfNew } from '../../lib/db/models/webhook-events.js';

/** The database itself refuses bad money: each test tries a write the schema must reject. */

const unique = () => randomUUID().slice(0, 8);
let eventId: string;

async function rejection(work: Promise<unknown>): Promise<DbError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DbError);
  return error as DbError;
}

async function makeOrder(overrides: Partial<Parameters<typeof insertOrder>[1]> = {}): Promise<Order> {
  const customer = await upsertCustomerByEmail(db, { email: `c-${unique()}@example.com`, firstName: 'Ana', lastName: 'Diaz' });
  return await insertOrder(db, {
    eventId,
    customerId: customer.id,
    currency: 'USD',
    subtotalCents: 10_000,
    discountCents: 0,
    totalCents: 10_000,
    slidingScalePercent: 0,
    provider: 'stripe',
    accessTokenHash: 'a'.repeat(64),
    holdExpiresAt: new Date(Date.now() + 30 * 60_000),
    ...overrides,
  });
}

beforeAll(async () => {
  const event = await upsertEvent(db, {
    slug: `constraints-${unique()}`,
    name: 'Constraint tests',
    startsAt: new Date('2026-05-15T16:00:00Z'),
    endsAt: new Date('2026-05-17T23:00:00Z'),
  });
  eventId = event.id;
});

describe('the database refuses bad money', () => {
  it('refuses taken (held + sold) over capacity, and below zero', async () => {
    const type = await upsertTicketType(db, {
      eventId,
      code: `cap_${unique()}`,
      name: 'Cap',
      priceCents: 100,
      currency: 'USD',
      capacity: 2,
    });
    await db.query('UPDATE ticket_types SET taken = 2 WHERE id = $1', [type.id]);
    const error = await rejection(db.query('UPDATE ticket_types SET taken = taken + 1 WHERE id = $1', [type.id]));
    expect(error.kind).toBe('CHECK_VIOLATION');
    expect(error.constraint).toBe('ticket_types_taken_within_capacity');
    const below = await rejection(db.query('UPDATE ticket_types SET taken = -1 WHERE id = $1', [type.id]));
    expect(below.kind).toBe('CHECK_VIOLATION');
    expect(below.constraint).toBe('ticket_types_taken_within_capacity');
  });

  it('refuses a refund over the order total', async () => {
    const order = await makeOrder();
    const error = await rejection(db.query('UPDATE orders SET refunded_cents = 10001 WHERE id = $1', [order.id]));
    expect(error.kind).toBe('CHECK_VIOLATION');
    expect(error.constraint).toBe('orders_refunded_not_above_total');
  });

  it('refuses a sliding scale of 80 percent', async () => {
    const error = await rejection(makeOrder({ slidingScalePercent: 80, discountCents: 8_000, totalCents: 2_000 }));
    expect(error.kind).toBe('CHECK_VIOLATION');
    expect(error.constraint).toBe('orders_sliding_scale_percent_check');
  });

  it('refuses a negative amount', async () => {
    const error = await rejection(makeOrder({ subtotalCents: -100, totalCents: -100 }));
    expect(error.kind).toBe('CHECK_VIOLATION');
    expect(error.constraint).toBe('money_cents_check');
  });

  it('refuses a total that is not subtotal minus discount', async () => {
    const error = await rejection(makeOrder({ discountCents: 100 }));
    expect(error.constraint).toBe('orders_total_is_subtotal_less_discount');
  });

  it('refuses a currency outside the allowed list', async () => {
    const error = await rejection(makeOrder({ currency: 'BTC' as never }));
    expect(error.kind).toBe('CHECK_VIOLATION');
    expect(error.constraint).toBe('currency_code_check');
  });

  it('refuses a second completed payment for one order', async () => {
    const order = await makeOrder();
    const first = await insertPayment(db, { orderId: order.id, provider: 'stripe', amountCents: 10_000, currency: 'USD' });
    const second = await insertPayment(db, { orderId: order.id, provider: 'stripe', amountCents: 10_000, currency: 'USD' });
    await db.query(`UPDATE payments SET status = 'completed' WHERE id = $1`, [first.id]);
    const error = await rejection(db.query(`UPDATE payments SET status = 'completed' WHERE id = $1`, [second.id]));
    expect(error.kind).toBe('DUPLICATE_ENTRY');
    expect(error.constraint).toBe('payments_one_completed_per_order');
  });

  it('refuses a duplicate provider event id (and the inbox insert reports the duplicate)', async () => {
    const id = `evt_${unique()}`;
    const event = { provider: 'stripe' as const, providerEventId: id, eventType: 'checkout.session.completed', payload: { id } };
    expect(await insertWebhookEventIfNew(db, event)).toBeDefined();
    expect(await insertWebhookEventIfNew(db, event)).toBeUndefined();
    const error = await rejection(
      db.query(`INSERT INTO webhook_events (provider, provider_event_id, event_type, payload) VALUES ('stripe', $1, 'x', '{}')`, [
        id,
      ]),
    );
    expect(error.kind).toBe('DUPLICATE_ENTRY');
    expect(error.constraint).toBe('webhook_events_provider_event_key');
    // The same id from the other provider is a different event.
    expect(await insertWebhookEventIfNew(db, { ...event, provider: 'paypal' })).toBeDefined();
  });

  it('refuses a refund reason shorter than 10 characters after trimming', async () => {
    const order = await makeOrder();
    const payment = await insertPayment(db, { orderId: order.id, provider: 'stripe', amountCents: 10_000, currency: 'USD' });
    const error = await rejection(
      db.query(
        `INSERT INTO refunds (payment_id, order_id, provider, amount_cents, currency, reason) VALUES ($1, $2, 'stripe', 100, 'USD', $3)`,
        [payment.id, order.id, '   too short   '],
      ),
    );
    expect(error.constraint).toBe('refunds_reason_check');
  });

  it('refuses a second customer with the same email in another case', async () => {
    const email = `Case-${unique()}@Example.com`;
    await db.query(`INSERT INTO customers (email, first_name, last_name) VALUES ($1, 'A', 'B')`, [email]);
    const error = await rejection(
      db.query(`INSERT INTO customers (email, first_name, last_name) VALUES ($1, 'A', 'B')`, [email.toLowerCase()]),
    );
    expect(error.kind).toBe('DUPLICATE_ENTRY');
    expect(error.constraint).toBe('customers_email_lower_key');
  });

  it('refuses a missing required field and an unknown foreign key', async () => {
    const missing = await rejection(db.query(`INSERT INTO customers (email, first_name) VALUES ('x@example.com', 'A')`));
    expect(missing.kind).toBe('NOT_NULL_VIOLATION');
    const foreign = await rejection(makeOrder({ customerId: randomUUID() }));
    expect(foreign.kind).toBe('FOREIGN_KEY_VIOLATION');
    expect(foreign.constraint).toBe('orders_customer_id_fkey');
  });

  it('refuses UPDATE, DELETE and TRUNCATE on the audit log', async () => {
    const entityId = randomUUID();
    await appendAudit(db, { entityType: 'order', entityId, action: 'test_entry', actor: { type: 'system' } });
    for (const statement of [
      `UPDATE payment_audit_log SET action = 'changed' WHERE entity_id = '${entityId}'`,
      `DELETE FROM payment_audit_log WHERE entity_id = '${entityId}'`,
      'TRUNCATE payment_audit_log',
    ]) {
      const error = await rejection(db.query(statement));
      expect(error.message).toContain('payment_audit_log is append-only');
    }
    const { rows } = await db.query('SELECT action FROM payment_audit_log WHERE entity_id = $1', [entityId]);
    expect(rows).toEqual([{ action: 'test_entry' }]);
  });

  it('hands out distinct ALB-YYYYMMDD-NNNN order numbers to concurrent checkouts', async () => {
    const orders = await Promise.all(Array.from({ length: 40 }, () => makeOrder()));
    const numbers = orders.map((o) => o.orderNumber);
    expect(new Set(numbers).size).toBe(40);
    for (const number of numbers) expect(number).toMatch(/^ALB-\d{8}-\d{4,}$/);
  });
});

describe('transaction()', () => {
  it('rolls back everything on a throw', async () => {
    const slug = `rollback-${unique()}`;
    await expect(
      transaction(async (tx) => {
        await tx.query(`INSERT INTO events (slug, name, starts_at, ends_at) VALUES ($1, 'x', now(), now())`, [slug]);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await db.queryOne('SELECT id FROM events WHERE slug = $1', [slug])).toBeUndefined();
  });

  it('retries a serialization failure and then succeeds', async () => {
    const type = await upsertTicketType(db, {
      eventId,
      code: `ser_${unique()}`,
      name: 'S',
      priceCents: 100,
      currency: 'USD',
      capacity: 100,
    });
    let attempts = 0;
    // Two serializable transactions that read then write the same row: one must fail with 40001 and be retried.
    const bump = () =>
      transaction(
        async (tx) => {
          attempts++;
          const row = await tx.queryOne<{ taken: number }>('SELECT taken FROM ticket_types WHERE id = $1', [type.id]);
          await new Promise((r) => setTimeout(r, 50));
          await tx.query('UPDATE ticket_types SET taken = $2 WHERE id = $1', [type.id, (row?.taken ?? 0) + 1]);
        },
        { isolation: 'serializable', maxRetries: 5 },
      );
    await Promise.all([bump(), bump()]);
    const final = await db.queryOne<{ taken: number }>('SELECT taken FROM ticket_types WHERE id = $1', [type.id]);
    expect(final?.taken).toBe(2);
    expect(attempts).toBeGreaterThan(2);
  });

  it('gives up after the bounded number of retries with the serialization error', async () => {
    let attempts = 0;
    const error = await transaction(
      async (tx) => {
        attempts++;
        await tx.query(`DO $$ BEGIN RAISE EXCEPTION 'simulated conflict' USING ERRCODE = 'serialization_failure'; END $$`);
      },
      { maxRetries: 2 },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(attempts).toBe(3);
    expect(error).toBeInstanceOf(DbError);
    expect((error as DbError).kind).toBe('SERIALIZATION_FAILURE');
  });

  it('does not retry other errors', async () => {
    let attempts = 0;
    await expect(
      transaction(async (tx) => {
        attempts++;
        await tx.query('SELECT 1 / 0');
      }),
    ).rejects.toBeInstanceOf(DbError);
    expect(attempts).toBe(1);
  });
});
