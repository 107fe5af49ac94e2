import { describe, expect, it } from 'vitest';
import * as apiKeys from '../../api/admin/api-keys.js';
import * as webhookEvents from '../../api/admin/webhook-events.js';
import * as audit from '../../api/audit.js';
import * as orders from '../../api/orders/index.js';
import * as checkout from '../../api/payments/checkout-session.js';
import * as paypalCapture from '../../api/payments/paypal-capture.js';
import * as refund from '../../api/payments/refund.js';
import * as transactions from '../../api/payments/transactions.js';
import * as tickets from '../../api/tickets.js';
import { API_KEY_SCOPES } from '../../lib/auth/api-keys.js';
import { encodeCursor } from '../../lib/db/queries/search-params.js';
import { findUnsafeText } from '../../lib/http/text-input.js';
import { makeKey } from '../support/staff.js';
import { useProviderSandboxes } from '../support/providers.js';
import { checkoutBody, createEventWithTicketTypes, rowCounts } from '../support/factories.js';
import { call } from '../support/http.js';

/**
 * Issue 18: a NUL or other control character in any text, or a cursor that decodes to an impossible
 * value, is a 400 that names the field and writes nothing — never a PostgreSQL error as a 500.
 */

useProviderSandboxes();

const BAD_TEXT: Record<string, string> = {
  NUL: 'Ana\u0000Diaz',
  'unit separator': 'Ana\u001fDiaz',
  'line feed': 'Ana\nDiaz',
  DEL: 'Ana\u007fDiaz',
  'C1 control': 'Ana\u0085Diaz',
  'lone surrogate': 'Ana\ud800Diaz',
};

type Handler = (request: Request) => Promise<Response>;
interface Row {
  route: string;
  handler: Handler;
  method: 'GET' | 'POST';
  field: string;
  /** Body (POST) or query (GET) carrying `text` at `field`. */
  input: (text: string, ctx: { slug: string }) => Record<string, unknown>;
  auth?: boolean;
  idempotency?: boolean;
}

const ORDER_ID = '00000000-0000-4000-8000-000000000001';
const ROWS: Row[] = [
  ...(['firstName', 'lastName', 'email', 'phone'] as const).map(
    (field): Row => ({
      route: 'POST /api/payments/checkout-session',
      handler: checkout.POST,
      method: 'POST',
      field: `customer.${field}`,
      input: (text, { slug }) => {
        const body = checkoutBody({ slug }, [{ ticketType: 'ga', quantity: 1 }]);
        const value = field === 'email' ? `a${text}@example.com` : field === 'phone' ? `555${text}1234` : text;
        return { ...body, customer: { ...(body.customer as object), [field]: value } };
      },
    }),
  ),
  {
    route: 'POST /api/payments/checkout-session',
    handler: checkout.POST,
    method: 'POST',
    field: 'items.0.attendees.0.lastName',
    input: (text, { slug }) =>
      checkoutBody({ slug }, [
        { ticketType: 'ga', quantity: 1, attendees: [{ firstName: 'Ana', lastName: text, email: 'ana@example.com' }] },
      ]),
  },
  {
    route: 'POST /api/payments/checkout-session',
    handler: checkout.POST,
    method: 'POST',
    field: 'successUrl',
    input: (text, { slug }) =>
      checkoutBody({ slug }, [{ ticketType: 'ga', quantity: 1 }], { successUrl: `https://x.test/${text}` }),
  },
  {
    route: 'POST /api/payments/paypal-capture',
    handler: paypalCapture.POST,
    method: 'POST',
    field: 'orderId',
    input: (text) => ({ orderId: text }),
  },
  {
    route: 'POST /api/payments/refund',
    handler: refund.POST,
    method: 'POST',
    field: 'reason',
    input: (text) => ({ orderId: ORDER_ID, reason: `Customer asked ${text} for it` }),
    auth: true,
    idempotency: true,
  },
  {
    route: 'POST /api/admin/api-keys',
    handler: apiKeys.POST,
    method: 'POST',
    field: 'name',
    input: (text) => ({ name: `Box ${text} office`, scopes: ['orders:read'] }),
    auth: true,
  },
  { route: 'GET /api/tickets', handler: tickets.GET, method: 'GET', field: 'event', input: (text) => ({ event: `fest${text}` }) },
  { route: 'GET /api/orders', handler: orders.GET, method: 'GET', field: 'q', input: (text) => ({ q: text }), auth: true },
  {
    route: 'GET /api/orders',
    handler: orders.GET,
    method: 'GET',
    field: 'email',
    input: (text) => ({ email: `a${text}@x.io` }),
    auth: true,
  },
  {
    route: 'GET /api/payments/transactions',
    handler: transactions.GET,
    method: 'GET',
    field: 'orderNumber',
    input: (text) => ({ orderNumber: `ALB${text}` }),
    auth: true,
  },
  {
    route: 'GET /api/audit',
    handler: audit.GET,
    method: 'GET',
    field: 'id',
    input: (text) => ({ entity: 'order', id: text }),
    auth: true,
  },
  {
    route: 'GET /api/admin/webhook-events',
    handler: webhookEvents.GET,
    method: 'GET',
    field: 'cursor',
    input: (text) => ({ cursor: text }),
    auth: true,
  },
];

const TABLES = ['customers', 'orders', 'order_items', 'payments', 'refunds', 'payment_audit_log', 'idempotency_keys', 'api_keys'];

describe('one input rule for all text: control characters are a 400 naming the field, nothing written', () => {
  // A lone surrogate cannot travel in a URL (it is encoded as U+FFFD), so query rows skip it.
  const cases = ROWS.flatMap((row) =>
    Object.keys(BAD_TEXT)
      .filter((kind) => row.method === 'POST' || kind !== 'lone surrogate')
      .map((kind) => [`${row.route} ${row.field}: ${kind}`, row, kind] as const),
  );
  it.each(cases)('%s', async (_name, row, kind) => {
    const { event } = await createEventWithTicketTypes({ ga: { priceCents: 2_000, capacity: 10 } });
    const key = row.auth ? await makeKey(API_KEY_SCOPES) : undefined;
    const input = row.input(BAD_TEXT[kind] as string, { slug: event.slug });
    const before = await rowCounts(TABLES);
    const res = await call(row.handler, {
      method: row.method,
      path: row.route.split(' ')[1],
      headers: { ...(key?.header ?? {}), ...(row.idempotency ? { 'idempotency-key': `text-${Math.random()}` } : {}) },
      ...(row.method === 'POST' ? { body: input } : { query: input as Record<string, string> }),
    });
    expect(res.status, res.text.slice(0, 300)).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect(res.body.error.details.fields.map((f: { path: string }) => f.path)).toContain(row.field);
    expect(res.body.error.message).toContain(row.field);
    expect(await rowCounts(TABLES)).toEqual(before);
  });

  it('a control character in an object key is named without echoing it', () => {
    expect(findUnsafeText({ customer: { 'a\u0000b': 'x' } })).toBe('customer.(invalid key)');
    expect(findUnsafeText({ items: [{ name: 'ok' }, { name: 'b\u0000' }] })).toBe('items.1.name');
    expect(findUnsafeText({ name: 'Zoë 😀 Ñandú' })).toBeUndefined();
  });
});

const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
const CURSOR_ROWS: { route: string; handler: Handler; cursor: string }[] = [
  ...[orders, transactions].flatMap((mod, i) => {
    const route = i === 0 ? 'GET /api/orders' : 'GET /api/payments/transactions';
    return [
      { at: '2026-02-30T10:00:00.000000Z', id: ORDER_ID },
      { at: '2026-13-01T10:00:00.000000Z', id: ORDER_ID },
      { at: '2026-01-01T25:61:61.000000Z', id: ORDER_ID },
      { at: '0000-01-01T00:00:00.000000Z', id: ORDER_ID },
      { at: '9999-12-31T23:59:59.999999Z', id: ORDER_ID },
    ].map((c) => ({ route, handler: mod.GET, cursor: encodeCursor(c) }));
  }),
  ...[
    cursorOf(['2026-02-30T10:00:00.000Z', ORDER_ID]),
    cursorOf(['-271821-04-20T00:00:00.000Z', ORDER_ID]),
    cursorOf(['+275760-09-13T00:00:00.000Z', ORDER_ID]),
    cursorOf(['2026-01-01T00:00:00.000Z', '------------------------------------']),
    cursorOf(['2026-01-01T00:00:00.000Z', 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz']),
    cursorOf([12345, ORDER_ID]),
    cursorOf(null),
    cursorOf({ at: 'x' }),
    'not base64!',
    '%%%',
  ].map((cursor) => ({ route: 'GET /api/admin/webhook-events', handler: webhookEvents.GET, cursor })),
];

describe('cursors are validated as what they decode to', () => {
  it.each(CURSOR_ROWS.map((row) => [`${row.route} cursor ${row.cursor.slice(0, 40)}`, row] as const))(
    '%s → 400',
    async (_n, row) => {
      const key = await makeKey(API_KEY_SCOPES);
      const res = await call(row.handler, { path: row.route.split(' ')[1], headers: key.header, query: { cursor: row.cursor } });
      expect(res.status, res.text.slice(0, 300)).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(JSON.stringify(res.body.error)).toContain('cursor');
    },
  );

  it('impossible dates in from/to filters are 400 too', async () => {
    const key = await makeKey(API_KEY_SCOPES);
    for (const [param, value] of [
      ['from', '2026-02-30'],
      ['to', '2026-02-31T10:00:00Z'],
      ['from', '2026-04-31'],
    ] as const) {
      const res = await call(transactions.GET, {
        path: '/api/payments/transactions',
        headers: key.header,
        query: { [param]: value },
      });
      expect(res.status, `${param}=${value}: ${res.text.slice(0, 200)}`).toBe(400);
    }
  });
});
