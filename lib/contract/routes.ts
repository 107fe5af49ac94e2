import { z } from 'zod';
import { ApiKeyParams, CreateApiKeyBody } from '../auth/api-key-requests.js';
import { checkoutSessionRequestSchema, payPalCaptureRequestSchema, ticketCatalogQuerySchema } from '../checkout/schemas.js';
import type { ApiKeyScope } from '../db/models/api-keys.js';
import { ReportQuery } from '../analytics/report-params.js';
import { AuditQuery } from '../db/queries/audit-query.js';
import { CustomerOrdersQuery } from '../db/queries/customer-orders.js';
import { OrderSearchQuery } from '../db/queries/order-search.js';
import { TransactionQuery } from '../db/queries/transactions.js';
import type { ErrorCode } from '../errors.js';
import { CHECKOUT_LIMIT, CONFIRMATION_RESEND_LIMIT, ORDER_LOOKUP_LIMIT } from '../http/rate-limit.js';
import { TurnstileHeaders } from '../http/turnstile.js';
import { MessageListQuery } from '../messages/list-messages.js';
import { ResendConfirmationBody } from '../messages/request-confirmation-resend.js';
import { ReconciliationQuery } from '../reconciliation/schemas.js';
import { RefundBody } from '../refunds/refund-request.js';
import { CheckInBody } from '../tickets/check-in-ticket.js';
import { CheckInStatsQuery } from '../tickets/get-checkin-stats.js';
import { ListQuery as WebhookEventListQuery } from '../webhooks/admin.js';
import * as R from './responses.js';

/**
 * Every api/ route as data: method, who may call it, the zod schemas it validates its input with
 * (imported from where the route reads them) and the zod schemas of its answers (./responses.ts).
 * lib/contract/openapi.ts turns this table into the OpenAPI 3.1 document; a test checks that every
 * file in api/ has its entry here.
 */

export type Security =
  | { kind: 'public' }
  | { kind: 'buyerToken' }
  | { kind: 'apiKey'; scopes: ApiKeyScope[] }
  | { kind: 'buyerTokenOrApiKey'; scopes: ApiKeyScope[] }
  | { kind: 'cronSecret' }
  | { kind: 'stripeSignature' }
  | { kind: 'paypalSignature' };

export interface ResponseSpec {
  description: string;
  /** JSON body (omitted: no body). */
  schema?: z.ZodType;
  /** Another media type than application/json (the schema then describes that text). */
  contentType?: string;
  /** A second media type for the same status (the CSV export). */
  alternative?: { contentType: string; schema: z.ZodType };
}

export interface OperationSpec {
  method: 'get' | 'post' | 'delete';
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  security: Security;
  /** Query-string schema (an object). */
  query?: z.ZodObject;
  /** Request header schema (an object keyed by header name, lower case). */
  headers?: z.ZodObject;
  /** Path parameter schema (an object: `{ id }`). */
  params?: z.ZodObject;
  body?: z.ZodType;
  /** Example request body for the reference page's cURL sample. */
  example?: unknown;
  idempotencyKey?: 'optional' | 'required';
  /** Which rate limit answers RateLimit-* headers (the per-key limit of every API-key route is implied). */
  rateLimit?: string;
  responses: Record<number, ResponseSpec>;
  /** The error codes this operation can answer with (their statuses come from lib/http/error-status.ts). */
  errors: ErrorCode[];
}

export interface RouteSpec {
  /** The api/ file, relative to the repository root. */
  file: string;
  /** The URL path, `{id}` for a `[id]` segment. */
  path: string;
  /** `buyer`: cross-origin calls from ALLOWED_ORIGINS (CORS preflight answered). */
  cors: 'buyer' | 'none';
  operations: OperationSpec[];
}

/** Codes any route can answer with. */
export const COMMON_ERRORS: ErrorCode[] = ['METHOD_NOT_ALLOWED', 'INTERNAL_ERROR', 'DATABASE_UNAVAILABLE', 'SERVICE_UNAVAILABLE'];
const JSON_BODY: ErrorCode[] = ['UNSUPPORTED_MEDIA_TYPE', 'INVALID_JSON', 'VALIDATION_ERROR', 'PAYLOAD_TOO_LARGE'];
const API_KEY: ErrorCode[] = ['UNAUTHORIZED', 'FORBIDDEN', 'RATE_LIMITED'];
const BUYER_CORS: ErrorCode[] = ['ORIGIN_NOT_ALLOWED'];

const perMinute = (rule: { limit: number; windowSeconds: number }) => `${rule.limit} per ${rule.windowSeconds} s`;

/** One api/ file: its URL path, whether buyers call it cross-origin, and its operations (usually one). */
function route(file: string, path: string, cors: RouteSpec['cors'], operations: OperationSpec | OperationSpec[]): RouteSpec {
  return { file, path, cors, operations: Array.isArray(operations) ? operations : [operations] };
}

/** A staff route: an API key holding these scopes (none: any valid key). */
const apiKey = (...scopes: ApiKeyScope[]): Security => ({ kind: 'apiKey', scopes });

/** A Vercel Cron route (api/cron/<name>.ts): GET with the cron secret, 200 with what it `done`, else 401. */
function cron(
  name: string,
  operation: Pick<OperationSpec, 'operationId' | 'summary' | 'description'> & { done: ResponseSpec },
): RouteSpec {
  const { done, ...described } = operation;
  return route(`api/cron/${name}.ts`, `/api/cron/${name}`, 'none', {
    method: 'get',
    ...described,
    tag: 'Cron',
    security: { kind: 'cronSecret' },
    responses: { 200: done },
    errors: ['UNAUTHORIZED'],
  });
}

export const ROUTES: RouteSpec[] = [
  route('api/health.ts', '/api/health', 'none', {
    method: 'get',
    operationId: 'getHealth',
    summary: 'Database and migration state',
    description:
      '`healthy`; `degraded` (still 200) with the pending, edited or missing migrations named; 503 `unhealthy` when the database is unreachable. Also served at `/healthz`.',
    tag: 'Status',
    security: { kind: 'public' },
    responses: {
      200: { description: 'Healthy or degraded', schema: R.healthResponseSchema },
      503: { description: 'Unhealthy: the database is unreachable', schema: R.healthResponseSchema },
    },
    errors: [],
  }),
  route('api/openapi.ts', '/api/openapi.json', 'none', {
    method: 'get',
    operationId: 'getOpenApiDocument',
    summary: 'This OpenAPI 3.1 document',
    description: 'Generated from the zod schemas the routes validate with. The reference page is at `/docs`.',
    tag: 'Status',
    security: { kind: 'public' },
    responses: { 200: { description: 'The OpenAPI 3.1 document (JSON)' } },
    errors: [],
  }),
  route('api/tickets.ts', '/api/tickets', 'buyer', {
    method: 'get',
    operationId: 'getTicketCatalog',
    summary: 'The ticket catalog of an event',
    description: 'Prices in minor units, availability, sale window and sliding scale. Cached at the edge for 10 s.',
    tag: 'Buyer',
    security: { kind: 'public' },
    query: ticketCatalogQuerySchema,
    responses: { 200: { description: 'The catalog', schema: R.ticketCatalogResponseSchema } },
    errors: [...BUYER_CORS, 'VALIDATION_ERROR', 'NOT_FOUND'],
  }),
  route('api/payments/checkout-session.ts', '/api/payments/checkout-session', 'buyer', {
    method: 'post',
    operationId: 'createCheckoutSession',
    summary: 'Hold tickets and start a Stripe or PayPal checkout',
    description:
      'Holds the tickets, creates the order and the Stripe Checkout Session or PayPal order. Prices come from the server only: unknown fields (a price, a total) are refused. `slidingScalePercent` (0–75) applies to ticket types that allow it. Sales end with the event (422 SALES_CLOSED).\n\n**Abuse limits:** the tickets one client address (IPv6 per /64) and one buyer email may hold at once in pending orders are capped (HOLD_CAP_PER_CLIENT, HOLD_CAP_PER_EMAIL): over a cap → 429 HOLD_LIMIT_REACHED. While the on-sale challenge is on (TURNSTILE_SECRET_KEY), the `cf-turnstile-response` header is required: missing or refused → 403 CHALLENGE_FAILED.',
    tag: 'Buyer',
    security: { kind: 'public' },
    headers: TurnstileHeaders,
    body: checkoutSessionRequestSchema,
    example: {
      event: 'boulder-fest-2026',
      provider: 'stripe',
      slidingScalePercent: 20,
      items: [{ ticketType: 'full_festival', quantity: 2 }],
      customer: { email: 'ana@example.com', firstName: 'Ana', lastName: 'Diaz' },
    },
    idempotencyKey: 'optional',
    rateLimit: `${perMinute(CHECKOUT_LIMIT)} per client IP and per buyer email`,
    responses: {
      201: { description: 'Order created; send the buyer to `checkoutUrl`', schema: R.checkoutSessionResponseSchema },
    },
    errors: [
      ...BUYER_CORS,
      ...JSON_BODY,
      'BAD_REQUEST',
      'RATE_LIMITED',
      'NOT_FOUND',
      'SOLD_OUT',
      'SALES_CLOSED',
      'TICKET_TYPE_INACTIVE',
      'MAX_PER_ORDER_EXCEEDED',
      'HOLD_LIMIT_REACHED',
      'CHALLENGE_FAILED',
      'IDEMPOTENCY_IN_PROGRESS',
      'IDEMPOTENCY_KEY_REUSED',
      'CONFLICT',
      'PROVIDER_UNAVAILABLE',
    ],
  }),
  route('api/payments/paypal-capture.ts', '/api/payments/paypal-capture', 'buyer', {
    method: 'post',
    operationId: 'capturePayPalOrder',
    summary: 'Capture the approved PayPal order (the PayPal return)',
    tag: 'Buyer',
    security: { kind: 'buyerToken' },
    body: payPalCaptureRequestSchema,
    example: { orderId: '7f1c2b9e-0c1d-4a51-9a49-0d4b8f0e2a11' },
    responses: {
      200: { description: 'Captured (or already captured): the order', schema: R.buyerOrderResponseSchema },
      202: { description: 'Accepted; the capture is still pending at PayPal', schema: R.buyerOrderResponseSchema },
    },
    errors: [
      ...BUYER_CORS,
      ...JSON_BODY,
      'NOT_FOUND',
      'PAYMENT_DECLINED',
      'CONFLICT',
      'INVALID_STATE_TRANSITION',
      'UNPROCESSABLE',
      'PROVIDER_UNAVAILABLE',
    ],
  }),
  route('api/orders/[id].ts', '/api/orders/{id}', 'buyer', {
    method: 'get',
    operationId: 'getOrder',
    summary: 'One order: the buyer view (access token) or the staff view (API key, orders:read)',
    description:
      "With the access token from checkout: the buyer view (`BuyerOrder`). A missing, wrong or other order's token gives the same 404 as a missing order. With an API key (`bf_live_…`) holding `orders:read`: the staff view (`AdminOrder`) with customer, payments, failures, refunds and audit.",
    tag: 'Buyer',
    security: { kind: 'buyerTokenOrApiKey', scopes: ['orders:read'] },
    params: ApiKeyParams,
    rateLimit: `${perMinute(ORDER_LOOKUP_LIMIT)} per client IP (buyer lookups)`,
    responses: {
      200: {
        description: 'The order: `BuyerOrder` with an access token, `AdminOrder` with an API key',
        schema: z.union([R.buyerOrderResponseSchema, R.adminOrderResponseSchema]),
      },
    },
    errors: [...BUYER_CORS, ...API_KEY, 'NOT_FOUND'],
  }),
  route('api/orders/[id]/cancel.ts', '/api/orders/{id}/cancel', 'buyer', {
    method: 'post',
    operationId: 'cancelOrder',
    summary: 'The buyer cancels an unpaid order (the provider\'s "cancel and go back" link)',
    description:
      "With the access token from checkout. A `pending` order becomes `cancelled`: its tickets go back on sale and the Stripe Checkout Session is expired. Idempotent: an order already cancelled (or otherwise ended unpaid) answers 200 with its view, unchanged. A missing, wrong or other order's token gives the same 404 as a missing order. Paid, or a payment in flight → 409 ORDER_NOT_CANCELLABLE, nothing changes.",
    tag: 'Buyer',
    security: { kind: 'buyerToken' },
    params: ApiKeyParams,
    rateLimit: `${perMinute(ORDER_LOOKUP_LIMIT)} per client IP (with the order lookups)`,
    responses: {
      200: {
        description: 'The order, cancelled (or as it already was, when it had ended unpaid)',
        schema: R.buyerOrderResponseSchema,
      },
    },
    errors: [...BUYER_CORS, 'RATE_LIMITED', 'NOT_FOUND', 'ORDER_NOT_CANCELLABLE'],
  }),
  route('api/orders/index.ts', '/api/orders', 'none', {
    method: 'get',
    operationId: 'searchOrders',
    summary: 'Search orders by order number prefix, email, attendee name, status',
    tag: 'Orders',
    security: apiKey('orders:read'),
    query: OrderSearchQuery,
    responses: { 200: { description: 'A page of orders, newest first', schema: R.orderSearchResponseSchema } },
    errors: [...API_KEY, 'VALIDATION_ERROR'],
  }),
  route('api/audit.ts', '/api/audit', 'none', {
    method: 'get',
    operationId: 'getAuditTimeline',
    summary: 'The append-only audit timeline of one entity',
    description:
      "Oldest first; an order's includes its payments and refunds. The scope follows the entity: order/customer `orders:read`, payment/refund/ticket_type `payments:read`, webhook_event `webhooks:admin`, api_key `keys:admin`.",
    tag: 'Orders',
    security: apiKey(),
    query: AuditQuery,
    responses: { 200: { description: 'The timeline', schema: R.auditResponseSchema } },
    errors: [...API_KEY, 'VALIDATION_ERROR'],
  }),
  route('api/payments/refund.ts', '/api/payments/refund', 'none', {
    method: 'post',
    operationId: 'refundPayment',
    summary: 'Refund an order (partial or full)',
    description:
      'Never above what was captured minus refunds already made or pending. `reason` is at least 10 characters. Without `amountCents`, the whole refundable amount. `releaseTickets` returns the tickets to sale.',
    tag: 'Payments',
    security: apiKey('refunds:write'),
    body: RefundBody,
    example: {
      orderId: '7f1c2b9e-0c1d-4a51-9a49-0d4b8f0e2a11',
      amountCents: 5000,
      reason: 'Buyer cannot attend (illness)',
      releaseTickets: true,
    },
    idempotencyKey: 'required',
    responses: {
      201: { description: 'Refund succeeded at the provider', schema: R.refundResponseSchema },
      202: {
        description:
          'Refund pending: accepted at the provider (settled by webhook), or unconfirmed (no answer in time; the check-refunds cron settles it)',
        schema: R.refundResponseSchema,
      },
    },
    errors: [
      ...API_KEY,
      ...JSON_BODY,
      'BAD_REQUEST',
      'IDEMPOTENCY_KEY_REQUIRED',
      'IDEMPOTENCY_IN_PROGRESS',
      'IDEMPOTENCY_KEY_REUSED',
      'NOT_FOUND',
      'ORDER_NOT_PAID',
      'REFUND_EXCEEDS_REFUNDABLE',
      'CONFLICT',
      'INVALID_STATE_TRANSITION',
      'UNPROCESSABLE',
      'PROVIDER_UNAVAILABLE',
    ],
  }),
  route('api/payments/transactions.ts', '/api/payments/transactions', 'none', {
    method: 'get',
    operationId: 'listTransactions',
    summary: 'Payment history with filters, cursor pagination and CSV export',
    description:
      'Newest first. `status` takes one value or a comma-separated list. `format=csv` streams the whole filtered history.',
    tag: 'Payments',
    security: apiKey('payments:read'),
    query: TransactionQuery,
    responses: {
      200: {
        description: 'A page of transactions (or the CSV export)',
        schema: R.transactionPageResponseSchema,
        alternative: { contentType: 'text/csv', schema: R.transactionsCsvSchema },
      },
    },
    errors: [...API_KEY, 'VALIDATION_ERROR'],
  }),
  route('api/admin/whoami.ts', '/api/admin/whoami', 'none', {
    method: 'get',
    operationId: 'whoami',
    summary: 'The signed-in API key: name, prefix, scopes, expiry',
    description:
      'Any valid key, no scope needed: the staff dashboard asks it once at sign-in to offer only what the key may do. Never the secret or its hash.',
    tag: 'Admin',
    security: apiKey(),
    responses: { 200: { description: 'The key asking', schema: R.whoamiResponseSchema } },
    errors: ['UNAUTHORIZED', 'RATE_LIMITED'],
  }),
  route('api/reconciliation.ts', '/api/reconciliation', 'none', {
    method: 'get',
    operationId: 'getReconciliation',
    summary: "A day's reconciliation with Stripe and PayPal",
    description:
      "The stored report of one UTC day (the daily cron, or `npm run reconcile`): per provider, the provider's gross, refunds, fees and net against our books, counts per class (matched, amount_differs, fee_differs, provider_only, books_only, account_fee), the payouts with whether every transaction in them matched (a Stripe payout lists its transactions; a PayPal withdrawal does not, says so, and is compared with the day's net), every mismatch with a plain-words explanation and the order it concerns, and the account fees (no order: book them by hand). `format=csv`: every line (PayPal withdrawals included, kind payout). 404 when the day has not been reconciled.",
    tag: 'Payments',
    security: apiKey('finance:read'),
    query: ReconciliationQuery,
    responses: {
      200: {
        description: 'The report (or the CSV of every line)',
        schema: R.reconciliationReportResponseSchema,
        alternative: { contentType: 'text/csv', schema: R.reconciliationCsvSchema },
      },
    },
    errors: [...API_KEY, 'VALIDATION_ERROR', 'NOT_FOUND'],
  }),
  route('api/admin/api-keys.ts', '/api/admin/api-keys', 'none', [
    {
      method: 'get',
      operationId: 'listApiKeys',
      summary: 'List the staff API keys',
      tag: 'Admin',
      security: apiKey('keys:admin'),
      responses: { 200: { description: 'Every key (never its secret)', schema: R.apiKeyListResponseSchema } },
      errors: [...API_KEY],
    },
    {
      method: 'post',
      operationId: 'createApiKey',
      summary: 'Create a staff API key (shown once)',
      tag: 'Admin',
      security: apiKey('keys:admin'),
      body: CreateApiKeyBody,
      example: { name: 'Box office', scopes: ['orders:read', 'refunds:write'], expires: '30d' },
      responses: { 201: { description: 'Created; `key` is shown only now', schema: R.apiKeyCreatedResponseSchema } },
      errors: [...API_KEY, ...JSON_BODY],
    },
  ]),
  route('api/admin/api-keys/[id].ts', '/api/admin/api-keys/{id}', 'none', [
    {
      method: 'get',
      operationId: 'getApiKey',
      summary: 'One staff API key',
      tag: 'Admin',
      security: apiKey('keys:admin'),
      params: ApiKeyParams,
      responses: { 200: { description: 'The key', schema: R.apiKeyResponseSchema } },
      errors: [...API_KEY, 'VALIDATION_ERROR', 'NOT_FOUND'],
    },
    {
      method: 'delete',
      operationId: 'revokeApiKey',
      summary: 'Revoke a staff API key (at once, for good)',
      tag: 'Admin',
      security: apiKey('keys:admin'),
      params: ApiKeyParams,
      responses: { 200: { description: 'The revoked key', schema: R.apiKeyResponseSchema } },
      errors: [...API_KEY, 'VALIDATION_ERROR', 'NOT_FOUND'],
    },
  ]),
  route('api/admin/webhook-events.ts', '/api/admin/webhook-events', 'none', {
    method: 'get',
    operationId: 'listWebhookEvents',
    summary: 'The webhook inbox (filter by status, e.g. `dead`, `failed`)',
    tag: 'Admin',
    security: apiKey('webhooks:admin'),
    query: WebhookEventListQuery,
    responses: { 200: { description: 'A page of inbox events, newest first', schema: R.webhookEventListResponseSchema } },
    errors: [...API_KEY, 'VALIDATION_ERROR'],
  }),
  route('api/admin/webhook-events/[id].ts', '/api/admin/webhook-events/{id}', 'none', {
    method: 'get',
    operationId: 'getWebhookEvent',
    summary: 'One inbox event with its payload',
    tag: 'Admin',
    security: apiKey('webhooks:admin'),
    params: ApiKeyParams,
    responses: { 200: { description: 'The event', schema: R.webhookEventResponseSchema } },
    errors: [...API_KEY, 'NOT_FOUND'],
  }),
  route('api/admin/webhook-events/[id]/replay.ts', '/api/admin/webhook-events/{id}/replay', 'none', {
    method: 'post',
    operationId: 'replayWebhookEvent',
    summary: 'Apply an inbox event again now (dead and failed ones included)',
    description: 'Handlers are idempotent: replaying a processed event changes nothing.',
    tag: 'Admin',
    security: apiKey('webhooks:admin'),
    params: ApiKeyParams,
    responses: { 200: { description: 'The outcome and the event after it', schema: R.webhookReplayResponseSchema } },
    errors: [...API_KEY, 'NOT_FOUND'],
  }),
  route('api/admin/metrics.ts', '/api/admin/metrics', 'none', {
    method: 'get',
    operationId: 'getOperationalMetrics',
    summary: "The operator's figures: payments, webhook inbox, holds, database",
    description:
      'Success rate (last hour, last 100 outcomes), failures per hour and top decline codes (24 h); inbox depth by status with the oldest unprocessed event; live holds and expired holds not yet released; connections by state; the slowest statements when `pg_stat_statements` is installed (else says so); index usage and table sizes.',
    tag: 'Admin',
    security: apiKey('ops:read'),
    responses: { 200: { description: 'The figures, as of now', schema: R.operationalMetricsResponseSchema } },
    errors: [...API_KEY],
  }),
  route('api/webhooks/stripe.ts', '/api/webhooks/stripe', 'none', {
    method: 'post',
    operationId: 'receiveStripeWebhook',
    summary: 'Stripe event deliveries (called by Stripe, not by you)',
    description:
      'Signed with `Stripe-Signature` (STRIPE_WEBHOOK_SECRET; a comma-separated list while rolling it). 400 for a bad signature (nothing stored); 200 once the event is stored, duplicates included; 5xx when it could not be stored (Stripe retries).',
    tag: 'Provider webhooks',
    security: { kind: 'stripeSignature' },
    responses: { 200: { description: 'Stored (or a duplicate)', schema: R.webhookReceiptResponseSchema } },
    errors: ['WEBHOOK_SIGNATURE_INVALID', 'VALIDATION_ERROR', 'PAYLOAD_TOO_LARGE', 'BAD_REQUEST'],
  }),
  route('api/webhooks/paypal.ts', '/api/webhooks/paypal', 'none', {
    method: 'post',
    operationId: 'receivePayPalWebhook',
    summary: 'PayPal event deliveries (called by PayPal, not by you)',
    description:
      'Verified from the PAYPAL-TRANSMISSION-* headers against PAYPAL_WEBHOOK_ID. 400 for a bad signature (nothing stored); 200 once stored, duplicates included; 5xx when it could not be stored.',
    tag: 'Provider webhooks',
    security: { kind: 'paypalSignature' },
    responses: { 200: { description: 'Stored (or a duplicate)', schema: R.webhookReceiptResponseSchema } },
    errors: ['WEBHOOK_SIGNATURE_INVALID', 'VALIDATION_ERROR', 'PAYLOAD_TOO_LARGE', 'BAD_REQUEST', 'PROVIDER_UNAVAILABLE'],
  }),
  cron('expire-holds', {
    operationId: 'cronExpireHolds',
    summary: 'Vercel Cron: end expired holds (every 5 minutes)',
    done: { description: 'What was done', schema: R.expireHoldsResponseSchema },
  }),
  cron('sweep-stale-payments', {
    operationId: 'cronSweepStalePayments',
    summary: 'Vercel Cron: finish checkouts whose webhooks never came (every 5 minutes)',
    description:
      'Asks Stripe (the Checkout Session with its payment intent) or PayPal (the order and its captures) about checkouts still unsettled SWEEPER_STALE_AFTER_MINUTES after they started, and applies the answer: paid → completed (or the late-payment rule), approved → captured and completed, expired → expired, open → left alone. At most SWEEPER_BATCH_LIMIT per run, provider calls within SWEEPER_TIME_BUDGET_MS.',
    done: { description: 'What each checkout asked about became', schema: R.sweepResponseSchema },
  }),
  cron('reconcile', {
    operationId: 'cronReconcile',
    summary: 'Vercel Cron: reconcile yesterday (UTC) with each configured provider (every 10 minutes, 01:00–03:50)',
    description:
      'Works within a time budget under the 60 s limit; a day that does not fit continues from its stored cursor on the next call; a completed day is left alone.',
    done: {
      description: 'Per provider: ran (completed or incomplete), not configured, or failed',
      schema: R.reconcileCronResponseSchema,
    },
  }),
  cron('evaluate-alerts', {
    operationId: 'cronEvaluateAlerts',
    summary: 'Vercel Cron: raise and clear operator alerts (every 5 minutes)',
    description:
      'More than ALERT_FAILED_PAYMENTS_PER_HOUR failures in an hour; success under ALERT_MIN_SUCCESS_RATE_PERCENT over the last 100 outcomes; a dead webhook; an unprocessed webhook older than ALERT_INBOX_BACKLOG_MINUTES. Each alert is notified once when it starts and once when it clears (ALERT_WEBHOOK_URL and the log).',
    done: { description: 'What changed', schema: R.evaluateAlertsResponseSchema },
  }),
  cron('check-refunds', {
    operationId: 'cronCheckRefunds',
    summary: 'Vercel Cron: settle refunds whose provider answer was lost (every 5 minutes)',
    description:
      'Refunds left pending and unconfirmed (the provider did not answer within the function limit) are asked again with the same idempotency key and settled through the one settle function, so the amount is counted once.',
    done: { description: 'What was done', schema: R.checkRefundsResponseSchema },
  }),
  cron('retry-webhooks', {
    operationId: 'cronRetryWebhooks',
    summary: 'Vercel Cron: retry failed and unapplied webhook events (every 5 minutes)',
    done: { description: 'What was done', schema: R.retryWebhooksResponseSchema },
  }),
  route('api/orders/resend-confirmation.ts', '/api/orders/resend-confirmation', 'buyer', {
    method: 'post',
    operationId: 'resendOrderConfirmation',
    summary: 'Send the confirmation email again (buyer lost it)',
    description:
      'Always the same 202, whether or not the email and order number match a paid order (no enumeration); when they do, the confirmation goes again to the order’s address (at most once per 10 minutes).',
    tag: 'Buyer',
    security: { kind: 'public' },
    body: ResendConfirmationBody,
    example: { email: 'ana@example.com', orderNumber: 'ALB-20260315-0042' },
    rateLimit: `${perMinute(CONFIRMATION_RESEND_LIMIT)} per client IP and per email`,
    responses: { 202: { description: 'Accepted (says nothing about a match)', schema: R.resendConfirmationResponseSchema } },
    errors: [...BUYER_CORS, ...JSON_BODY, 'RATE_LIMITED'],
  }),
  route('api/checkin.ts', '/api/checkin', 'none', {
    method: 'post',
    operationId: 'checkInTicket',
    summary: 'Admit a ticket at the door (its QR code)',
    description:
      'Each ticket admits once: 200 the first time; 409 ALREADY_CHECKED_IN with `details.checkedInAt` and `details.door` on any later scan; 422 TICKET_NOT_VALID (`details.reason`: refunded, released, cancelled, unpaid); 404 for an unknown code. One audit entry per admission.',
    tag: 'Door',
    security: apiKey('checkin:write'),
    body: CheckInBody,
    example: { code: 'Qm9vdGNhbXAtdGlja2V0LWNvZGUtZXhhbXBsZS0xMjM0', door: 'North' },
    responses: { 200: { description: 'Admitted', schema: R.checkInResponseSchema } },
    errors: [...API_KEY, ...JSON_BODY, 'NOT_FOUND', 'ALREADY_CHECKED_IN', 'TICKET_NOT_VALID'],
  }),
  route('api/checkin/stats.ts', '/api/checkin/stats', 'none', {
    method: 'get',
    operationId: 'getCheckInStats',
    summary: 'Admitted / sold per ticket type of an event',
    tag: 'Door',
    security: apiKey('checkin:write'),
    query: CheckInStatsQuery,
    responses: { 200: { description: 'The figures', schema: R.checkInStatsResponseSchema } },
    errors: [...API_KEY, 'VALIDATION_ERROR', 'NOT_FOUND'],
  }),
  route('api/admin/messages.ts', '/api/admin/messages', 'none', {
    method: 'get',
    operationId: 'listOutboxMessages',
    summary: 'The buyer-email outbox (filter by status, e.g. `dead` or `uncertain`, kind or order)',
    tag: 'Admin',
    security: apiKey('messages:admin'),
    query: MessageListQuery,
    responses: { 200: { description: 'A page of messages, newest first', schema: R.outboxMessageListResponseSchema } },
    errors: [...API_KEY, 'VALIDATION_ERROR'],
  }),
  route('api/admin/messages/[id]/resend.ts', '/api/admin/messages/{id}/resend', 'none', {
    method: 'post',
    operationId: 'resendOutboxMessage',
    summary: 'Resend a message now (a dead or uncertain one included)',
    description:
      'An `uncertain` message (its deliverer died mid-send, so it may have been delivered) is released: the same row, with the same Message-ID, is sent again at once (`resent.id` = `original.id`). Any other is copied (`resendOf` = the original, a new Message-ID) and sent at once; the original keeps its history. If sending fails, or an earlier email of the order is still unsent, it stays queued for the cron.',
    tag: 'Admin',
    security: apiKey('messages:admin'),
    params: ApiKeyParams,
    responses: {
      201: {
        description: 'The original (as it was) and the resent message after the attempt',
        schema: R.outboxResendResponseSchema,
      },
    },
    errors: [...API_KEY, 'NOT_FOUND'],
  }),
  cron('deliver-messages', {
    operationId: 'cronDeliverMessages',
    summary: 'Vercel Cron: send due buyer emails (every 5 minutes)',
    done: { description: 'What was done', schema: R.deliverMessagesResponseSchema },
  }),
  route('api/analytics/summary.ts', '/api/analytics/summary', 'none', {
    method: 'get',
    operationId: 'getAnalyticsSummary',
    summary: "The treasurer's summary of one event",
    description:
      "Gross, sliding-scale discount per bucket (full price, 1-25 %, 26-50 %, 51-75 %), refunds, disputes, provider fees and net (= gross - refunds - fees - lost disputes); orders by outcome and conversion; payment failures and top decline codes; tickets against capacity; all of it per provider too. `from`/`to`: a date (a day in the event's time zone, `to` inclusive) or a date-time with offset; without them, the whole history. Read from the hourly and daily rollups plus the ledger rows past the fold's watermark. `format=csv`: one line per figure.",
    tag: 'Reports',
    security: apiKey('analytics:read'),
    query: ReportQuery,
    responses: {
      200: {
        description: 'The summary (or its CSV)',
        schema: R.analyticsSummaryResponseSchema,
        alternative: { contentType: 'text/csv', schema: R.analyticsSummaryCsvSchema },
      },
    },
    errors: [...API_KEY, 'VALIDATION_ERROR', 'NOT_FOUND'],
  }),
  route('api/analytics/revenue.ts', '/api/analytics/revenue', 'none', {
    method: 'get',
    operationId: 'getRevenueSeries',
    summary: "Revenue over time in the event's time zone",
    description:
      "One bucket per hour, day, week (Monday) or month (`groupBy`, default day) over [from, to), empty buckets zero; days follow the zone's clock (America/Denver: 23 hours on the spring-forward day, 25 on the fall-back day). Without from/to: the last 30 days. 400 naming the field for an unknown groupBy, from after to, more than 400 days at hour grain, an unknown `tz`.",
    tag: 'Reports',
    security: apiKey('analytics:read'),
    query: ReportQuery,
    responses: {
      200: {
        description: 'The series (or its CSV)',
        schema: R.revenueSeriesResponseSchema,
        alternative: { contentType: 'text/csv', schema: R.revenueSeriesCsvSchema },
      },
    },
    errors: [...API_KEY, 'VALIDATION_ERROR', 'NOT_FOUND'],
  }),
  route('api/customers/orders.ts', '/api/customers/orders', 'none', {
    method: 'get',
    operationId: 'listCustomerOrders',
    summary: "A customer's order history by email",
    description:
      'Newest first (`limit`, default 50, at most 200), each order with its money from the ledger: captured, refunded, lost to disputes, fees and net.',
    tag: 'Orders',
    security: apiKey('orders:read'),
    query: CustomerOrdersQuery,
    responses: { 200: { description: 'The orders', schema: R.customerOrdersResponseSchema } },
    errors: [...API_KEY, 'VALIDATION_ERROR'],
  }),
  route('api/orders/[id]/money.ts', '/api/orders/{id}/money', 'none', {
    method: 'get',
    operationId: 'getOrderMoney',
    summary: "One order's money from the ledger",
    description:
      "The order's ledger rows (capture, refunds, refund reversals, disputes, fees), their totals, what the order's books say it kept, and whether the two agree.",
    tag: 'Orders',
    security: apiKey('orders:read'),
    params: ApiKeyParams,
    responses: { 200: { description: 'The money summary', schema: R.orderMoneyResponseSchema } },
    errors: [...API_KEY, 'NOT_FOUND'],
  }),
  cron('fold-analytics', {
    operationId: 'cronFoldAnalytics',
    summary: 'Vercel Cron: fold new ledger rows into the report rollups (every 5 minutes)',
    done: { description: 'What was folded', schema: R.foldAnalyticsResponseSchema },
  }),
  cron('record-missing-fees', {
    operationId: 'cronRecordMissingFees',
    summary: 'Vercel Cron: read the Stripe fee of completed payments whose fee read failed (every 15 minutes)',
    description:
      "Completed Stripe payments without a fee, completed 10 minutes to 72 hours ago, oldest first, at most 25 a run: the fee is read from the charge's balance transaction and booked once.",
    done: { description: 'What the run did', schema: R.recordMissingFeesResponseSchema },
  }),
];
