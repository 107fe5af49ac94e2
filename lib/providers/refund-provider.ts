/**
 * The provider surface refunds need: refund (part of) a captured payment. Implementations live in
 * stripe-refund-provider.ts and paypal-refund-provider.ts (loaded only when used, like the checkout
 * providers) and call the real SDKs through the `refund` clients of index.ts, which retry network
 * errors: safe, because every refund call carries its idempotency key (Stripe `Idempotency-Key`,
 * `PayPal-Request-Id`), so a retried call returns the same refund instead of a second one.
 *
 * Errors: every SDK failure becomes the one ProviderError (checkout-provider.ts); its `refused`
 * tells a certain refusal (4xx: no refund was made) from an unanswered call (the refund may exist).
 */
import type { Provider } from '../db/models/orders.js';
import type { RefundStatus } from '../db/models/refunds.js';
import { ProviderError } from './checkout-provider.js';

export interface ProviderRefundRequest {
  /** Stripe PaymentIntent id / PayPal capture id. */
  providerPaymentId: string;
  /** Omit for the full remaining amount. */
  amountCents?: number;
  currency: string;
  idempotencyKey: string;
  /** Our refund row id: sent as Stripe metadata.refund_id / PayPal custom_id so webhooks find it. */
  refundId: string;
  orderId: string;
  /** PayPal invoice_id / Stripe metadata.order_number. */
  orderNumber?: string;
  /** Stripe refund reason (duplicate | requested_by_customer). */
  stripeReason?: 'duplicate' | 'requested_by_customer';
  noteToPayer?: string;
}

export interface ProviderRefundResult {
  providerRefundId: string;
  status: RefundStatus;
  amountCents: number;
  /**
   * The provider's fee given back with the refund, when the answer says (PayPal
   * seller_payable_breakdown.paypal_fee; Stripe's refund balance transaction fee, negated). Signed:
   * positive is given back.
   */
  fee?: { feeReturnedCents: number; currency: string; providerRef: string } | undefined;
}

export interface RefundProvider {
  readonly name: Provider;
  /** Only ever called outside database transactions. */
  refund(request: ProviderRefundRequest): Promise<ProviderRefundResult>;
}

const STRIPE_STATUS: Record<string, RefundStatus> = {
  succeeded: 'succeeded',
  pending: 'pending',
  requires_action: 'pending',
  failed: 'failed',
  canceled: 'cancelled',
};

const PAYPAL_STATUS: Record<string, RefundStatus> = {
  COMPLETED: 'succeeded',
  PENDING: 'pending',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
};

export function mapStripeRefundStatus(status: string | null | undefined): RefundStatus {
  return STRIPE_STATUS[status ?? ''] ?? 'pending';
}

export function mapPayPalRefundStatus(status: string | null | undefined): RefundStatus {
  return PAYPAL_STATUS[status ?? ''] ?? 'pending';
}

/** The same ProviderError, its message saying that it was a refund that failed. */
export function refundFailure(error: ProviderError): ProviderError {
  return new ProviderError(error.provider, error.code, `${error.provider} refund failed: ${error.message.slice(0, 300)}`, {
    kind: error.kind,
    statusCode: error.statusCode,
    declineCode: error.declineCode,
    cause: error.cause ?? error,
  });
}
