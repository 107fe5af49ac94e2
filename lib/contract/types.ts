import type { z } from 'zod';
import type { CreateApiKeyBody } from '../auth/api-key-requests.js';
import type { checkoutSessionRequestSchema, payPalCaptureRequestSchema, ticketCatalogQuerySchema } from '../checkout/schemas.js';
import type { AuditQuery } from '../db/queries/audit-query.js';
import type { OrderSearchQuery } from '../db/queries/order-search.js';
import type { TransactionQuery } from '../db/queries/transactions.js';
import type { ResendConfirmationBody } from '../messages/request-confirmation-resend.js';
import type { RefundBody } from '../refunds/refund-request.js';
import type { CheckInBody } from '../tickets/check-in-ticket.js';
import type { ListQuery } from '../webhooks/admin.js';
import type * as R from './responses.js';

/**
 * TypeScript types of every request and response body, inferred (z.input / z.output) from the same
 * zod schemas the routes validate with and the OpenAPI document is generated from. The festival site
 * imports these: `import type { CheckoutSessionRequest, CheckoutSessionResponse } from '.../lib/contract/types.js'`.
 * Type-only: importing this module pulls no runtime code.
 */

// Requests (what a client sends: z.input)
export type CheckoutSessionRequest = z.input<typeof checkoutSessionRequestSchema>;
export type PayPalCaptureRequest = z.input<typeof payPalCaptureRequestSchema>;
export type RefundRequest = z.input<typeof RefundBody>;
export type CreateApiKeyRequest = z.input<typeof CreateApiKeyBody>;
export type ResendConfirmationRequest = z.input<typeof ResendConfirmationBody>;
export type CheckInRequest = z.input<typeof CheckInBody>;
export type TicketCatalogQuery = z.input<typeof ticketCatalogQuerySchema>;
export type OrderSearchParams = z.input<typeof OrderSearchQuery>;
export type TransactionParams = z.input<typeof TransactionQuery>;
export type AuditParams = z.input<typeof AuditQuery>;
export type WebhookEventListParams = z.input<typeof ListQuery>;

// Responses (what the API answers: z.output)
export type ErrorBody = z.output<typeof R.errorBodySchema>;
export type ErrorCode = z.output<typeof R.errorCodeSchema>;
export type HealthResponse = z.output<typeof R.healthResponseSchema>;
export type TicketCatalogResponse = z.output<typeof R.ticketCatalogResponseSchema>;
export type CatalogTicketType = z.output<typeof R.catalogTicketTypeSchema>;
export type CheckoutSessionResponse = z.output<typeof R.checkoutSessionResponseSchema>;
export type BuyerOrder = z.output<typeof R.buyerOrderResponseSchema>;
export type AdminOrder = z.output<typeof R.adminOrderResponseSchema>;
export type OrderSearchResponse = z.output<typeof R.orderSearchResponseSchema>;
export type AuditEntry = z.output<typeof R.auditEntrySchema>;
export type AuditResponse = z.output<typeof R.auditResponseSchema>;
export type Transaction = z.output<typeof R.transactionSchema>;
export type TransactionPage = z.output<typeof R.transactionPageResponseSchema>;
export type RefundResponse = z.output<typeof R.refundResponseSchema>;
export type ApiKey = z.output<typeof R.apiKeySchema>;
export type ApiKeyListResponse = z.output<typeof R.apiKeyListResponseSchema>;
export type ApiKeyResponse = z.output<typeof R.apiKeyResponseSchema>;
export type ApiKeyCreatedResponse = z.output<typeof R.apiKeyCreatedResponseSchema>;
export type WhoamiResponse = z.output<typeof R.whoamiResponseSchema>;
export type WebhookEvent = z.output<typeof R.webhookEventSchema>;
export type WebhookEventDetail = z.output<typeof R.webhookEventDetailSchema>;
export type WebhookEventListResponse = z.output<typeof R.webhookEventListResponseSchema>;
export type WebhookEventResponse = z.output<typeof R.webhookEventResponseSchema>;
export type WebhookReplayResponse = z.output<typeof R.webhookReplayResponseSchema>;
export type WebhookReceiptResponse = z.output<typeof R.webhookReceiptResponseSchema>;
export type ExpireHoldsResponse = z.output<typeof R.expireHoldsResponseSchema>;
export type RetryWebhooksResponse = z.output<typeof R.retryWebhooksResponseSchema>;
export type OperationalMetricsResponse = z.output<typeof R.operationalMetricsResponseSchema>;
export type EvaluateAlertsResponse = z.output<typeof R.evaluateAlertsResponseSchema>;
export type OutboxMessage = z.output<typeof R.outboxMessageSchema>;
export type OutboxMessageListResponse = z.output<typeof R.outboxMessageListResponseSchema>;
export type OutboxResendResponse = z.output<typeof R.outboxResendResponseSchema>;
export type DeliverMessagesResponse = z.output<typeof R.deliverMessagesResponseSchema>;
export type ResendConfirmationResponse = z.output<typeof R.resendConfirmationResponseSchema>;
export type CheckInResponse = z.output<typeof R.checkInResponseSchema>;
export type CheckInStatsResponse = z.output<typeof R.checkInStatsResponseSchema>;
