/**
 * The small provider surface checkout needs: create a hosted checkout (Stripe Checkout Session /
 * PayPal Orders v2 order), expire it, and (PayPal) capture it. Both implementations call the real
 * SDKs built by lib/providers/stripe-client.ts and paypal-client.ts; every mutating call carries a
 * deterministic idempotency key chosen by the caller (Stripe `Idempotency-Key`, `PayPal-Request-Id`).
 *
 * Errors: every SDK failure becomes a ProviderError with the provider's own code (Stripe
 * `error.code`/`type`, PayPal `details[0].issue`/`name`), `timeout` for time-outs and `network`
 * for connection failures. No HTTP status decisions here.
 */
import { ApiError, CheckoutPaymentIntent, ItemCategory, type OrdersController, OrderStatus } from '@paypal/paypal-server-sdk';
import type Stripe from 'stripe';
import type { Provider } from '../db/models/orders.js';
import { type Currency, formatMinorUnits } from '../money.js';
import type { PayPalClients } from './paypal-client.js';

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
}

export interface CheckoutProvider {
  readonly name: Provider;
  createCheckout(input: CreateCheckoutInput): Promise<CreatedCheckout>;
  /** Closes an open checkout; `already_closed` when it was already completed or expired. */
  expireCheckout(sessionId: string, idempotencyKey: string): Promise<ExpireCheckoutResult>;
}

// ---------------------------------------------------------------------------------------------
// Stripe

interface StripeLikeError {
  type?: unknown;
  code?: unknown;
  decline_code?: unknown;
  statusCode?: unknown;
  message?: unknown;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Maps anything the Stripe SDK throws (its error classes carry `type`, `code`, `statusCode`). */
export function toStripeProviderError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const e: StripeLikeError = isObject(error) ? error : {};
  const type = typeof e.type === 'string' ? e.type : 'unknown';
  const message = typeof e.message === 'string' ? e.message : 'Stripe request failed';
  const statusCode = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (type === 'StripeConnectionError') {
    const timeout = /timeout/i.test(message);
    return new ProviderError('stripe', timeout ? 'timeout' : 'connection_error', message, {
      kind: timeout ? 'timeout' : 'network',
      cause: error,
    });
  }
  const code =
    typeof e.code === 'string' && e.code
      ? e.code
      : type
          .replace(/^Stripe/, '')
          .replace(/Error$/, '_error')
          .toLowerCase();
  return new ProviderError('stripe', code || 'unknown', message, {
    kind: 'api',
    statusCode,
    declineCode: typeof e.decline_code === 'string' ? e.decline_code : undefined,
    cause: error,
  });
}

export class StripeCheckoutProvider implements CheckoutProvider {
  readonly name = 'stripe' as const;

  constructor(private readonly stripe: Stripe) {}

  async createCheckout(input: CreateCheckoutInput): Promise<CreatedCheckout> {
    const metadata = { order_id: input.orderId, order_number: input.orderNumber };
    const params: Stripe.Checkout.SessionCreateParams = {
      mode: 'payment',
      line_items: input.lines.map((line) => ({
        quantity: line.quantity,
        price_data: {
          currency: input.currency.toLowerCase(),
          unit_amount: line.unitAmountCents,
          product_data: {
            name: line.name,
            ...(line.description ? { description: line.description } : {}),
            metadata: { ticket_type: line.sku },
          },
        },
      })),
      customer_email: input.customerEmail,
      client_reference_id: input.orderId,
      metadata,
      payment_intent_data: { metadata, description: input.description ?? `Order ${input.orderNumber}` },
      expires_at: Math.floor(input.expiresAt.getTime() / 1000),
      success_url: input.successUrl,
      cancel_url: input.cancelUrl,
    };
    let session: Stripe.Checkout.Session;
    try {
      session = await this.stripe.checkout.sessions.create(params, { idempotencyKey: input.idempotencyKey });
    } catch (error) {
      throw toStripeProviderError(error);
    }
    if (!session.url)
      throw new ProviderError('stripe', 'missing_url', 'Stripe returned a session without a url', { kind: 'api' });
    return { sessionId: session.id, checkoutUrl: session.url };
  }

  async expireCheckout(sessionId: string, idempotencyKey: string): Promise<ExpireCheckoutResult> {
    try {
      await this.stripe.checkout.sessions.expire(sessionId, {}, { idempotencyKey });
      return 'expired';
    } catch (error) {
      const mapped = toStripeProviderError(error);
      if (mapped.kind !== 'api' || mapped.statusCode === undefined || mapped.statusCode >= 500) throw mapped;
      // Refused: find out whether it is simply not open any more (completed or already expired).
      let session: Stripe.Checkout.Session;
      try {
        session = await this.stripe.checkout.sessions.retrieve(sessionId);
      } catch (retrieveError) {
        const missing = toStripeProviderError(retrieveError);
        if (missing.code === 'resource_missing') return 'already_closed';
        throw missing;
      }
      if (session.status === 'complete' || session.status === 'expired') return 'already_closed';
      throw mapped;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// PayPal

interface PayPalErrorBody {
  name?: unknown;
  message?: unknown;
  details?: unknown;
}

/** The first `details[].issue` (e.g. ORDER_ALREADY_CAPTURED), else `name` (e.g. UNPROCESSABLE_ENTITY). */
function payPalIssue(result: unknown): { code: string | undefined; message: string | undefined } {
  if (!isObject(result)) return { code: undefined, message: undefined };
  const body = result as PayPalErrorBody;
  const details = Array.isArray(body.details) ? body.details : [];
  const first: unknown = details[0];
  const issue = isObject(first) && typeof first.issue === 'string' ? first.issue : undefined;
  const description = isObject(first) && typeof first.description === 'string' ? first.description : undefined;
  const name = typeof body.name === 'string' ? body.name : undefined;
  const message = typeof body.message === 'string' ? body.message : undefined;
  return { code: issue ?? name, message: description ?? message };
}

export function toPayPalProviderError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof ApiError) {
    let result: unknown = error.result;
    if (result === undefined && typeof error.body === 'string') {
      try {
        result = JSON.parse(error.body) as unknown;
      } catch {
        result = undefined;
      }
    }
    const { code, message } = payPalIssue(result);
    return new ProviderError('paypal', code ?? `http_${error.statusCode}`, message ?? error.message, {
      kind: 'api',
      statusCode: error.statusCode,
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  const errorCode = isObject(error) && typeof error.code === 'string' ? error.code : '';
  const timeout = /timeout|ECONNABORTED|ETIMEDOUT/i.test(`${message} ${errorCode}`);
  return new ProviderError('paypal', timeout ? 'timeout' : 'connection_error', message, {
    kind: timeout ? 'timeout' : 'network',
    cause: error,
  });
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
    }
  /** PayPal refused the funding source; the buyer may pick another one at PayPal and try again. */
  | { outcome: 'declined'; code: string; message: string }
  /** The buyer has not approved the order at PayPal yet. */
  | { outcome: 'not_approved'; code: string; message: string };

/** "12.34" → 1234 (exactly two decimals or fewer; anything else is refused). */
export function decimalToMinorUnits(value: string): number {
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(value.trim());
  if (!m) throw new ProviderError('paypal', 'invalid_amount', `PayPal sent an amount we cannot read: ${value}`, { kind: 'api' });
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

type PayPalOrder = Awaited<ReturnType<OrdersController['getOrder']>>['result'];

export class PayPalCheckoutProvider implements CheckoutProvider {
  readonly name = 'paypal' as const;

  constructor(
    private readonly clients: PayPalClients,
    private readonly brandName = 'A Lo Cubano Boulder Fest',
  ) {}

  async createCheckout(input: CreateCheckoutInput): Promise<CreatedCheckout> {
    const money = (cents: number) => ({ currencyCode: input.currency, value: formatMinorUnits(cents) });
    let order: PayPalOrder;
    try {
      const response = await this.clients.ordersController.createOrder({
        paypalRequestId: input.idempotencyKey,
        prefer: 'return=representation',
        body: {
          intent: CheckoutPaymentIntent.Capture,
          purchaseUnits: [
            {
              referenceId: input.orderId,
              customId: input.orderId,
              invoiceId: input.orderNumber,
              description: (input.description ?? `Order ${input.orderNumber}`).slice(0, 127),
              amount: {
                currencyCode: input.currency,
                value: formatMinorUnits(input.totalCents),
                breakdown: { itemTotal: money(input.totalCents) },
              },
              items: input.lines.map((line) => ({
                name: line.name.slice(0, 127),
                sku: line.sku,
                unitAmount: money(line.unitAmountCents),
                quantity: String(line.quantity),
                category: ItemCategory.DigitalGoods,
                ...(line.description ? { description: line.description.slice(0, 127) } : {}),
              })),
            },
          ],
          paymentSource: {
            paypal: {
              emailAddress: input.customerEmail,
              experienceContext: {
                brandName: this.brandName,
                returnUrl: input.successUrl,
                cancelUrl: input.cancelUrl,
              },
            },
          },
        },
      });
      order = response.result;
    } catch (error) {
      throw toPayPalProviderError(error);
    }
    const link = order.links?.find((l) => l.rel === 'payer-action') ?? order.links?.find((l) => l.rel === 'approve');
    if (!order.id || !link) {
      throw new ProviderError('paypal', 'missing_approve_link', 'PayPal returned an order without an approval link', {
        kind: 'api',
      });
    }
    return { sessionId: order.id, checkoutUrl: link.href };
  }

  /** PayPal has no "expire" for an unpaid order: it simply cannot be captured once our hold is gone. */
  async expireCheckout(): Promise<ExpireCheckoutResult> {
    return 'already_closed';
  }

  /** Captures an approved order. `requestId` makes a retried capture return the first one's answer. */
  async captureOrder(paypalOrderId: string, requestId: string): Promise<PayPalCaptureResult> {
    let order: PayPalOrder;
    try {
      const response = await this.clients.ordersController.captureOrder({
        id: paypalOrderId,
        paypalRequestId: requestId,
        prefer: 'return=representation',
      });
      order = response.result;
    } catch (error) {
      const mapped = toPayPalProviderError(error);
      if (mapped.code === 'ORDER_ALREADY_CAPTURED') return await this.readCapture(paypalOrderId);
      if (
        mapped.code === 'INSTRUMENT_DECLINED' ||
        mapped.code === 'PAYER_ACTION_REQUIRED' ||
        mapped.code === 'TRANSACTION_REFUSED'
      ) {
        return { outcome: 'declined', code: mapped.code, message: mapped.message };
      }
      if (mapped.code === 'ORDER_NOT_APPROVED') return { outcome: 'not_approved', code: mapped.code, message: mapped.message };
      throw mapped;
    }
    return this.captureFrom(order);
  }

  private async readCapture(paypalOrderId: string): Promise<PayPalCaptureResult> {
    try {
      const response = await this.clients.ordersController.getOrder({ id: paypalOrderId });
      return this.captureFrom(response.result);
    } catch (error) {
      throw toPayPalProviderError(error);
    }
  }

  private captureFrom(order: PayPalOrder): PayPalCaptureResult {
    const unit = order.purchaseUnits?.[0];
    const capture = unit?.payments?.captures?.[0];
    if (!capture?.id || !capture.amount) {
      if (order.status === OrderStatus.Approved || order.status === OrderStatus.Created) {
        return { outcome: 'not_approved', code: 'ORDER_NOT_CAPTURED', message: 'The order has no capture yet' };
      }
      throw new ProviderError('paypal', 'missing_capture', 'PayPal answered without a capture', { kind: 'api' });
    }
    const status = String(capture.status ?? 'UNKNOWN');
    if (status === 'DECLINED' || status === 'FAILED') {
      return { outcome: 'declined', code: `CAPTURE_${status}`, message: 'PayPal declined the capture' };
    }
    return {
      outcome: 'captured',
      captureId: capture.id,
      captureStatus: status,
      amountCents: decimalToMinorUnits(capture.amount.value),
      currency: capture.amount.currencyCode,
      customId: capture.customId ?? unit?.customId ?? unit?.referenceId,
    };
  }
}
