import type Stripe from 'stripe';
import {
  type CheckoutProvider,
  type CreateCheckoutInput,
  type CreatedCheckout,
  type ExpireCheckoutResult,
  isObject,
  ProviderError,
} from './checkout-provider.js';

/** Stripe Checkout Sessions through the real SDK (loaded on demand by lib/providers/index.ts). */
interface StripeLikeError {
  type?: unknown;
  code?: unknown;
  decline_code?: unknown;
  statusCode?: unknown;
  message?: unknown;
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
