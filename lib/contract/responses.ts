import { z } from 'zod';
import { API_KEY_SCOPES } from '../db/models/api-keys.js';
import { ALERT_KEYS } from '../db/models/ops-alerts.js';
import { ORDER_STATUSES } from '../db/models/orders.js';
import { MESSAGE_KINDS, MESSAGE_STATUSES } from '../db/models/outbox-messages.js';
import { PAYMENT_STATUSES } from '../db/models/payments.js';
import { ERROR_CODES } from '../errors.js';
import { CURRENCIES } from '../money.js';

/**
 * The response bodies of every api/ route, as zod schemas: the one source the OpenAPI document
 * (lib/contract/openapi.ts) and the exported types (lib/contract/types.ts) are generated from. The
 * request bodies and query strings are NOT here: they stay next to the routes that validate them
 * (lib/checkout/schemas.ts, lib/refunds/refund-request.ts, ...) and the document reads them there.
 *
 * Every test response is validated against the generated document (test/support/http.ts), so a
 * field added, renamed or retyped in the code that builds a response without changing it here fails
 * the test that received it.
 */

const timestamp = z.iso.datetime({ offset: true });
const nullableTimestamp = timestamp.nullable();
const uuid = z.uuid();
const cents = z.number().int();
const currency = z.enum(CURRENCIES);
const provider = z.enum(['stripe', 'paypal']);
const orderStatus = z.enum(ORDER_STATUSES);
const paymentStatus = z.enum(PAYMENT_STATUSES);
const refundStatus = z.enum(['pending', 'succeeded', 'failed', 'cancelled']);
const attentionReason = z.enum(['amount_mismatch', 'late_payment_no_capacity', 'disputed']).nullable();
const webhookEventStatus = z.enum(['received', 'processing', 'processed', 'ignored', 'failed', 'dead']);
const actorType = z.enum(['buyer', 'admin', 'system', 'provider', 'cron']);
const auditEntity = z.enum(['order', 'payment', 'refund', 'ticket_type', 'customer', 'webhook_event', 'api_key']);
const jsonObject = z.record(z.string(), z.unknown());
const nextCursor = z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' });

// ---- errors -----------------------------------------------------------------------------------

export const errorCodeSchema = z.enum(ERROR_CODES);

/** `{ "error": { "code", "message", "requestId" } }`: every non-2xx answer. */
export const errorBodySchema = z
  .object({
    error: z.object({
      code: errorCodeSchema,
      message: z.string(),
      requestId: z.string(),
      details: jsonObject.optional().meta({
        description: 'Client-safe detail, e.g. `fields: [{path, message}]` for VALIDATION_ERROR, `retryAfterSeconds`.',
      }),
    }),
  })
  .meta({ description: 'The one error shape. The HTTP status follows the code (see the ErrorCode table).' });

// ---- health -----------------------------------------------------------------------------------

export const healthResponseSchema = z.object({
  status: z.enum(['healthy', 'degraded', 'unhealthy']),
  checks: z.object({
    database: z.object({
      status: z.enum(['up', 'down']),
      latencyMs: z.number().min(0),
      error: z.string().optional().meta({ description: 'The kind of failure only (e.g. TIMEOUT, CONNECTION_ERROR).' }),
    }),
    migrations: z.object({
      status: z.enum(['current', 'pending', 'edited', 'missing', 'unknown']),
      applied: z.number().int().min(0),
      pending: z.array(z.string()),
      missing: z.array(z.string()),
      error: z.literal('MIGRATIONS_UNREADABLE').optional(),
    }),
    ledger: z
      .object({ status: z.enum(['balanced', 'unbalanced', 'unknown']), unbalancedPayments: z.number().int().min(0) })
      .optional()
      .meta({
        description:
          'The money ledger invariant over the payments changed in the last 24 hours (informational; reconciliation names them).',
      }),
  }),
  version: z.string(),
});

// ---- buyer: catalog, checkout, order ----------------------------------------------------------

export const catalogTicketTypeSchema = z.object({
  code: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  priceCents: cents.min(0),
  currency,
  available: z.number().int().min(0),
  soldOut: z.boolean(),
  onSale: z.boolean(),
  salesStartAt: nullableTimestamp,
  salesEndAt: nullableTimestamp,
  maxPerOrder: z.number().int().min(1),
  slidingScale: z.boolean(),
  slidingScaleMaxPercent: z.number().int().min(0).max(100),
});

export const ticketCatalogResponseSchema = z.object({
  event: z.object({
    slug: z.string(),
    name: z.string(),
    venue: z.string().nullable(),
    timezone: z.string(),
    startsAt: timestamp,
    endsAt: timestamp,
    currency,
    onSale: z.boolean(),
    ended: z
      .boolean()
      .meta({ description: "The event's end has passed: nothing is sold any more (checkout answers 422 SALES_CLOSED)." }),
  }),
  ticketTypes: z.array(catalogTicketTypeSchema),
  generatedAt: timestamp,
});

export const checkoutSessionResponseSchema = z.object({
  orderId: uuid,
  orderNumber: z.string(),
  status: orderStatus,
  totalCents: cents.min(0),
  currency,
  provider,
  checkoutUrl: z.url().meta({ description: 'Send the buyer here (Stripe Checkout or PayPal approval).' }),
  expiresAt: timestamp.meta({ description: 'When the ticket hold ends.' }),
  accessToken: z.string().meta({
    description: 'Shown once: the buyer presents it as `Authorization: Bearer <accessToken>` to read the order.',
  }),
});

const attendeeView = z.object({
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  email: z.string().nullable(),
});

export const buyerOrderResponseSchema = z.object({
  orderId: uuid,
  orderNumber: z.string(),
  status: orderStatus,
  event: z.object({ slug: z.string(), name: z.string() }).nullable(),
  items: z.array(
    z.object({
      id: uuid,
      ticketType: z.string(),
      ticketTypeName: z.string(),
      unitPriceCents: cents,
      discountCents: cents,
      priceCents: cents,
      status: z.string(),
      attendee: attendeeView.nullable(),
    }),
  ),
  subtotalCents: cents,
  discountCents: cents,
  slidingScalePercent: z.number().int().min(0).max(100),
  totalCents: cents,
  refundedCents: cents,
  currency,
  provider,
  paymentStatus: paymentStatus.nullable(),
  payment: z.object({ status: paymentStatus, methodBrand: z.string().nullable(), methodLast4: z.string().nullable() }).nullable(),
  checkoutUrl: z.string().nullable().meta({ description: 'Where to continue paying, while the hold is live.' }),
  holdExpiresAt: nullableTimestamp,
  createdAt: timestamp,
  updatedAt: timestamp,
  completedAt: nullableTimestamp,
});

// ---- staff: orders, audit, transactions, refunds ----------------------------------------------

export const auditEntrySchema = z.object({
  id: z.number().int(),
  entityType: auditEntity,
  entityId: z.string(),
  action: z.string(),
  actor: z.object({
    type: actorType,
    id: z.string().nullable(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    requestId: z.string().nullable(),
  }),
  reason: z.string().nullable(),
  oldValues: jsonObject.nullable(),
  newValues: jsonObject.nullable(),
  createdAt: timestamp,
});

export const adminOrderResponseSchema = z.object({
  order: z.object({
    id: uuid,
    orderNumber: z.string(),
    status: orderStatus,
    provider,
    currency,
    subtotalCents: cents,
    discountCents: cents,
    totalCents: cents,
    refundedCents: cents,
    slidingScalePercent: z.number().int(),
    attentionReason,
    holdExpiresAt: nullableTimestamp,
    metadata: jsonObject,
    completedAt: nullableTimestamp,
    createdAt: timestamp,
    updatedAt: timestamp,
    refundableCents: cents,
    pendingRefundCents: cents,
  }),
  event: z.object({ id: uuid, slug: z.string(), name: z.string(), startsAt: timestamp }).nullable(),
  customer: z
    .object({
      id: uuid,
      email: z.string(),
      firstName: z.string(),
      lastName: z.string(),
      phone: z.string().nullable(),
      marketingConsent: z.boolean(),
    })
    .nullable()
    .meta({
      description:
        "The buyer details given with this order (email, names, phone as entered at checkout), else the customer record (older orders); `id` and `marketingConsent` are the customer record's.",
    }),
  items: z.array(
    z.object({
      id: uuid,
      ticketTypeId: uuid,
      ticketTypeCode: z.string(),
      ticketTypeName: z.string(),
      unitPriceCents: cents,
      discountCents: cents,
      priceCents: cents,
      currency,
      attendee: attendeeView,
      status: z.string(),
    }),
  ),
  payments: z.array(
    z.object({
      id: uuid,
      provider,
      status: paymentStatus,
      amountCents: cents,
      currency,
      refundedCents: cents,
      disputedCents: cents,
      providerSessionId: z.string().nullable(),
      providerPaymentId: z.string().nullable(),
      method: z.object({ type: z.string().nullable(), brand: z.string().nullable(), last4: z.string().nullable() }),
      failureCount: z.number().int(),
      failureCode: z.string().nullable(),
      failureMessage: z.string().nullable(),
      completedAt: nullableTimestamp,
      createdAt: timestamp,
    }),
  ),
  failures: z.array(
    z.object({
      id: uuid,
      paymentId: uuid.nullable(),
      provider,
      code: z.string().nullable(),
      declineCode: z.string().nullable(),
      message: z.string().nullable(),
      retryCount: z.number().int(),
      createdAt: timestamp,
    }),
  ),
  refunds: z.array(
    z.object({
      id: uuid,
      paymentId: uuid,
      provider,
      amountCents: cents,
      currency,
      status: refundStatus,
      reason: z.string().nullable(),
      source: z.enum(['admin', 'provider', 'system']),
      providerRefundId: z.string().nullable(),
      requestedBy: z.string().nullable(),
      releaseTickets: z.boolean(),
      failureReason: z.string().nullable(),
      completedAt: nullableTimestamp,
      createdAt: timestamp,
    }),
  ),
  audit: z.array(auditEntrySchema),
});

export const orderSearchResponseSchema = z.object({
  data: z.array(
    z.object({
      id: uuid,
      orderNumber: z.string(),
      status: orderStatus,
      provider,
      currency,
      totalCents: cents,
      refundedCents: cents,
      ticketCount: z.number().int().min(0),
      attentionReason,
      eventSlug: z.string(),
      customer: z
        .object({ id: uuid, email: z.string(), firstName: z.string(), lastName: z.string() })
        .meta({ description: 'The buyer details given with this order (else the customer record, for older orders).' }),
      createdAt: timestamp,
      completedAt: nullableTimestamp,
    }),
  ),
  nextCursor,
});

export const auditResponseSchema = z.object({
  entity: auditEntity,
  id: uuid,
  data: z.array(auditEntrySchema),
});

export const transactionSchema = z.object({
  id: uuid,
  createdAt: timestamp,
  orderId: uuid,
  orderNumber: z.string(),
  orderStatus,
  eventSlug: z.string(),
  provider,
  status: paymentStatus,
  amountCents: cents,
  refundedCents: cents,
  disputedCents: cents,
  netCents: cents.meta({ description: 'captured − refunded − disputed (0 captured for attempts that never completed)' }),
  currency,
  providerSessionId: z.string().nullable(),
  providerPaymentId: z.string().nullable(),
  method: z.object({ type: z.string().nullable(), brand: z.string().nullable(), last4: z.string().nullable() }),
  failureCode: z.string().nullable(),
  completedAt: nullableTimestamp,
  customer: z.object({ email: z.string(), name: z.string() }),
});

export const transactionPageResponseSchema = z.object({ data: z.array(transactionSchema), nextCursor });

export const transactionsCsvSchema = z.string().meta({
  description:
    'With `format=csv`: the whole filtered history as a finance export (header row, then one row per payment attempt).',
});

export const refundResponseSchema = z.object({
  message: z
    .string()
    .optional()
    .meta({ description: 'Pending refunds only: what is known (unconfirmed and being checked, or pending at the provider).' }),
  refund: z.object({
    id: uuid,
    orderId: uuid,
    paymentId: uuid,
    provider,
    amountCents: cents.min(1),
    currency,
    status: refundStatus,
    confirmation: z.enum(['unconfirmed', 'provider_pending']).optional().meta({
      description:
        'Pending refunds only. `unconfirmed`: the provider did not answer in time; the check-refunds cron asks it again with the same idempotency key (do not refund again). `provider_pending`: the provider accepted it and its webhook settles it.',
    }),
    providerRefundId: z.string().nullable(),
    reason: z.string().nullable(),
    releaseTickets: z.boolean(),
    releasedTickets: z.number().int().min(0),
    createdAt: timestamp,
    completedAt: nullableTimestamp,
  }),
  order: z.object({
    id: uuid,
    orderNumber: z.string(),
    status: orderStatus,
    totalCents: cents,
    refundedCents: cents,
    refundableCents: cents,
    currency,
  }),
});

// ---- staff: API keys, webhook inbox -----------------------------------------------------------

export const apiKeySchema = z.object({
  id: uuid,
  name: z.string(),
  environment: z.enum(['live', 'test']),
  prefix: z.string().meta({ description: 'The public part of the key (`bf_live_<id>`); the secret is never shown again.' }),
  scopes: z.array(z.enum(API_KEY_SCOPES)),
  status: z.enum(['active', 'expired', 'revoked']),
  rateLimitPerMinute: z.number().int(),
  expiresAt: nullableTimestamp,
  revokedAt: nullableTimestamp,
  lastUsedAt: nullableTimestamp,
  usageCount: z.number().int().min(0),
  createdBy: z.string().nullable(),
  createdAt: timestamp,
});

export const apiKeyListResponseSchema = z.object({ data: z.array(apiKeySchema) });
export const apiKeyResponseSchema = z.object({ apiKey: apiKeySchema });
export const apiKeyCreatedResponseSchema = z.object({
  key: z.string().meta({ description: 'The whole key, shown this once: store it now.' }),
  apiKey: apiKeySchema,
});

export const whoamiResponseSchema = z.object({
  apiKey: z.object({
    id: uuid,
    name: z.string(),
    prefix: z.string().meta({ description: 'The public part of the key (`bf_live_<id>`).' }),
    environment: z.enum(['live', 'test']),
    scopes: z.array(z.enum(API_KEY_SCOPES)),
    expiresAt: nullableTimestamp,
  }),
});

export const webhookEventSchema = z.object({
  id: uuid,
  provider,
  providerEventId: z.string(),
  eventType: z.string(),
  status: webhookEventStatus,
  attempts: z.number().int().min(0),
  lastError: z.string().nullable(),
  nextAttemptAt: nullableTimestamp,
  receivedAt: timestamp,
  processedAt: nullableTimestamp,
});

export const webhookEventDetailSchema = webhookEventSchema.extend({
  payload: jsonObject.meta({ description: "The provider's event, as received." }),
});

export const webhookEventListResponseSchema = z.object({ data: z.array(webhookEventSchema), nextCursor });
export const webhookEventResponseSchema = z.object({ data: webhookEventDetailSchema });
export const webhookReplayResponseSchema = z.object({
  applied: z.boolean(),
  error: z.string().nullable(),
  data: webhookEventSchema,
});

// ---- providers' webhooks and cron -------------------------------------------------------------

export const webhookReceiptResponseSchema = z.object({
  received: z.literal(true),
  duplicate: z.boolean(),
  status: z.enum([...webhookEventStatus.options, 'duplicate']),
});

export const expireHoldsResponseSchema = z.object({
  expiredOrders: z.number().int().min(0),
  releasedTickets: z.number().int().min(0),
  stripeSessionsExpired: z.number().int().min(0),
  stripeSessionsAlreadyClosed: z.number().int().min(0),
  stripeSessionErrors: z.number().int().min(0),
  idempotencyKeysDeleted: z.number().int().min(0),
  abandonedCheckoutsReleased: z.number().int().min(0).meta({
    description: 'Pending orders with no provider session whose checkout request is over (a crash before the provider call).',
  }),
});

export const checkRefundsResponseSchema = z.object({
  picked: z.number().int().min(0),
  succeeded: z.number().int().min(0),
  providerPending: z.number().int().min(0).meta({ description: 'Answered pending at the provider; its webhook settles it.' }),
  failed: z.number().int().min(0),
  unconfirmed: z.number().int().min(0).meta({ description: 'Still no answer: asked again later (backing off).' }),
  stale: z.number().int().min(0).meta({ description: 'Older than the idempotency window: not re-asked; staff check them.' }),
  truncated: z.boolean(),
});

export const retryWebhooksResponseSchema = z.object({
  picked: z.number().int().min(0),
  processed: z.number().int().min(0),
  ignored: z.number().int().min(0),
  failed: z.number().int().min(0),
  dead: z.number().int().min(0),
  skipped: z.number().int().min(0),
  truncated: z.boolean(),
});

// ---- operator ---------------------------------------------------------------------------------

const count = z.number().int().min(0);
const successRate = z
  .number()
  .min(0)
  .max(1)
  .nullable()
  .meta({ description: 'succeeded / (succeeded + failed), 4 decimals; null with no outcome.' });

const requestWindow = z.object({
  total: count,
  ok: count.meta({ description: 'Answers under 400.' }),
  clientErrors: count.meta({
    description:
      '4xx answers: refusals working as designed (validation, sold out, rate limits, bad signatures), by code in byCode.',
  }),
  serverErrors: count.meta({ description: '5xx answers (a bug, the database or a provider unavailable).' }),
  errorRate: z
    .number()
    .min(0)
    .max(1)
    .nullable()
    .meta({ description: 'serverErrors / total, 4 decimals; null with no answer. 4xx answers are not errors here.' }),
  byCode: z.record(z.string(), count).meta({
    description:
      '`ok` and each error code with its count, e.g. `{ "ok": 40, "SOLD_OUT": 3 }`; codes without answers are left out.',
  }),
});

export const operationalMetricsResponseSchema = z.object({
  generatedAt: timestamp,
  payments: z.object({
    lastHour: z.object({
      attempts: count.meta({ description: 'Payment attempts created in the last hour.' }),
      succeeded: count,
      failed: count,
      failures: count.meta({ description: 'Recorded declines and errors (a payment can fail several times before succeeding).' }),
      successRate,
    }),
    last100: z.object({
      outcomes: count.max(100),
      succeeded: count,
      failed: count,
      successRate,
    }),
    failuresPerHour: z.array(z.object({ hour: timestamp, failures: count })).meta({
      description: 'Last 24 hours, newest first; hours without failures are left out.',
    }),
    topDeclineCodes: z.array(z.object({ code: z.string(), declineCode: z.string().nullable(), failures: count })).meta({
      description: 'Last 24 hours, at most 10.',
    }),
  }),
  webhooks: z.object({
    byStatus: z.object({
      received: count,
      processing: count,
      processed: count,
      ignored: count,
      failed: count,
      dead: count,
    }),
    unprocessed: count.meta({ description: 'received + processing + failed (dead ones need a replay).' }),
    oldestUnprocessedAt: nullableTimestamp,
    oldestUnprocessedAgeSeconds: count.nullable(),
  }),
  outbox: z.object({
    byStatus: z.object({ pending: count, sending: count, sent: count, dead: count, uncertain: count }).meta({
      description:
        'Email outbox messages by status. Dead and uncertain ones (the deliverer died mid-send: maybe delivered, never resent automatically) need staff: POST /api/admin/messages/{id}/resend.',
    }),
    due: count.meta({
      description:
        'Pending messages whose next attempt is due, plus sending ones whose claim has lapsed (the next cron run makes them uncertain).',
    }),
    oldestDueAt: nullableTimestamp,
    oldestDueAgeSeconds: count.nullable(),
    deadNotResent: count.meta({ description: 'Dead messages no resend has been queued for (raises email_backlog).' }),
  }),
  requests: z
    .object({
      flushIntervalMs: count.meta({
        description:
          'Counts reach the database at most this often per function instance (REQUEST_METRICS_FLUSH_MS): the newest answers may not be here yet.',
      }),
      routes: z.array(
        z.object({
          route: z.string().meta({ description: 'The path of a POST route counted, e.g. `/api/payments/checkout-session`.' }),
          group: z.enum(['checkout', 'webhook']).meta({ description: 'Which error-rate alert the route feeds.' }),
          lastHour: requestWindow,
          last24Hours: requestWindow,
        }),
      ),
    })
    .meta({
      description:
        'Answers of the checkout and webhook routes by code (minute buckets, counted in memory and flushed after responses).',
    }),
  holds: z.object({
    live: z.object({ orders: count, tickets: count }),
    expiredUnreleased: z.object({
      orders: count,
      tickets: count,
      oldestExpiredAt: nullableTimestamp.meta({ description: 'The expire-holds cron should keep this under 5 minutes old.' }),
    }),
  }),
  database: z.object({
    connections: z.object({
      total: count,
      maxConnections: count,
      byState: z.array(z.object({ state: z.string(), connections: count })),
    }),
    slowStatements: z.union([
      z.object({
        available: z.literal(true),
        statements: z.array(z.object({ query: z.string(), calls: count, meanMs: z.number(), totalMs: z.number() })),
      }),
      z.object({ available: z.literal(false), reason: z.string() }),
    ]),
    indexUsage: z
      .array(z.object({ table: z.string(), index: z.string(), scans: z.number().min(0), sizeBytes: z.number().min(0) }))
      .meta({ description: 'Least used first: candidates for removal.' }),
    tableSizes: z.array(
      z.object({
        table: z.string(),
        totalBytes: z.number().min(0),
        liveRows: z.number().min(0),
        seqScans: z.number().min(0),
        indexScans: z.number().min(0),
      }),
    ),
  }),
});

const alertKey = z.enum(ALERT_KEYS);

export const evaluateAlertsResponseSchema = z.object({
  raised: z.array(alertKey).meta({ description: 'Alerts that started now (notified).' }),
  cleared: z.array(alertKey).meta({ description: 'Alerts that ended now (notified).' }),
  firing: z.array(alertKey).meta({ description: 'Every alert whose condition holds now.' }),
  notified: count,
  notificationErrors: count,
});

// ---- emails (outbox) and door check-in --------------------------------------------------------

const messageKind = z.enum(MESSAGE_KINDS);
const messageStatus = z.enum(MESSAGE_STATUSES);

export const outboxMessageSchema = z.object({
  id: uuid,
  orderId: uuid,
  kind: messageKind,
  cause: z.string().meta({ description: 'What queued it: `payment:<id>`, `refund:<id>`, `expired`, `cancelled`, a resend.' }),
  recipient: z.string(),
  status: messageStatus,
  attempts: z.number().int().min(0),
  nextAttemptAt: nullableTimestamp.meta({
    description: 'When the cron tries again (pending messages only; later if an earlier message of the order is still unsent).',
  }),
  messageId: z.string().meta({ description: 'Our Message-ID header, derived from the message id (the same on every attempt).' }),
  claimedAt: nullableTimestamp.meta({ description: 'When the current or last attempt was claimed by a deliverer.' }),
  lastAttemptAt: nullableTimestamp,
  lastError: z.string().nullable(),
  providerMessageId: z.string().nullable().meta({ description: 'The Message-ID the SMTP server accepted.' }),
  resendOf: uuid.nullable(),
  requestedBy: z.string().nullable(),
  sentAt: nullableTimestamp,
  deadAt: nullableTimestamp,
  uncertainAt: nullableTimestamp.meta({
    description: 'When it became uncertain: its deliverer died mid-send, so it may have been delivered; resend it on purpose.',
  }),
  createdAt: timestamp,
});
export const outboxMessageListResponseSchema = z.object({ data: z.array(outboxMessageSchema), nextCursor });
export const outboxResendResponseSchema = z.object({ original: outboxMessageSchema, resent: outboxMessageSchema });
export const deliverMessagesResponseSchema = z.object({
  claimed: z.number().int().min(0),
  sent: z.number().int().min(0),
  failed: z.number().int().min(0),
  dead: z.number().int().min(0),
  uncertain: z
    .number()
    .int()
    .min(0)
    .meta({ description: 'Claims whose deliverer died mid-send, made `uncertain` by this run (not resent: staff resend them).' }),
});
export const resendConfirmationResponseSchema = z.object({
  status: z.literal('accepted'),
  message: z.string(),
});
export const checkInResponseSchema = z.object({
  status: z.literal('admitted'),
  checkedInAt: timestamp,
  door: z.string().nullable(),
  ticket: z.object({
    id: uuid,
    orderNumber: z.string(),
    ticketType: z.object({ code: z.string(), name: z.string() }),
    attendee: z.object({ firstName: z.string().nullable(), lastName: z.string().nullable() }),
  }),
});
export const checkInStatsResponseSchema = z.object({
  event: z.object({ slug: z.string(), name: z.string() }),
  ticketTypes: z.array(
    z.object({ code: z.string(), name: z.string(), sold: z.number().int().min(0), admitted: z.number().int().min(0) }),
  ),
  totals: z.object({ sold: z.number().int().min(0), admitted: z.number().int().min(0) }),
});

// ---- Reconciliation and the stale-payment sweeper (schemas live with their domain)

export { reconcileCronResponseSchema, reconciliationReportResponseSchema } from '../reconciliation/schemas.js';
export { sweepResponseSchema } from '../sweeper/schemas.js';

export const reconciliationCsvSchema = z.string().meta({
  description:
    'With `format=csv`: every line of the day (matched ones too), amounts in signed minor units, with the class, the order and the explanation.',
});

// ---- The treasurer's reports, customer service money, the analytics fold (issue 13)

const nonNegative = z.number().int().min(0);
const analyticsEvent = z.object({ slug: z.string(), name: z.string(), timeZone: z.string() });
const analyticsRange = z.object({ from: timestamp, to: timestamp });

const moneyFiguresSchema = z.object({
  grossCents: cents,
  refundsCents: cents,
  refunds: z.number().int(),
  feesCents: cents,
  disputes: z.object({ opened: nonNegative, disputedCents: cents, won: nonNegative, lost: nonNegative, lostCents: cents }),
  netCents: cents.meta({ description: 'gross - refunds - fees - lost disputes' }),
  discountCents: cents,
  orders: nonNegative,
  tickets: nonNegative,
});

const summarySectionShape = {
  money: moneyFiguresSchema,
  slidingScale: z.object({
    discountCents: cents,
    buckets: z.array(
      z.object({
        bucket: z.enum(['full_price', '1-25', '26-50', '51-75']),
        minPercent: nonNegative,
        maxPercent: nonNegative,
        orders: nonNegative,
        tickets: nonNegative,
        revenueCents: cents,
        averagePaidCents: cents,
        discountCents: cents,
      }),
    ),
  }),
  orders: z.object({
    started: nonNegative,
    paid: nonNegative,
    open: nonNegative,
    expired: nonNegative,
    cancelled: nonNegative,
    failed: nonNegative,
    conversionRate: z.number().nullable(),
  }),
  failures: z.object({
    failures: nonNegative,
    captures: nonNegative,
    failureRate: z.number().nullable(),
    topDeclineCodes: z.array(z.object({ code: z.string(), count: nonNegative })),
  }),
  ticketTypes: z.array(
    z.object({ ticketTypeId: uuid, code: z.string(), name: z.string(), ticketsSold: nonNegative, revenueCents: cents }),
  ),
};
const summarySectionSchema = z.object(summarySectionShape);

export const analyticsSummaryResponseSchema = z.object({
  event: analyticsEvent,
  currency,
  range: analyticsRange,
  ...summarySectionShape,
  capacity: z.array(
    z.object({
      ticketTypeId: uuid,
      code: z.string(),
      name: z.string(),
      capacity: nonNegative,
      sold: nonNegative,
      held: nonNegative,
      available: nonNegative,
    }),
  ),
  providers: z.object({ stripe: summarySectionSchema, paypal: summarySectionSchema }),
});

export const analyticsSummaryCsvSchema = z.string().meta({
  description: 'With `format=csv`: one line per figure: scope (all / stripe / paypal), metric, key, value, amount, currency.',
});

const revenueFigures = {
  grossCents: cents,
  refundsCents: cents,
  feesCents: cents,
  disputesLostCents: cents,
  netCents: cents,
  discountCents: cents,
  orders: nonNegative,
  tickets: nonNegative,
};

export const revenueSeriesResponseSchema = z.object({
  event: analyticsEvent,
  currency,
  groupBy: z.enum(['hour', 'day', 'week', 'month']),
  provider: provider.nullable(),
  range: analyticsRange,
  totals: z.object(revenueFigures),
  points: z.array(
    z.object({
      start: timestamp,
      local: z.string().meta({ description: 'Local wall time of the bucket start with its offset, e.g. 2026-03-08T00:00-07:00' }),
      hours: z.number().meta({ description: 'Length of the bucket in hours (23 or 25 on DST days)' }),
      ...revenueFigures,
    }),
  ),
});

export const revenueSeriesCsvSchema = z.string().meta({
  description:
    'With `format=csv`: one line per bucket (start, local start, hours, money in minor units, orders, tickets, currency).',
});

export const customerOrdersResponseSchema = z.object({
  email: z.string(),
  customer: z.object({ firstName: z.string(), lastName: z.string() }).nullable(),
  orders: z.array(
    z.object({
      orderId: uuid,
      orderNumber: z.string(),
      event: z.string(),
      status: orderStatus,
      provider,
      currency,
      totalCents: cents,
      tickets: nonNegative,
      createdAt: timestamp,
      completedAt: nullableTimestamp,
      capturedCents: cents,
      refundedCents: cents,
      disputesLostCents: cents,
      feesCents: cents,
      netCents: cents,
    }),
  ),
  hasMore: z.boolean(),
});

const ledgerTotals = z.object({
  capturedCents: cents,
  refundedCents: cents,
  disputesLostCents: cents,
  feesCents: cents,
  keptCents: cents,
  netCents: cents,
});

export const orderMoneyResponseSchema = z.object({
  orderId: uuid,
  orderNumber: z.string(),
  status: orderStatus,
  currency,
  totalCents: cents,
  ledger: ledgerTotals,
  books: z.object({ keptCents: cents, feesCents: cents }),
  balanced: z.boolean(),
  entries: z.array(
    z.object({
      id: z.number().int(),
      kind: z.enum(['capture', 'refund', 'refund_reversal', 'dispute_opened', 'dispute_won', 'dispute_lost', 'fee']),
      paymentId: uuid,
      refundId: uuid.nullable(),
      provider,
      providerRef: z.string().nullable(),
      sourceKey: z.string(),
      amountCents: cents,
      currency,
      details: z.record(z.string(), z.unknown()).nullable(),
      occurredAt: timestamp,
      recordedAt: timestamp,
    }),
  ),
});

export const recordMissingFeesResponseSchema = z.object({
  picked: nonNegative,
  recorded: nonNegative,
  notAvailable: nonNegative,
  unchanged: nonNegative,
  failed: nonNegative,
  truncated: z.boolean(),
});

export const foldAnalyticsResponseSchema = z.object({
  moneyRows: nonNegative,
  countRows: nonNegative,
  watermark: z.string(),
  ms: nonNegative,
});
