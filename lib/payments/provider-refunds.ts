import type { Provider } from '../db/models/orders.js';
import type { RefundStatus } from '../db/models/refunds.js';
import { ConfigError } from '../config.js';
import { AppError } from '../errors.js';
import { getPayPalClients, getStripeClient } from '../providers/index.js';
import { formatMinorUnits, parseDecimalAmount } from '../money.js';

/**
 * Refunds at the provider. Called only outside database transactions. The idempotency key makes a
 * retried call (after a timeout, a crash, a cron retry) return the same refund instead of a second one.
 */

export interface ProviderRefundRequest {
  provider: Provider;
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
  /** Stripe refund reason (duplicate | requested_by_customer | fraudulent). */
  stripeReason?: 'duplicate' | 'requested_by_customer';
  noteToPayer?: string;
}

export interface ProviderRefundResult {
  providerRefundId: string;
  status: RefundStatus;
  amountCents: number;
}

/** Refund clients retry network errors (safe: every refund call carries its idempotency key). */
const stripe = () => getStripeClient('refund');
const paypal = () => getPayPalClients('refund');

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

export async function refundAtProvider(request: ProviderRefundRequest): Promise<ProviderRefundResult> {
  try {
    if (request.provider === 'stripe') {
      const client = await stripe();
      const refund = await client.refunds.create(
        {
          payment_intent: request.providerPaymentId,
          ...(request.amountCents !== undefined ? { amount: request.amountCents } : {}),
          ...(request.stripeReason ? { reason: request.stripeReason } : {}),
          metadata: {
            refund_id: request.refundId,
            order_id: request.orderId,
            ...(request.orderNumber ? { order_number: request.orderNumber } : {}),
          },
        },
        { idempotencyKey: request.idempotencyKey },
      );
      return { providerRefundId: refund.id, status: mapStripeRefundStatus(refund.status), amountCents: refund.amount };
    }
    const { paymentsController } = await paypal();
    const { result } = await paymentsController.refundCapturedPayment({
      captureId: request.providerPaymentId,
      paypalRequestId: request.idempotencyKey,
      prefer: 'return=representation',
      body: {
        ...(request.amountCents !== undefined
          ? { amount: { currencyCode: request.currency.toUpperCase(), value: formatMinorUnits(request.amountCents) } }
          : {}),
        customId: request.refundId,
        ...(request.orderNumber ? { invoiceId: `${request.orderNumber}-R-${request.refundId.slice(0, 8)}` } : {}),
        ...(request.noteToPayer ? { noteToPayer: request.noteToPayer } : {}),
      },
    });
    if (!result.id) throw new Error('PayPal refund answer has no id');
    const value = result.amount?.value;
    return {
      providerRefundId: result.id,
      status: mapPayPalRefundStatus(result.status),
      amountCents: (value ? parseDecimalAmount(value) : undefined) ?? request.amountCents ?? 0,
    };
  } catch (error) {
    if (error instanceof ConfigError || error instanceof AppError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new ProviderRefundError(`${request.provider} refund failed: ${message.slice(0, 300)}`, providerRefused(error), error);
  }
}

/**
 * A failed provider refund call. `refused`: the provider answered with a 4xx, so it certainly made no
 * refund; otherwise (time-out, network, 5xx) the refund may have been made and only its answer lost.
 */
export class ProviderRefundError extends AppError {
  readonly refused: boolean;

  constructor(message: string, refused: boolean, cause: unknown) {
    super('PROVIDER_UNAVAILABLE', message, { cause });
    this.refused = refused;
  }
}

function providerRefused(error: unknown): boolean {
  const status = typeof error === 'object' && error !== null ? (error as { statusCode?: unknown }).statusCode : undefined;
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 408;
}

/** Marks a refund our own call could not confirm; only such a failure may later be turned into success by the provider. */
export const UNCONFIRMED_REFUND_PREFIX = 'unconfirmed: ';
