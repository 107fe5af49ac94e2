import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as auditRoute from '../../api/audit.js';
import * as ordersRoute from '../../api/orders/index.js';
import * as transactionsRoute from '../../api/payments/transactions.js';
import { db } from '../../lib/db/client.js';
import { csvField } from '../../lib/db/queries/transactions.js';
import type { StripeSandbox } from '../../sandbox/stripe-sandbox.js';
import { uniqueEmail } from '../support/factories.js';
import { call } from '../support/http.js';
import { makeKey, type PaidOrder, paidStripeOrder, type TestKey } from '../support/staff.js';
import { startStripeSandboxForApp } from '../support/providers.js';

let sandbox: StripeSandbox;
let reader: TestKey;
let email: string;
let surname: string;
let orders: PaidOrder[];

beforeAll(async () => {
  sandbox = await startStripeSandboxForApp();
  reader = await makeKey(['orders:read', 'payments:read']);
  email = uniqueEmail('history');
  surname = `Zq${randomUUID().slice(0, 8)}`;
  orders = [];
  // Three orders of one customer (one with a formula-looking name), made one after the other.
  orders.push(await paidStripeOrder(sandbox, { email, priceCents: 1_000, quantity: 1, attendeeLastName: surname }));
  orders.push(await paidStripeOrder(sandbox, { email, priceCents: 2_000, quantity: 2 }));
  orders.push(await paidStripeOrder(sandbox, { email, priceCents: 3_000, quantity: 1, firstName: '=HYPERLINK("http://x")' }));
});

afterAll(async () => {
  await sandbox.close();
});

const getOrders = (query: Record<string, string>) =>
  call(ordersRoute.GET, { path: '/api/orders', query, headers: reader.header });
const getTransactions = (query: Record<string, string>) =>
  call(transactionsRoute.GET, { path: '/api/payments/transactions', query, headers: reader.header });

describe('GET /api/orders (customer service search)', () => {
  it("gives a customer's order history by email, newest first, case-insensitively", async () => {
    const res = await getOrders({ email: email.toUpperCase() });
    expect(res.status).toBe(200);
    expect(res.body.data.map((o: { id: string }) => o.id)).toEqual(orders.map((o) => o.orderId).reverse());
    expect(res.body.data[0]).toMatchObject({ status: 'completed', customer: { email }, ticketCount: 1, totalCents: 3_000 });
    expect(res.text).not.toMatch(/accessToken|access_token/);
  });

  it('finds by order number prefix, by attendee name, by customer email prefix; filters by status', async () => {
    const byNumber = await getOrders({ q: orders[1]?.orderNumber.toLowerCase() ?? '' });
    expect(byNumber.body.data.map((o: { id: string }) => o.id)).toEqual([orders[1]?.orderId]);
    const byAttendee = await getOrders({ q: surname.toLowerCase() });
    expect(byAttendee.body.data.map((o: { id: string }) => o.id)).toEqual([orders[0]?.orderId]);
    const byEmailPrefix = await getOrders({ q: email.slice(0, 20) });
    expect(byEmailPrefix.body.data).toHaveLength(3);
    const refunded = await getOrders({ email, status: 'refunded,partially_refunded' });
    expect(refunded.body.data).toHaveLength(0);
    const completed = await getOrders({ email, status: 'completed' });
    expect(completed.body.data).toHaveLength(3);
  });

  it('paginates with a stable cursor', async () => {
    const first = await getOrders({ email, limit: '2' });
    expect(first.body.data).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await getOrders({ email, limit: '2', cursor: first.body.nextCursor });
    expect(second.body.data).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    const ids = [...first.body.data, ...second.body.data].map((o: { id: string }) => o.id);
    expect(ids).toEqual(orders.map((o) => o.orderId).reverse());
  });
});

describe('GET /api/payments/transactions', () => {
  it('filters by email, amount range, ticket type and order number; paginates (created_at desc, id)', async () => {
    const all = await getTransactions({ email });
    expect(all.status).toBe(200);
    expect(all.body.data.map((t: { orderId: string }) => t.orderId)).toEqual(orders.map((o) => o.orderId).reverse());
    expect(all.body.data[0]).toMatchObject({
      provider: 'stripe',
      status: 'completed',
      amountCents: 3_000,
      netCents: 3_000,
      currency: 'USD',
    });

    const ranged = await getTransactions({ email, minAmountCents: '2000', maxAmountCents: '4000' });
    expect(ranged.body.data.map((t: { amountCents: number }) => t.amountCents)).toEqual([3_000, 4_000]);
    const byType = await getTransactions({ email, ticketType: 'full_pass', provider: 'stripe', status: 'completed' });
    expect(byType.body.data).toHaveLength(3);
    const byNumber = await getTransactions({ orderNumber: orders[0]?.orderNumber ?? '' });
    expect(byNumber.body.data.map((t: { orderId: string }) => t.orderId)).toEqual([orders[0]?.orderId]);
    const future = await getTransactions({ email, from: '2199-01-01' });
    expect(future.body.data).toHaveLength(0);

    const pages: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await getTransactions({ email, limit: '1', ...(cursor ? { cursor } : {}) });
      expect(page.status).toBe(200);
      pages.push(...page.body.data.map((t: { orderId: string }) => t.orderId));
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    expect(pages).toEqual(orders.map((o) => o.orderId).reverse());
  });

  it('exports CSV with a header row, one line per payment, spreadsheet formulas neutralised', async () => {
    const res = await call(transactionsRoute.GET, {
      path: '/api/payments/transactions',
      query: { email, format: 'csv' },
      headers: reader.header,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="transactions-\d{4}-\d{2}-\d{2}\.csv"$/);
    const lines = res.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'created_at,payment_id,order_number,order_status,event,provider,payment_status,currency,amount,refunded,disputed,net,customer_email,customer_name,provider_payment_id,method_brand,method_last4,completed_at',
    );
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain(`,${orders[2]?.orderNumber},completed,`);
    expect(lines[1]).toContain(',USD,30.00,0.00,0.00,30.00,');
    expect(lines[1]).toContain(`,"'=HYPERLINK(""http://x"")`);
    expect(csvField('=1+1')).toBe("'=1+1");
    expect(csvField('-2')).toBe("'-2");
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField(null)).toBe('');
  });
});

/** Values nobody should be able to break the search with. */
const HOSTILE = [
  "' OR '1'='1",
  "'; DROP TABLE orders; --",
  '" OR ""="',
  '1) UNION SELECT secret_hash FROM api_keys --',
  '%',
  '%%',
  '_',
  '\\',
  "\\'",
  '*',
  '$1',
  '{"$gt":""}',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '\u0000',
  'abc\u0000def',
  '\n\r\t',
  '\u202e\u200b',
  '💃🕺',
  'A'.repeat(5_000),
  '9'.repeat(400),
  '-1',
  '1e309',
  'NaN',
  '2026-02-30',
  'null',
];

const SEARCHES: {
  name: string;
  handler: (request: Request) => Promise<Response>;
  path: string;
  params: string[];
  base?: Record<string, string>;
}[] = [
  { name: 'orders', handler: ordersRoute.GET, path: '/api/orders', params: ['email', 'status', 'q', 'limit', 'cursor'] },
  {
    name: 'transactions',
    handler: transactionsRoute.GET,
    path: '/api/payments/transactions',
    params: [
      'status',
      'provider',
      'from',
      'to',
      'email',
      'orderNumber',
      'ticketType',
      'minAmountCents',
      'maxAmountCents',
      'limit',
      'cursor',
      'format',
    ],
  },
  {
    name: 'audit',
    handler: auditRoute.GET,
    path: '/api/audit',
    params: ['entity', 'id'],
    base: { entity: 'order', id: randomUUID() },
  },
];

describe('hostile and oversized values in every search parameter', () => {
  for (const search of SEARCHES) {
    it(`${search.name}: every parameter answers 400 or an empty result, never 500`, async () => {
      const seen = new Set<number>();
      for (const param of search.params) {
        for (const value of HOSTILE) {
          const res = await call(search.handler, {
            path: search.path,
            query: { ...search.base, [param]: value },
            headers: reader.header,
          });
          seen.add(res.status);
          const label = `${param}=${JSON.stringify(value.slice(0, 40))} → ${res.status} ${res.text.slice(0, 200)}`;
          expect([200, 400], label).toContain(res.status);
          if (res.status === 200) expect(res.body.data, label).toEqual([]);
          else expect(res.body.error.code, label).toBe('VALIDATION_ERROR');
          expect(res.text, label).not.toMatch(/syntax error|pg_|stack|at \//i);
        }
      }
      expect(seen.has(400)).toBe(true);
    });
  }

  it('the tables are all still there', async () => {
    const row = await db.queryOne<{ n: number }>(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('orders', 'api_keys', 'payments')`,
    );
    expect(row?.n).toBe(3);
  });
});
