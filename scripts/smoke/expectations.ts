import { randomBytes, randomUUID } from 'node:crypto';
import {
  buyerHeaders,
  checkoutRequest,
  expiredUnknownSession,
  signedPayPalApproval,
  signedStripeEvent,
  stripeFixture,
  unknownIdPath,
  unsignedWebhook,
  withApiKey,
} from './requests.js';
import type { ExpectationTable } from './types.js';

/**
 * Env every function process gets under the caller's env (the caller's values win). Fake secrets so
 * that "401 without CRON_SECRET" and "400 for an unsigned webhook" test the checks, not a missing
 * setting (that answers 500); the deeper `also` calls send them (cron bearer, signed webhooks).
 * VERCEL_ENV=preview: what `vercel build` targets; it lets STRIPE_API_BASE / PAYPAL_API_BASE (sandboxes)
 * through, which production refuses.
 */
export const SMOKE_ENV: Record<string, string> = {
  NODE_ENV: 'production',
  VERCEL_ENV: 'preview',
  LOG_LEVEL: 'info',
  ALLOWED_ORIGINS: 'http://localhost:3000',
  CRON_SECRET: 'smoke-cron-secret',
  STRIPE_WEBHOOK_SECRET: 'whsec_smoke_signing_secret',
  PAYPAL_WEBHOOK_ID: 'WH-SMOKE-0000000000',
};

export const DEFAULT_ORIGIN = 'http://localhost:3000';

/**
 * THE TABLE THE LEAD FILLS IN. Route names are the api/ file paths without extension. Exact keys win over
 * globs; among globs the longest wins. Every built function must match an entry, every exported method
 * must have a status (`*` covers the rest: `defineRoute` exports all methods and answers 405 for unhandled).
 * `also` calls go past the first check (a real API key, a signed webhook, the other provider) into code the
 * bundle loads lazily; bench cold-start ignores them.
 */
/** Functions that never open a database connection (the vercel-postgres smoke does not ask them for a tunnel). */
export const NO_DATABASE_ROUTES: ReadonlySet<string> = new Set(['api/openapi']);

export const EXPECTATIONS: ExpectationTable = {
  // Degraded (200 too) = pending migrations: the bundle lost the migrations/ folder, or could not read it.
  'api/health': { GET: { status: 200, bodyIncludes: '"status":"healthy"' }, '*': 405 },
  // Buyer routes (CORS preflight allowed).
  'api/tickets': {
    GET: { status: 200, request: { path: '/api/tickets?event=boulder-fest-2026', headers: buyerHeaders } },
    OPTIONS: { status: 204, request: { headers: { ...buyerHeaders, 'access-control-request-method': 'GET' } } },
    '*': 405,
  },
  // Checkout against the local sandboxes (the CLI seeds the demo event and starts both sandboxes).
  'api/payments/checkout-session': {
    POST: {
      status: 201,
      request: checkoutRequest('stripe'),
      also: [{ status: 201, request: checkoutRequest('paypal'), bodyIncludes: '"provider":"paypal"', note: 'PayPal checkout' }],
    },
    OPTIONS: { status: 204, request: { headers: { ...buyerHeaders, 'access-control-request-method': 'POST' } } },
    '*': 405,
  },
  // An empty body is refused before any provider call; an order we do not have is a 404.
  'api/payments/paypal-capture': {
    POST: {
      status: 400,
      request: { headers: buyerHeaders, body: {} },
      also: [{ status: 404, request: { headers: buyerHeaders, body: { orderId: randomUUID() } }, note: 'unknown order' }],
    },
    OPTIONS: { status: 204, request: { headers: { ...buyerHeaders, 'access-control-request-method': 'POST' } } },
    '*': 405,
  },
  // Unsigned provider webhooks are refused (any webhook route; the two below also send signed events).
  'api/webhooks/**': {
    POST: { status: 400, request: unsignedWebhook },
    '*': 405,
  },
  // Signed events are stored in the inbox, dispatched to their handler and answered 200 with the outcome. An
  // event type missing from the dispatch table would answer "ignored" too: charge.refunded must say "processed".
  'api/webhooks/stripe': {
    POST: {
      status: 400,
      request: unsignedWebhook,
      also: [
        {
          status: 200,
          request: expiredUnknownSession,
          bodyIncludes: '"duplicate":false,"status":"ignored"',
          note: 'signed checkout.session.expired, no such order',
        },
        {
          status: 200,
          request: expiredUnknownSession,
          bodyIncludes: '"duplicate":true',
          note: 'the same event again',
        },
        {
          status: 200,
          // As recent API versions send it: no refund list on the charge (refund.* events carry them): nothing to sync.
          request: (ctx) => {
            const { refunds: _refunds, ...charge } = stripeFixture('charge');
            const id = `ch_smoke_${randomBytes(12).toString('hex')}`;
            return signedStripeEvent(ctx, 'charge.refunded', { ...charge, id, refunded: true, amount_refunded: charge.amount });
          },
          bodyIncludes: '"status":"processed"',
          note: 'signed charge.refunded',
        },
      ],
    },
    '*': 405,
  },
  'api/webhooks/paypal': {
    POST: {
      status: 400,
      request: unsignedWebhook,
      also: [
        {
          status: 200,
          request: signedPayPalApproval,
          bodyIncludes: '"duplicate":false,"status":"ignored"',
          note: 'signed CHECKOUT.ORDER.APPROVED, no such order',
        },
      ],
    },
    '*': 405,
  },
  // Back office without an API key: 401 (defineRoute answers 405 for methods a file does not handle); with one, the data.
  'api/admin/api-keys': {
    GET: { status: 401, also: [{ status: 200, request: withApiKey(), bodyIncludes: 'vercel smoke', note: 'API key' }] },
    POST: 401,
    '*': 405,
  },
  'api/admin/api-keys/[id]': {
    GET: {
      status: 401,
      also: [
        {
          status: 200,
          request: withApiKey(({ id }) => ({ path: `/api/admin/api-keys/${id}?id=${id}` })),
          bodyIncludes: 'vercel smoke',
          note: 'API key, its own id',
        },
      ],
    },
    DELETE: 401,
    '*': 405,
  },
  // Any valid key learns its own name, prefix, scopes and expiry (the staff dashboard's sign-in).
  'api/admin/whoami': {
    GET: { status: 401, also: [{ status: 200, request: withApiKey(), bodyIncludes: '"scopes"', note: 'API key' }] },
    '*': 405,
  },
  'api/admin/webhook-events': { GET: { status: 401, also: [{ status: 200, request: withApiKey(), note: 'API key' }] }, '*': 405 },
  'api/admin/metrics': {
    GET: { status: 401, also: [{ status: 200, request: withApiKey(), bodyIncludes: '"webhooks":', note: 'API key' }] },
    '*': 405,
  },
  // The OpenAPI document (served at /api/openapi.json through a vercel.json rewrite).
  'api/openapi': { GET: { status: 200, bodyIncludes: '"openapi":"3.1.0"' }, '*': 405 },
  'api/admin/webhook-events/[id]': {
    GET: {
      status: 401,
      also: [{ status: 404, request: withApiKey(() => unknownIdPath('api/admin/webhook-events')), note: 'API key, unknown id' }],
    },
    '*': 405,
  },
  'api/admin/webhook-events/[id]/replay': {
    POST: {
      status: 401,
      also: [
        {
          status: 404,
          request: withApiKey(() => unknownIdPath('api/admin/webhook-events', '/replay')),
          note: 'API key, unknown id',
        },
      ],
    },
    '*': 405,
  },
  'api/audit': {
    GET: {
      status: 401,
      also: [
        {
          status: 200,
          request: withApiKey(({ id }) => ({ path: `/api/audit?entity=api_key&id=${id}` })),
          note: 'API key, its own timeline',
        },
      ],
    },
    '*': 405,
  },
  'api/orders/index': { GET: { status: 401, also: [{ status: 200, request: withApiKey(), note: 'API key' }] }, '*': 405 },
  // No credential: the buyer view answers 404 for a missing order and for a missing/wrong token alike.
  'api/orders/[id]': {
    GET: {
      status: 404,
      also: [{ status: 404, request: withApiKey(() => unknownIdPath('api/orders')), note: 'API key, unknown order' }],
    },
    OPTIONS: { status: 204, request: { headers: { ...buyerHeaders, 'access-control-request-method': 'GET' } } },
    '*': 405,
  },
  // The buyer's cancel: no token → the same 404 as a missing order.
  'api/orders/[id]/cancel': {
    POST: {
      status: 404,
      also: [
        {
          status: 404,
          request: () => {
            const id = randomUUID();
            return {
              path: `/api/orders/${id}/cancel?id=${id}`,
              headers: { ...buyerHeaders, authorization: `Bearer ${randomBytes(32).toString('base64url')}` },
            };
          },
          note: 'a token for an unknown order (looked up in the database)',
        },
      ],
    },
    OPTIONS: { status: 204, request: { headers: { ...buyerHeaders, 'access-control-request-method': 'POST' } } },
    '*': 405,
  },
  // Buyer emails: the same 202 for any well-formed pair (none matches in a smoke database).
  'api/orders/resend-confirmation': {
    POST: {
      status: 202,
      request: {
        headers: buyerHeaders,
        body: { email: 'vercel.smoke@example.com', orderNumber: 'ALB-20260101-0001' },
      },
    },
    OPTIONS: { status: 204, request: { headers: { ...buyerHeaders, 'access-control-request-method': 'POST' } } },
    '*': 405,
  },
  'api/admin/messages': { GET: { status: 401, also: [{ status: 200, request: withApiKey(), note: 'API key' }] }, '*': 405 },
  'api/admin/messages/[id]/resend': {
    POST: {
      status: 401,
      also: [
        {
          status: 404,
          request: withApiKey(() => unknownIdPath('api/admin/messages', '/resend')),
          note: 'API key, unknown message',
        },
      ],
    },
    '*': 405,
  },
  // Door check-in: an unknown code is a 404 (the smoke key holds every scope).
  'api/checkin': {
    POST: {
      status: 401,
      also: [
        {
          status: 404,
          request: withApiKey(() => ({ body: { code: 'A'.repeat(43), door: 'smoke' } })),
          note: 'API key, unknown code',
        },
      ],
    },
    '*': 405,
  },
  'api/checkin/stats': {
    GET: {
      status: 401,
      also: [
        {
          status: 200,
          request: withApiKey(() => ({ path: '/api/checkin/stats?event=boulder-fest-2026' })),
          bodyIncludes: '"ticketTypes"',
          note: 'API key, the demo event',
        },
      ],
    },
    '*': 405,
  },
  // Treasurer's reports (analytics:read): with a key but no event, the 400 that names the field.
  'api/analytics/**': {
    GET: { status: 401, also: [{ status: 400, request: withApiKey(), bodyIncludes: 'event', note: 'API key, no event' }] },
    '*': 405,
  },
  'api/customers/orders': {
    GET: {
      status: 401,
      also: [
        {
          status: 200,
          request: withApiKey(() => ({ path: '/api/customers/orders?email=nobody%40example.test' })),
          note: 'API key',
        },
      ],
    },
    '*': 405,
  },
  'api/orders/[id]/money': {
    GET: {
      status: 401,
      also: [
        {
          status: 404,
          request: withApiKey(() => unknownIdPath('api/orders', '/money')),
          note: 'API key, unknown order',
        },
      ],
    },
    '*': 405,
  },
  'api/payments/transactions': {
    GET: { status: 401, also: [{ status: 200, request: withApiKey(), note: 'API key' }] },
    '*': 405,
  },
  'api/payments/refund': {
    POST: {
      status: 401,
      also: [
        {
          status: 404,
          request: withApiKey(() => ({
            headers: { 'idempotency-key': `smoke-refund-${randomUUID()}` },
            body: { orderId: randomUUID(), reason: 'vercel smoke: an order that does not exist' },
          })),
          note: 'API key, unknown order',
        },
      ],
    },
    '*': 405,
  },
  // No stored reconciliation for a day long ago: the key gets in, the report is not there.
  'api/reconciliation': {
    GET: {
      status: 401,
      also: [
        {
          status: 404,
          request: withApiKey(() => ({ path: '/api/reconciliation?date=2001-01-01' })),
          note: 'API key, a day never reconciled',
        },
      ],
    },
    '*': 405,
  },
  // Crons without CRON_SECRET (Vercel Cron calls GET); with it, the job runs.
  'api/cron/**': {
    GET: {
      status: 401,
      also: [
        {
          status: 200,
          request: (ctx) => ({ headers: { authorization: `Bearer ${ctx.env.CRON_SECRET}` } }),
          note: 'CRON_SECRET',
        },
      ],
    },
    '*': 405,
  },
};
