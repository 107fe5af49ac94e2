/**
 * The small provider surface checkout needs: create a hosted checkout (Stripe Checkout Session /
 * PayPal Orders v2 order), expire it, and (PayPal) capture it. The implementations live in
 * stripe-checkout-provider.ts and paypal-checkout-provider.ts (loaded only when used: the SDKs are
 * heavy at cold start) and call the real SDKs built by stripe-client.ts and paypal-client.ts; every mutating call carries a
 * deterministic idempotency key chosen by the caller (Stripe `Idempotency-Key`, `PayPal-Request-Id`).
 *
 * Errors: every SDK failure becomes a ProviderError with the provider's own code (Stripe
 * `error.code`/`type`, PayPal `details[0].issue`/`name`), `timeout` for time-outs and `network`
 * for connection failures. No HTTP status decisions here.
 */
import type { Provider } from '../db/models/orders.js';
import type { Currency } from '../money.js';

export interface CheckoutLineItem {
  /** Shown to the buyer on the provider's page. */
  name: string;
  description?: string | undefined;
  /** Our ticket type code. */
  sku: string;
  /** Per-ticket amount after sliding scale, minor units. */
  unitAmountCents: number;
  quantity: number;
}

export interface CreateCheckoutInput {
  orderId: string;
  orderNumber: string;
  currency: Currency;
  /** Must equal Σ unitAmountCents × quantity (pricing guarantees it). */
  totalCents: number;
  lines: readonly CheckoutLineItem[];
  customerEmail: string;
  /** When the hold ends: the Stripe session's expires_at. */
  expiresAt: Date;
  successUrl: string;
  cancelUrl: string;
  /** Deterministic per order (`checkout-<orderId>`): a retried call returns the same session/order. */
  idempotencyKey: string;
  description?: string | undefined;
}

export interface CreatedCheckout {
  /** Stripe Checkout Session id / PayPal order id. */
  sessionId: string;
  /** Where the buyer pays (Stripe session url / PayPal payer-action link). */
  checkoutUrl: string;
}

export type ExpireCheckoutResult = 'expired' | 'already_closed';

export type ProviderErrorKind = 'timeout' | 'network' | 'api';

export class ProviderError extends Error {
  override name = 'ProviderError';
  readonly provider: Provider;
  /** The provider's code (e.g. `api_error`, `resource_missing`, `INSTRUMENT_DECLINED`), `timeout`, `connection_error`. */
  readonly code: string;
  readonly kind: ProviderErrorKind;
  readonly statusCode: number | undefined;
  readonly declineCode: string | undefined;

  constructor(
    provider: Provider,
    code: string,
    message: string,
    options: { kind: ProviderErrorKind; statusCode?: number | undefined; declineCode?: string | undefined; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.provider = provider;
    this.code = code;
    this.kind = options.kind;
    this.statusCode = options.statusCode;
    this.declineCode = options.declineCode;
  }

  /**
   * The provider answered with a 4xx (not 408), so it certainly did nothing; otherwise (time-out,
   * network, 5xx) the call may have taken effect and only its answer was lost.
   */
  get refused(): boolean {
    return (
      this.kind === 'api' &&
      this.statusCode !== undefined &&
      this.statusCode >= 400 &&
      this.statusCode < 500 &&
      this.statusCode !== 408
    );
  }
}

export interface CheckoutProvider {
  readonly name: Provider;
  createCheckout(input: CreateCheckoutInput): Promise<CreatedCheckout>;
  /** Closes an open checkout; `already_closed` when it was already completed or expired. */
  expireCheckout(sessionId: string, idempotencyKey: string): Promise<ExpireCheckoutResult>;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export type PayPalCaptureResult =
  /** Money captured (or pending at PayPal, e.g. an eCheck: `captureStatus` PENDING). */
  | {
      outcome: 'captured';
      captureId: string;
      captureStatus: string;
      amountCents: number;
      currency: string;
      /** Our order id as PayPal echoes it (custom_id / reference_id). */
      customId: string | undefined;
      /** PayPal's fee (seller_receivable_breakdown.paypal_fee, net_amount), when PayPal gives it. */
      fee: { cents: number; currency: string; netCents: number | undefined } | undefined;
    }
  /** PayPal refused the funding source; the buyer may pick another one at PayPal and try again. */
  | { outcome: 'declined'; code: string; message: string }
  /** The buyer has not approved the order at PayPal yet. */
  | { outcome: 'not_approved'; code: string; message: string };
