import { describe, expect, it } from 'vitest';
import * as customerOrdersRoute from '../../api/customers/orders.js';
import * as orderMoneyRoute from '../../api/orders/[id]/money.js';
import { resetConfigForTests } from '../../lib/config.js';
import { db, transaction } from '../../lib/db/client.js';
import { findLedgerMismatches, listLedgerForOrder } from '../../lib/db/models/money-ledger.js';
import { recordMovement } from '../../lib/ledger/record-movement.js';
import { recordProviderFeeInTx } from '../../lib/ledger/record-provider-fee.js';
import { makeKey } from '../support/staff.js';
import { disputeOrder, makeOrder, refundOrder } from '../support/books.js';
import { createEventWithTicketTypes, uniqueEmail } from '../support/factories.js';
import { call } from '../support/http.js';

async function paidOrder(options: { email?: string; provider?: 'stripe' | 'paypal'; fee?: number; at?: Date } = {}) {
  const { event, types } = await createEventWithTicketTypes({ full: { priceCents: 10_000, slidingScale: true } });
  const order = await makeOrder({
    eventId: event.id,
    provider: options.provider ?? 'stripe',
    percent: 20,
    items: [{ ticketTypeId: types.full.id, unitPriceCents: 10_000, quantity: 2, slidingScale: true }],
    at: options.at ?? new Date(),
    feeCents: options.fee,
    email: options.email,
  });
  return { event, order };
}

describe('money ledger', () => {
  it('is append-only: UPDATE, DELETE and TRUNCATE are refused', async () => {
    const { order } = await paidOrder();
    for (const statement of [
      `UPDATE money_ledger SET amount_cents = 1 WHERE order_id = '${order.orderId}'`,
      `DELETE FROM money_ledger WHERE order_id = '${order.orderId}'`,
      'TRUNCATE money_ledger',
    ]) {
      await expect(db.query(statement)).rejects.toThrow(/money_ledger is append-only/);
    }
    expect((await listLedgerForOrder(db, order.orderId)).map((e) => [e.kind, e.amountCents])).toEqual([['capture', 16_000]]);
  });

  it('signs amounts by kind, refuses a wrong sign, and writes a repeated movement once', async () => {
    const { order } = await paidOrder();
    await expect(
      db.query(
        `INSERT INTO money_ledger (kind, event_id, order_id, payment_id, provider, source_key, amount_cents, currency, occurred_at)
         SELECT 'capture', event_id, id, $2, 'stripe', 'bad-sign', -5, 'USD', now() FROM orders WHERE id = $1`,
        [order.orderId, order.paymentId],
      ),
    ).rejects.toThrow(/money_ledger_sign/);
    const again = await transaction((tx) =>
      recordMovement(tx, {
        kind: 'capture',
        orderId: order.orderId,
        paymentId: order.paymentId,
        provider: 'stripe',
        amountCents: order.totalCents,
        currency: 'usd',
      }),
    );
    expect(again).toBeUndefined();
    const fee = await transaction((tx) =>
      recordProviderFeeInTx(tx, { paymentId: order.paymentId, feeCents: 494, currency: 'USD', providerRef: 'txn_1' }),
    );
    const feeAgain = await transaction((tx) =>
      recordProviderFeeInTx(tx, { paymentId: order.paymentId, feeCents: 999, currency: 'USD', providerRef: 'txn_1' }),
    );
    expect([fee, feeAgain]).toEqual(['recorded', 'already_recorded']);
    expect((await listLedgerForOrder(db, order.orderId)).map((e) => [e.kind, e.amountCents])).toEqual([
      ['capture', 16_000],
      ['fee', -494],
    ]);
    expect(await findLedgerMismatches(db, order.orderId)).toEqual([]);
  });

  it('finds an order whose books and ledger disagree', async () => {
    const { order } = await paidOrder();
    // Books changed without the ledger (what a money path that forgot the ledger would do).
    await db.query('UPDATE payments SET refunded_cents = 100, status = $2 WHERE id = $1', [
      order.paymentId,
      'partially_refunded',
    ]);
    expect(await findLedgerMismatches(db, order.orderId)).toEqual([
      {
        orderId: order.orderId,
        paymentId: order.paymentId,
        expectedCents: order.totalCents - 100,
        ledgerCents: order.totalCents,
        expectedFeeCents: 0,
        ledgerFeeCents: 0,
      },
    ]);
    // Put the books back: other files (reconciliation, health) may check the whole shared database.
    await db.query(`UPDATE payments SET refunded_cents = 0, status = 'completed' WHERE id = $1`, [order.paymentId]);
    expect(await findLedgerMismatches(db, order.orderId)).toEqual([]);
  });

  it('writes nothing with LEDGER_WRITES=off (bench and backfill tests only)', async () => {
    process.env.LEDGER_WRITES = 'off';
    resetConfigForTests();
    try {
      const { order } = await paidOrder();
      expect(await listLedgerForOrder(db, order.orderId)).toEqual([]);
    } finally {
      delete process.env.LEDGER_WRITES;
      resetConfigForTests();
    }
  });
});

describe('customer service', () => {
  it("GET /api/orders/{id}/money: one order's money from the ledger, beside its books", async () => {
    const key = await makeKey(['orders:read']);
    const { order } = await paidOrder({ provider: 'paypal', fee: 650 });
    await refundOrder(order, 4_000, new Date());
    await refundOrder(order, 1_000, new Date(), new Date());
    await disputeOrder(order, 2_000, new Date(), { status: 'lost', at: new Date() });
    const res = await call(orderMoneyRoute.GET, {
      path: `/api/orders/${order.orderId}/money`,
      query: { id: order.orderId },
      headers: key.header,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.ledger).toEqual({
      capturedCents: 16_000,
      refundedCents: 4_000,
      disputesLostCents: 2_000,
      feesCents: 650,
      keptCents: 10_000,
      netCents: 9_350,
    });
    expect(res.body.books).toEqual({ keptCents: 10_000, feesCents: 650 });
    expect(res.body.balanced).toBe(true);
    expect(res.body.entries.map((e: any) => [e.kind, e.amountCents])).toEqual([
      ['capture', 16_000],
      ['fee', -650],
      ['refund', -4_000],
      ['refund', -1_000],
      ['refund_reversal', 1_000],
      ['dispute_opened', 0],
      ['dispute_lost', -2_000],
    ]);
    const missing = await call(orderMoneyRoute.GET, {
      query: { id: '6f1d1b7e-0000-4000-8000-000000000000' },
      headers: key.header,
    });
    expect(missing.status).toBe(404);
    const notUuid = await call(orderMoneyRoute.GET, { query: { id: 'nope' }, headers: key.header });
    expect(notUuid.status).toBe(404);
    const wrongScope = await call(orderMoneyRoute.GET, {
      query: { id: order.orderId },
      headers: (await makeKey(['analytics:read'])).header,
    });
    expect(wrongScope.status).toBe(403);
  });

  it("GET /api/customers/orders?email=: a customer's orders by email, newest first, with their money", async () => {
    const key = await makeKey(['orders:read']);
    const email = uniqueEmail('history');
    const first = await paidOrder({ email, fee: 100, at: new Date(Date.now() - 86_400_000) });
    const second = await paidOrder({ email: email.toUpperCase(), provider: 'paypal', fee: 200 });
    await refundOrder(second.order, 6_000, new Date());
    await paidOrder();
    const res = await call(customerOrdersRoute.GET, { query: { email }, headers: key.header });
    expect(res.status, res.text).toBe(200);
    expect(res.body.customer).toEqual({ firstName: 'Ana', lastName: 'Books' });
    expect(
      res.body.orders.map((o: any) => [o.orderId, o.capturedCents, o.refundedCents, o.feesCents, o.netCents, o.tickets]),
    ).toEqual([
      [second.order.orderId, 16_000, 6_000, 200, 9_800, 2],
      [first.order.orderId, 16_000, 0, 100, 15_900, 2],
    ]);
    const limited = await call(customerOrdersRoute.GET, { query: { email, limit: '1' }, headers: key.header });
    expect([limited.body.orders.length, limited.body.hasMore]).toEqual([1, true]);
    const nobody = await call(customerOrdersRoute.GET, { query: { email: uniqueEmail('nobody') }, headers: key.header });
    expect(nobody.body).toMatchObject({ customer: null, orders: [] });
    const bad = await call(customerOrdersRoute.GET, { query: { email: 'not-an-email' }, headers: key.header });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields[0].path).toBe('email');
  });
});
