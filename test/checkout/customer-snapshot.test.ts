import { describe, expect, it } from 'vitest';
import * as orderRoute from '../../api/orders/[id].js';
import * as orders from '../../api/orders/index.js';
import * as checkout from '../../api/payments/checkout-session.js';
import * as transactions from '../../api/payments/transactions.js';
import { API_KEY_SCOPES } from '../../lib/auth/api-keys.js';
import { resetConfigForTests } from '../../lib/config.js';
import { db } from '../../lib/db/client.js';
import { makeKey } from '../support/staff.js';
import { useProviderSandboxes } from '../support/providers.js';
import { checkoutBody, createEventWithTicketTypes, uniqueEmail } from '../support/factories.js';
import { call } from '../support/http.js';

/** Issue 18: an anonymous checkout with someone's email does not rewrite their details. */

const providers = useProviderSandboxes();

async function checkoutAs(slug: string, customer: Record<string, string>) {
  const res = await call(checkout.POST, {
    method: 'POST',
    path: '/api/payments/checkout-session',
    body: checkoutBody({ slug }, [{ ticketType: 'ga', quantity: 1 }], { customer }),
  });
  expect(res.status, res.text.slice(0, 300)).toBe(201);
  return res.body as { orderId: string; orderNumber: string; checkoutUrl: string; expiresAt: string };
}

describe('an order keeps the buyer details given with it', () => {
  it('a second checkout with the same email (other case) leaves the first order and the customer as they were', async () => {
    const { event } = await createEventWithTicketTypes({ ga: { priceCents: 6_000, capacity: 20 } });
    const email = uniqueEmail('victim');
    const first = await checkoutAs(event.slug, { email, firstName: 'Ana', lastName: 'Diaz', phone: '+1 303 555 0101' });
    const second = await checkoutAs(event.slug, {
      email: email.toUpperCase(),
      firstName: 'Mallory',
      lastName: 'Evil',
      phone: '+1 999 999 9999',
    });

    const customer = await db.queryOne<{ first_name: string; last_name: string; phone: string }>(
      'SELECT first_name, last_name, phone FROM customers WHERE lower(email) = lower($1)',
      [email],
    );
    expect(customer).toEqual({ first_name: 'Ana', last_name: 'Diaz', phone: '+1 303 555 0101' });

    const key = await makeKey(API_KEY_SCOPES);
    const detail = await call(orderRoute.GET, {
      path: `/api/orders/${first.orderId}`,
      query: { id: first.orderId },
      headers: key.header,
    });
    expect(detail.status).toBe(200);
    expect(detail.body.customer).toMatchObject({ firstName: 'Ana', lastName: 'Diaz', phone: '+1 303 555 0101' });
    const secondDetail = await call(orderRoute.GET, {
      path: `/api/orders/${second.orderId}`,
      query: { id: second.orderId },
      headers: key.header,
    });
    expect(secondDetail.body.customer).toMatchObject({ firstName: 'Mallory', lastName: 'Evil' });

    const search = await call(orders.GET, { path: '/api/orders', query: { email }, headers: key.header });
    expect(search.status).toBe(200);
    const byId = Object.fromEntries(search.body.data.map((o: { id: string }) => [o.id, o]));
    expect(JSON.stringify(byId[first.orderId])).toContain('Ana');
    expect(JSON.stringify(byId[first.orderId])).not.toContain('Mallory');
    const byName = await call(orders.GET, { path: '/api/orders', query: { q: 'Mallory' }, headers: key.header });
    expect(byName.body.data.map((o: { id: string }) => o.id)).not.toContain(first.orderId);

    const csv = await call(transactions.GET, {
      path: '/api/payments/transactions',
      query: { email, format: 'csv' },
      headers: key.header,
    });
    expect(csv.status).toBe(200);
    const firstLine = csv.text.split('\n').find((line) => line.includes(first.orderNumber)) ?? '';
    expect(firstLine).toContain('Ana Diaz');
    expect(firstLine).not.toContain('Mallory');
  });
});

describe('short hold window, provider keeps its minimum', () => {
  it('HOLD_MINUTES=10: tickets held 10 minutes, the Stripe session still lasts 30+', async () => {
    process.env.HOLD_MINUTES = '10';
    resetConfigForTests();
    try {
      const { event } = await createEventWithTicketTypes({ ga: { priceCents: 6_000, capacity: 20 } });
      const before = Date.now();
      const created = await checkoutAs(event.slug, { email: uniqueEmail('short'), firstName: 'Ana', lastName: 'Diaz' });
      const holdMs = Date.parse(created.expiresAt) - before;
      expect(holdMs).toBeGreaterThanOrEqual(10 * 60_000);
      expect(holdMs).toBeLessThanOrEqual(12 * 60_000);
      const session = providers.stripe.getSession(created.checkoutUrl.split('/').pop() ?? '');
      expect(Number(session?.expires_at) * 1000 - before).toBeGreaterThanOrEqual(30 * 60_000);
    } finally {
      delete process.env.HOLD_MINUTES;
      resetConfigForTests();
    }
  });
});
