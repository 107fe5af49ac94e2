import { type Config, ConfigError, getConfig } from '../config.js';
import type { Provider } from '../db/models/orders.js';
import type { RefundStatus } from '../db/models/refunds.js';
import { AppError } from '../errors.js';

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

interface Clients {
  config: Config;
  stripe?: Promise<import('stripe').default>;
  paypal?: Promise<import('../providers/paypal-client.js').PayPalClients>;
}

/** Clients for the current config object (a new config, e.g. in tests, gets new clients). */
let clients: Clients | undefined;

function current(): Clients {
  const config = getConfig();
  if (clients?.config !== config) clients = { config };
  return clients;
}

/**
 * The refund clients: unlike checkout's (one attempt, the buyer retries), refunds retry network
 * errors, which is safe because every refund call carries its idempotency key. Timeouts stay under
 * the functions' 10 s limit; a call cut short is retried by the webhook retry cron with the same key.
 */
async function stripe(): Promise<import('stripe').default> {
  const entry = current();
  const { secretKey, apiBase } = entry.config.stripe;
  if (!secretKey) throw new ConfigError('STRIPE_SECRET_KEY is not set');
  entry.stripe ??= import('../providers/stripe-client.js').then(({ createStripeClient }) =>
    createStripeClient({ secretKey, apiBaseUrl: apiBase, timeoutMs: 8_000, maxNetworkRetries: 2 }),
  );
  return await entry.stripe;
}

async function paypal(): Promise<import('../providers/paypal-client.js').PayPalClients> {
  const entry = current();
  const { clientId, clientSecret, environment, apiBase } = entry.config.paypal;
  if (!clientId || !clientSecret) throw new ConfigError('PAYPAL_CLIENT_ID / PAYPAL_CLIENT_SECRET are not set');
  entry.paypal ??= import('../providers/paypal-client.js').then(({ createPayPalClient }) =>
    createPayPalClient({ clientId, clientSecret, environment, apiBaseUrl: apiBase, timeoutMs: 8_000 }),
  );
  return await entry.paypal;
}

/** Kept for tests written against the earlier API: clients now follow the config object anyway. */
export function resetProviderClientsForTests(): void {
  clients = undefined;
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

/** Minor units from a PayPal decimal string ("12.5", "12.50", "12"), without floating point. */
export function decimalToMinorUnits(value: string): number {
  const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(value.trim());
  if (!match) throw new Error(`Not a two-decimal amount: ${value}`);
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

/** "12.50" from minor units, for PayPal amounts (all our currencies have two decimals). */
function paypalValue(amountCents: number): string {
  return `${Math.floor(amountCents / 100)}.${String(amountCents % 100).padStart(2, '0')}`;
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
          ? { amount: { currencyCode: request.currency.toUpperCase(), value: paypalValue(request.amountCents) } }
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
      amountCents: value ? decimalToMinorUnits(value) : (request.amountCents ?? 0),
    };
  } catch (error) {
    if (error instanceof ConfigError || error instanceof AppError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new AppError('PROVIDER_UNAVAILABLE', `${request.provider} refund failed: ${message.slice(0, 300)}`, { cause: error });
  }
}
