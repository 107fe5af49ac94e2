import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as keysRoute from '../../api/admin/api-keys.js';
import * as metricsRoute from '../../api/admin/metrics.js';
import * as keyRoute from '../../api/admin/api-keys/[id].js';
import * as webhookEventsRoute from '../../api/admin/webhook-events.js';
import * as webhookEventRoute from '../../api/admin/webhook-events/[id].js';
import * as webhookReplayRoute from '../../api/admin/webhook-events/[id]/replay.js';
import * as messagesRoute from '../../api/admin/messages.js';
import * as messageResendRoute from '../../api/admin/messages/[id]/resend.js';
import * as auditRoute from '../../api/audit.js';
import * as checkinRoute from '../../api/checkin.js';
import * as checkinStatsRoute from '../../api/checkin/stats.js';
import * as orderRoute from '../../api/orders/[id].js';
import * as ordersRoute from '../../api/orders/index.js';
import * as refundRoute from '../../api/payments/refund.js';
import * as transactionsRoute from '../../api/payments/transactions.js';
import * as reconciliationRoute from '../../api/reconciliation.js';
import { reconcileDay } from '../../lib/reconciliation/reconcile-day.js';
import { isolatedDay } from '../support/recon-books.js';
import { API_KEY_SCOPES, generateApiKey } from '../../lib/auth/api-keys.js';
import { db, transaction } from '../../lib/db/client.js';
import { insertOutboxMessageIfNew } from '../../lib/db/models/outbox-messages.js';
import { issueTicketCodesInTx, ticketCodesForOrder } from '../../lib/tickets/ticket-codes.js';
import type { ApiKeyScope } from '../../lib/db/models/api-keys.js';
import { insertWebhookEventIfNew } from '../../lib/db/models/webhook-events.js';
import type { StripeSandbox } from '../../sandbox/stripe-sandbox.js';
import { type CallOptions, call } from '../support/http.js';
import { makeExpiredKey, makeKey, makeRevokedKey, paidStripeOrder, type TestKey, withoutRequestId } from '../support/staff.js';
import { startStripeSandboxForApp } from '../support/providers.js';

/**
 * The one auth suite: every admin route, every way of getting it wrong. Add new admin routes to
 * ADMIN_ROUTES; the suite then checks them all the same way:
 * no key, malformed, unknown, expired, revoked → 401 with one identical answer (across routes too);
 * a valid key with every scope but the one needed → 403; the right scope → 2xx.
 */

type Handler = (request: Request) => Promise<Response>;

interface AdminRoute {
  name: string;
  handler: Handler;
  method: 'GET' | 'POST' | 'DELETE';
  scope: ApiKeyScope;
  /** A request that succeeds with the right key (called once per case: make fresh targets). */
  makeRequest: () => Promise<CallOptions>;
  /**
   * GET /api/orders/{id} also serves buyers: a credential that is not meant as an API key (no
   * `bf_` value) takes the buyer path, whose refusal is its own uniform 404.
   */
  buyerFallback?: boolean;
}

let sandbox: StripeSandbox;

async function webhookEventId(): Promise<string> {
  const event = await insertWebhookEventIfNew(db, {
    provider: 'stripe',
    providerEventId: `evt_auth_${randomUUID().replaceAll('-', '')}`,
    // A type nobody handles: replaying it is harmless.
    eventType: 'customer.created',
    payload: { id: 'evt_auth', type: 'customer.created', data: { object: {} } },
  });
  if (!event) throw new Error('webhook event not inserted');
  return event.id;
}

let knownOrderId: string;

/** An outbox message of the known order (staff resend targets). */
async function outboxMessageId(): Promise<string> {
  const message = await insertOutboxMessageIfNew(db, {
    orderId: knownOrderId,
    kind: 'order_confirmation',
    cause: `auth-suite:${randomUUID()}`,
  });
  if (!message) throw new Error('outbox message not inserted');
  return message.id;
}

/** A fresh valid ticket code (each admission consumes one). */
async function freshTicketCode(): Promise<string> {
  const order = await paidStripeOrder(sandbox, { priceCents: 1_000, quantity: 1 });
  await transaction((tx) => issueTicketCodesInTx(tx, order.orderId));
  const [code] = (await ticketCodesForOrder(db, order.orderId)).values();
  if (!code) throw new Error('no ticket code issued');
  return code;
}

async function knownEventSlug(): Promise<string> {
  const row = await db.queryOne<{ slug: string }>(
    'SELECT e.slug FROM orders o JOIN events e ON e.id = o.event_id WHERE o.id = $1',
    [knownOrderId],
  );
  return row?.slug ?? '';
}

async function someOrderId(): Promise<string> {
  return knownOrderId;
}

const ADMIN_ROUTES: AdminRoute[] = [
  {
    name: 'GET /api/admin/metrics',
    handler: metricsRoute.GET,
    method: 'GET',
    scope: 'ops:read',
    makeRequest: async () => ({ path: '/api/admin/metrics' }),
  },
  {
    name: 'GET /api/admin/api-keys',
    handler: keysRoute.GET,
    method: 'GET',
    scope: 'keys:admin',
    makeRequest: async () => ({ path: '/api/admin/api-keys' }),
  },
  {
    name: 'POST /api/admin/api-keys',
    handler: keysRoute.POST,
    method: 'POST',
    scope: 'keys:admin',
    // Only scopes the calling key holds can be granted: keys:admin is the one every key here has.
    makeRequest: async () => ({ path: '/api/admin/api-keys', body: { name: 'Auth suite', scopes: ['keys:admin'] } }),
  },
  {
    name: 'GET /api/admin/api-keys/{id}',
    handler: keyRoute.GET,
    method: 'GET',
    scope: 'keys:admin',
    makeRequest: async () => {
      const target = await makeKey(['orders:read']);
      return { path: `/api/admin/api-keys/${target.id}`, query: { id: target.id } };
    },
  },
  {
    name: 'DELETE /api/admin/api-keys/{id}',
    handler: keyRoute.DELETE,
    method: 'DELETE',
    scope: 'keys:admin',
    makeRequest: async () => {
      const target = await makeKey(['orders:read']);
      return { path: `/api/admin/api-keys/${target.id}`, query: { id: target.id } };
    },
  },
  {
    name: 'GET /api/audit',
    handler: auditRoute.GET,
    method: 'GET',
    scope: 'orders:read',
    makeRequest: async () => ({ path: '/api/audit', query: { entity: 'order', id: await someOrderId() } }),
  },
  {
    name: 'GET /api/orders',
    handler: ordersRoute.GET,
    method: 'GET',
    scope: 'orders:read',
    makeRequest: async () => ({ path: '/api/orders', query: { status: 'completed', limit: '5' } }),
  },
  {
    name: 'GET /api/orders/{id} (staff view)',
    handler: orderRoute.GET,
    method: 'GET',
    scope: 'orders:read',
    buyerFallback: true,
    makeRequest: async () => {
      const id = await someOrderId();
      return { path: `/api/orders/${id}`, query: { id } };
    },
  },
  {
    name: 'GET /api/payments/transactions',
    handler: transactionsRoute.GET,
    method: 'GET',
    scope: 'payments:read',
    makeRequest: async () => ({ path: '/api/payments/transactions', query: { limit: '5' } }),
  },
  {
    name: 'GET /api/payments/transactions?format=csv',
    handler: transactionsRoute.GET,
    method: 'GET',
    scope: 'payments:read',
    makeRequest: async () => ({ path: '/api/payments/transactions', query: { format: 'csv', from: new Date().toISOString() } }),
  },
  {
    name: 'GET /api/reconciliation',
    handler: reconciliationRoute.GET,
    method: 'GET',
    scope: 'finance:read',
    makeRequest: async () => {
      // A stored report: an (empty) day reconciled against this file's Stripe sandbox.
      const day = isolatedDay();
      await reconcileDay({ provider: 'stripe', day });
      return { path: '/api/reconciliation', query: { date: day } };
    },
  },
  {
    name: 'POST /api/payments/refund',
    handler: refundRoute.POST,
    method: 'POST',
    scope: 'refunds:write',
    makeRequest: async () => {
      const order = await paidStripeOrder(sandbox, { priceCents: 1_500, quantity: 1 });
      return {
        path: '/api/payments/refund',
        headers: { 'idempotency-key': randomUUID() },
        body: { orderId: order.orderId, amountCents: 500, reason: 'Auth suite: refund with the right scope' },
      };
    },
  },
  {
    name: 'GET /api/admin/webhook-events',
    handler: webhookEventsRoute.GET,
    method: 'GET',
    scope: 'webhooks:admin',
    makeRequest: async () => ({ path: '/api/admin/webhook-events', query: { limit: '5' } }),
  },
  {
    name: 'GET /api/admin/webhook-events/{id}',
    handler: webhookEventRoute.GET,
    method: 'GET',
    scope: 'webhooks:admin',
    makeRequest: async () => {
      const id = await webhookEventId();
      return { path: `/api/admin/webhook-events/${id}`, query: { id } };
    },
  },
  {
    name: 'POST /api/admin/webhook-events/{id}/replay',
    handler: webhookReplayRoute.POST,
    method: 'POST',
    scope: 'webhooks:admin',
    makeRequest: async () => {
      const id = await webhookEventId();
      return { path: `/api/admin/webhook-events/${id}/replay`, query: { id } };
    },
  },
  {
    name: 'GET /api/admin/messages',
    handler: messagesRoute.GET,
    method: 'GET',
    scope: 'messages:admin',
    makeRequest: async () => ({ path: '/api/admin/messages', query: { limit: '5' } }),
  },
  {
    name: 'POST /api/admin/messages/{id}/resend',
    handler: messageResendRoute.POST,
    method: 'POST',
    scope: 'messages:admin',
    makeRequest: async () => {
      const id = await outboxMessageId();
      return { path: `/api/admin/messages/${id}/resend`, query: { id } };
    },
  },
  {
    name: 'POST /api/checkin',
    handler: checkinRoute.POST,
    method: 'POST',
    scope: 'checkin:write',
    makeRequest: async () => ({ path: '/api/checkin', body: { code: await freshTicketCode(), door: 'Auth suite' } }),
  },
  {
    name: 'GET /api/checkin/stats',
    handler: checkinStatsRoute.GET,
    method: 'GET',
    scope: 'checkin:write',
    makeRequest: async () => ({ path: '/api/checkin/stats', query: { event: await knownEventSlug() } }),
  },
];

let expired: TestKey;
let revoked: TestKey;

beforeAll(async () => {
  sandbox = await startStripeSandboxForApp();
  knownOrderId = (await paidStripeOrder(sandbox, { priceCents: 1_000, quantity: 1 })).orderId;
  expired = await makeExpiredKey(API_KEY_SCOPES);
  revoked = await makeRevokedKey(API_KEY_SCOPES);
});

afterAll(async () => {
  await sandbox.close();
});

function send(route: AdminRoute, request: CallOptions, authorization: string | undefined) {
  const headers: Record<string, string> = { ...request.headers };
  if (authorization !== undefined) headers.authorization = authorization;
  return call(route.handler, { ...request, method: route.method, headers });
}

const unknownKey = () => generateApiKey('live').key;

/** Every way to present a key that must not get in; all with every scope where a key exists. */
const REFUSED: { name: string; authorization: () => string | undefined }[] = [
  { name: 'no key', authorization: () => undefined },
  { name: 'empty bearer', authorization: () => 'Bearer ' },
  { name: 'malformed key', authorization: () => 'Bearer bf_live_not-a-real-key' },
  { name: 'other scheme', authorization: () => 'Basic YWRtaW46YWRtaW4=' },
  { name: 'oversized key', authorization: () => `Bearer bf_live_${'A'.repeat(5_000)}` },
  { name: 'unknown key', authorization: () => `Bearer ${unknownKey()}` },
  { name: 'expired key', authorization: () => `Bearer ${expired.key}` },
  { name: 'revoked key', authorization: () => `Bearer ${revoked.key}` },
];

describe('shared auth suite: every admin route', () => {
  const first401: { body?: unknown; wwwAuthenticate?: string | null } = {};

  for (const route of ADMIN_ROUTES) {
    describe(route.name, () => {
      it('answers 401 identically for no / malformed / unknown / expired / revoked keys', async () => {
        const request = await route.makeRequest();
        for (const refused of REFUSED) {
          const authorization = refused.authorization();
          const res = await send(route, request, authorization);
          if (route.buyerFallback && !authorization?.replace(/^Bearer\s*/, '').startsWith('bf_')) {
            expect(res.status, refused.name).toBe(404);
            expect(res.body.error.code).toBe('NOT_FOUND');
            continue;
          }
          expect(res.status, refused.name).toBe(401);
          expect(res.body.error.requestId).toEqual(res.headers.get('x-request-id'));
          const body = withoutRequestId(res.body);
          first401.body ??= body;
          first401.wwwAuthenticate ??= res.headers.get('www-authenticate');
          expect(body, refused.name).toEqual(first401.body);
          expect(res.headers.get('www-authenticate'), refused.name).toBe(first401.wwwAuthenticate);
          // Nothing about limits or keys leaks on a refusal.
          expect(res.headers.get('ratelimit-limit'), refused.name).toBeNull();
        }
        expect(first401.body).toEqual({ error: { code: 'UNAUTHORIZED', message: 'A valid API key is required' } });
      });

      it(`answers 403 to a valid key without ${route.scope}`, async () => {
        const key = await makeKey(API_KEY_SCOPES.filter((scope) => scope !== route.scope));
        const res = await send(route, await route.makeRequest(), key.header.authorization);
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe('FORBIDDEN');
      });

      it(`answers 2xx to a valid key with only ${route.scope}`, async () => {
        const key = await makeKey([route.scope]);
        const res = await send(route, await route.makeRequest(), key.header.authorization);
        expect(res.status, res.text.slice(0, 300)).toBeGreaterThanOrEqual(200);
        expect(res.status).toBeLessThan(300);
        // Limited per key: the headers are on every authenticated answer.
        expect(res.headers.get('ratelimit-limit')).toBe('100000');
      });
    });
  }
});
