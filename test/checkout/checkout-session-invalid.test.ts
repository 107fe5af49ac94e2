import { describe, expect, it } from 'vitest';
import * as checkout from '../../api/payments/checkout-session.js';
import { db } from '../../lib/db/client.js';
import { idempotencyKeyHash } from '../../lib/http/idempotency.js';
import { useProviderSandboxes } from '../support/providers.js';
import { createEvent, createEventWithTicketTypes, createTicketType, eventFootprint, uniqueEmail } from '../support/factories.js';
import { call } from '../support/http.js';

const providers = useProviderSandboxes();
const SCOPE = 'POST /api/payments/checkout-session';
const SITE = 'https://www.alocubanoboulderfest.org';

type Body = Record<string, unknown>;
interface Row {
  name: string;
  /** Build the body from a valid one (or give raw text). */
  body?: (valid: Body, ctx: { closedSlug: string }) => unknown;
  raw?: string;
  status: 400 | 422;
  code?: string;
  /** A field path the 400 must name. */
  field?: string;
}

const item = (valid: Body) => (valid.items as Body[])[0] as Body;
const withItem = (valid: Body, patch: Body): Body => ({ ...valid, items: [{ ...item(valid), ...patch }] });
const withCustomer = (valid: Body, patch: Body): Body => ({ ...valid, customer: { ...(valid.customer as Body), ...patch } });
const without = (object: Body, key: string): Body => Object.fromEntries(Object.entries(object).filter(([k]) => k !== key));

const ROWS: Row[] = [
  { name: 'not JSON', raw: '{"event": ', status: 400, code: 'INVALID_JSON' },
  { name: 'an array instead of an object', body: () => [], status: 400 },
  { name: 'missing event', body: (v) => without(v, 'event'), status: 400, field: 'event' },
  { name: 'event is a number', body: (v) => ({ ...v, event: 2026 }), status: 400, field: 'event' },
  { name: 'unknown event', body: (v) => ({ ...v, event: 'no-such-festival-1999' }), status: 400, field: 'event' },
  { name: 'missing items', body: (v) => without(v, 'items'), status: 400, field: 'items' },
  { name: 'empty items', body: (v) => ({ ...v, items: [] }), status: 400, field: 'items' },
  { name: 'items is an object', body: (v) => ({ ...v, items: { weekend: 1 } }), status: 400, field: 'items' },
  { name: 'quantity 0', body: (v) => withItem(v, { quantity: 0 }), status: 400, field: 'items.0.quantity' },
  { name: 'quantity 10,000', body: (v) => withItem(v, { quantity: 10_000 }), status: 400, field: 'items.0.quantity' },
  { name: 'quantity -1', body: (v) => withItem(v, { quantity: -1 }), status: 400, field: 'items.0.quantity' },
  { name: 'quantity 1.5', body: (v) => withItem(v, { quantity: 1.5 }), status: 400, field: 'items.0.quantity' },
  { name: 'quantity as a string', body: (v) => withItem(v, { quantity: '2' }), status: 400, field: 'items.0.quantity' },
  {
    name: 'unknown ticket type',
    body: (v) => withItem(v, { ticketType: 'vip_backstage' }),
    status: 400,
    field: 'items.0.ticketType',
  },
  {
    name: 'ticket type not a code',
    body: (v) => withItem(v, { ticketType: 'Weekend Pass' }),
    status: 400,
    field: 'items.0.ticketType',
  },
  {
    name: 'the same ticket type twice',
    body: (v) => ({ ...v, items: [item(v), item(v)] }),
    status: 400,
    field: 'items.1.ticketType',
  },
  {
    name: 'more than 100 tickets in one order',
    body: (v) => ({
      ...v,
      items: [
        { ticketType: 'weekend', quantity: 60 },
        { ticketType: 'social', quantity: 60 },
      ],
    }),
    status: 400,
    field: 'items',
  },
  { name: 'sliding scale 76', body: (v) => ({ ...v, slidingScalePercent: 76 }), status: 400, field: 'slidingScalePercent' },
  { name: 'sliding scale -1', body: (v) => ({ ...v, slidingScalePercent: -1 }), status: 400, field: 'slidingScalePercent' },
  { name: 'sliding scale 10.5', body: (v) => ({ ...v, slidingScalePercent: 10.5 }), status: 400, field: 'slidingScalePercent' },
  {
    name: 'sliding scale as a string',
    body: (v) => ({ ...v, slidingScalePercent: '20' }),
    status: 400,
    field: 'slidingScalePercent',
  },
  { name: 'client-sent unit price on an item', body: (v) => withItem(v, { priceCents: 1 }), status: 400, field: 'items.0' },
  { name: 'client-sent unitAmount on an item', body: (v) => withItem(v, { unitAmount: 100 }), status: 400, field: 'items.0' },
  { name: 'client-sent totalCents', body: (v) => ({ ...v, totalCents: 100 }), status: 400 },
  { name: 'client-sent amount', body: (v) => ({ ...v, amount: 1 }), status: 400 },
  { name: 'client-sent status', body: (v) => ({ ...v, status: 'completed' }), status: 400 },
  { name: 'client-sent discountCents', body: (v) => ({ ...v, discountCents: 6500 }), status: 400 },
  { name: 'client-sent currency', body: (v) => ({ ...v, currency: 'MXN' }), status: 400 },
  { name: 'missing customer', body: (v) => without(v, 'customer'), status: 400, field: 'customer' },
  { name: 'bad email', body: (v) => withCustomer(v, { email: 'not-an-email' }), status: 400, field: 'customer.email' },
  {
    name: 'email over 254 characters',
    body: (v) => withCustomer(v, { email: `${'a'.repeat(250)}@example.test` }),
    status: 400,
    field: 'customer.email',
  },
  {
    name: 'first name over 100 characters',
    body: (v) => withCustomer(v, { firstName: 'A'.repeat(101) }),
    status: 400,
    field: 'customer.firstName',
  },
  { name: 'empty last name', body: (v) => withCustomer(v, { lastName: '   ' }), status: 400, field: 'customer.lastName' },
  { name: 'phone with letters', body: (v) => withCustomer(v, { phone: 'call me maybe' }), status: 400, field: 'customer.phone' },
  { name: 'extra customer field', body: (v) => withCustomer(v, { isStaff: true }), status: 400, field: 'customer' },
  {
    name: 'attendees do not match the quantity',
    body: (v) => withItem(v, { quantity: 2, attendees: [{ firstName: 'A', lastName: 'B', email: 'a@example.test' }] }),
    status: 400,
    field: 'items.0.attendees',
  },
  {
    name: 'attendee with a bad email',
    body: (v) => withItem(v, { quantity: 1, attendees: [{ firstName: 'A', lastName: 'B', email: 'nope' }] }),
    status: 400,
    field: 'items.0.attendees.0.email',
  },
  { name: 'unknown provider', body: (v) => ({ ...v, provider: 'bitcoin' }), status: 400, field: 'provider' },
  { name: 'missing provider', body: (v) => without(v, 'provider'), status: 400, field: 'provider' },
  {
    name: 'success URL on a foreign origin',
    body: (v) => ({ ...v, successUrl: 'https://evil.example.com/thanks' }),
    status: 400,
    field: 'successUrl',
  },
  {
    name: 'cancel URL on a foreign origin',
    body: (v) => ({ ...v, cancelUrl: 'https://alocubanoboulderfest.org.evil.example/x' }),
    status: 400,
    field: 'cancelUrl',
  },
  {
    name: 'javascript: return URL',
    body: (v) => ({ ...v, successUrl: 'javascript:alert(1)' }),
    status: 400,
    field: 'successUrl',
  },
  {
    name: 'return URL over 2,048 characters',
    body: (v) => ({ ...v, successUrl: `${SITE}/${'x'.repeat(2100)}` }),
    status: 400,
    field: 'successUrl',
  },
  {
    name: 'over max per order (11 of 10)',
    body: (v) => withItem(v, { quantity: 11 }),
    status: 422,
    code: 'MAX_PER_ORDER_EXCEEDED',
  },
  {
    name: 'inactive ticket type',
    body: (v) => withItem(v, { ticketType: 'retired' }),
    status: 422,
    code: 'TICKET_TYPE_INACTIVE',
  },
  { name: 'sales not started yet', body: (v) => withItem(v, { ticketType: 'next_year' }), status: 422, code: 'SALES_CLOSED' },
  { name: 'sales ended', body: (v) => withItem(v, { ticketType: 'early_bird' }), status: 422, code: 'SALES_CLOSED' },
  { name: 'event sales closed', body: (v, c) => ({ ...v, event: c.closedSlug }), status: 422, code: 'SALES_CLOSED' },
];

describe('POST /api/payments/checkout-session refuses invalid requests and writes nothing', () => {
  it(`has a table of at least 25 rows (${ROWS.length})`, () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(25);
  });

  it.each(ROWS)('$name → $status', async (row) => {
    const hour = 3_600_000;
    const { event } = await createEventWithTicketTypes({
      weekend: { priceCents: 6500, capacity: 50, slidingScale: true, maxPerOrder: 10 },
      social: { priceCents: 2500, capacity: 100, maxPerOrder: 100 },
      retired: { isActive: false },
      next_year: { salesStartAt: new Date(Date.now() + 24 * hour) },
      early_bird: { salesStartAt: new Date(Date.now() - 48 * hour), salesEndAt: new Date(Date.now() - hour) },
    });
    const closed = await createEvent({ status: 'closed' });
    await createTicketType(closed, { code: 'weekend' });
    const email = uniqueEmail('invalid');
    const valid: Body = {
      event: event.slug,
      items: [{ ticketType: 'weekend', quantity: 1 }],
      customer: { email, firstName: 'Ana', lastName: 'García' },
      provider: 'stripe',
      successUrl: `${SITE}/tickets/thanks`,
    };
    const key = `invalid-${email}`;
    const before = [await eventFootprint(event.id, [email]), await eventFootprint(closed.id, [email])];
    const stripeCallsBefore = providers.stripe.requests.length;

    const headers = { 'idempotency-key': key, 'content-type': 'application/json' };
    const res =
      row.raw !== undefined
        ? await call(checkout.POST, { method: 'POST', rawBody: row.raw, headers })
        : await call(checkout.POST, {
            method: 'POST',
            rawBody: JSON.stringify(row.body?.(valid, { closedSlug: closed.slug })),
            headers,
          });

    expect(res.status).toBe(row.status);
    if (row.code) expect(res.body.error.code).toBe(row.code);
    if (row.status === 400 && !row.code) expect(res.body.error.code).toBe('VALIDATION_ERROR');
    if (row.field) {
      const paths: string[] = res.body.error.details.fields.map((f: { path: string }) => f.path);
      expect(paths.some((p) => p === row.field || p.startsWith(`${row.field}.`))).toBe(true);
    }
    expect(res.text).not.toMatch(/at .*\.ts:\d+/);
    expect([await eventFootprint(event.id, [email]), await eventFootprint(closed.id, [email])]).toEqual(before);
    const keyRow = await db.queryOne('SELECT 1 FROM idempotency_keys WHERE scope = $1 AND key = $2', [
      SCOPE,
      idempotencyKeyHash(SCOPE, key),
    ]);
    expect(keyRow).toBeUndefined();
    expect(providers.stripe.requests.length).toBe(stripeCallsBefore);
  });

  it('the valid body of the table does succeed (so the rows fail for their own reason)', async () => {
    const { event } = await createEventWithTicketTypes({ weekend: { priceCents: 6500, slidingScale: true } });
    const res = await call(checkout.POST, {
      method: 'POST',
      body: {
        event: event.slug,
        items: [{ ticketType: 'weekend', quantity: 1 }],
        customer: { email: uniqueEmail('valid'), firstName: 'Ana', lastName: 'García' },
        provider: 'stripe',
        successUrl: `${SITE}/tickets/thanks`,
      },
    });
    expect(res.status).toBe(201);
  });
});
