import type Stripe from 'stripe';
import type { Provider } from '../db/models/orders.js';
import type { FinalizePaymentInput } from '../payments/finalize-order.js';
import { parseDecimalAmount } from '../money.js';
import { ProviderError } from '../providers/checkout-provider.js';
import { getPayPalClients, getStripeClient } from '../providers/index.js';

/**
 * What the provider says about one checkout, asked by the stale-payment sweeper:
 *  - Stripe: `checkout.sessions.retrieve(id, { expand: ['payment_intent'] })`;
 *  - PayPal: `getOrder(id)` and its captures.
 * Read-only; errors come back as ProviderError (the sweeper records them and moves on).
 */

export type CheckoutStatus =
  /** Money captured: finalize with these. */
  | ({ state: 'paid' } & Pick<
      FinalizePaymentInput,
      'providerPaymentId' | 'amountCents' | 'currency' | 'methodType' | 'methodBrand' | 'methodLast4'
    >)
  /** Paid with an async method still clearing (Stripe) or a capture PayPal holds as pending. */
  | { state: 'processing'; providerPaymentId: string | undefined }
  /** Stripe: the async payment (e.g. a bank debit) failed after Checkout completed: nothing will be paid. */
  | { state: 'failed'; providerPaymentId: string | undefined; code: string; message: string; declineCode?: string | undefined }
  /** PayPal: the buyer approved, nobody captured. */
  | { state: 'approved' }
  /** Nothing paid and the checkout can no longer be paid (Stripe expired, PayPal VOIDED). */
  | { state: 'expired'; detail: string }
  /** Still open at the provider: the buyer may yet pay. */
  | { state: 'open'; detail: string };

function stripeError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const e = error as { type?: string; code?: string; statusCode?: number; message?: string };
  const network = e.type === 'StripeConnectionError';
  return new ProviderError('stripe', e.code ?? e.type ?? 'unknown', e.message ?? 'Stripe call failed', {
    kind: network ? 'network' : 'api',
    statusCode: e.statusCode,
    cause: error,
  });
}

export async function stripeCheckoutStatus(sessionId: string): Promise<CheckoutStatus> {
  // The refund-purpose client retries network errors and 5xx (this is a read).
  const stripe = await getStripeClient('refund');
  let session: Stripe.Checkout.Session;
  try {
    session = await stripe.checkout.sessions.retrieve(sessionId, { expand: ['payment_intent', 'payment_intent.latest_charge'] });
  } catch (error) {
    throw stripeError(error);
  }
  const intent = session.payment_intent && typeof session.payment_intent === 'object' ? session.payment_intent : null;
  const intentId = typeof session.payment_intent === 'string' ? session.payment_intent : intent?.id;
  if (session.status === 'complete' && (session.payment_status === 'paid' || session.payment_status === 'no_payment_required')) {
    if (!intentId)
      throw new ProviderError('stripe', 'missing_payment_intent', `Paid session ${session.id} has no payment_intent`, {
        kind: 'api',
      });
    const charge = intent?.latest_charge && typeof intent.latest_charge === 'object' ? intent.latest_charge : null;
    const card = charge?.payment_method_details?.card;
    return {
      state: 'paid',
      providerPaymentId: intentId,
      amountCents: session.amount_total ?? 0,
      currency: session.currency ?? '',
      methodType: charge?.payment_method_details?.type,
      methodBrand: card?.brand ?? undefined,
      methodLast4: card?.last4 ?? undefined,
    };
  }
  if (session.status === 'complete') {
    // Checkout completed unpaid: an async method (bank debit) still clearing (`processing`), or it failed (the
    // PaymentIntent went back to requires_payment_method, or was canceled): Stripe's async_payment_failed case.
    if (intent && (intent.status === 'canceled' || intent.status === 'requires_payment_method')) {
      const error = intent.last_payment_error;
      return {
        state: 'failed',
        providerPaymentId: intentId,
        code: 'async_payment_failed',
        message: error?.message ?? `The delayed payment method failed (payment intent ${intent.status})`,
        declineCode: error?.decline_code ?? error?.code ?? undefined,
      };
    }
    return { state: 'processing', providerPaymentId: intentId };
  }
  if (session.status === 'expired') return { state: 'expired', detail: 'session expired' };
  return { state: 'open', detail: `session ${session.status ?? 'open'}` };
}

function paypalError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const e = error as { statusCode?: number; message?: string; result?: { name?: string; details?: { issue?: string }[] } };
  const code = e.result?.details?.[0]?.issue ?? e.result?.name ?? 'connection_error';
  return new ProviderError('paypal', code, e.message ?? 'PayPal call failed', {
    kind: e.statusCode === undefined ? 'network' : 'api',
    statusCode: e.statusCode,
    cause: error,
  });
}

export async function paypalCheckoutStatus(paypalOrderId: string): Promise<CheckoutStatus> {
  const { ordersController } = await getPayPalClients('refund');
  let order: Awaited<ReturnType<typeof ordersController.getOrder>>['result'];
  try {
    order = (await ordersController.getOrder({ id: paypalOrderId })).result;
  } catch (error) {
    throw paypalError(error);
  }
  const captures = (order.purchaseUnits ?? []).flatMap((unit) => unit.payments?.captures ?? []);
  const done = captures.find((c) => c.status === 'COMPLETED' || c.status === 'PARTIALLY_REFUNDED' || c.status === 'REFUNDED');
  if (done?.id && done.amount) {
    const amountCents = parseDecimalAmount(done.amount.value);
    if (amountCents === undefined)
      throw new ProviderError('paypal', 'bad_amount', 'PayPal capture amount is not a decimal', { kind: 'api' });
    return { state: 'paid', providerPaymentId: done.id, amountCents, currency: done.amount.currencyCode, methodType: 'paypal' };
  }
  const pending = captures.find((c) => c.status === 'PENDING');
  if (pending) return { state: 'processing', providerPaymentId: pending.id };
  const status = String(order.status ?? '');
  if (status === 'APPROVED') return { state: 'approved' };
  if (status === 'VOIDED') return { state: 'expired', detail: 'order voided' };
  return { state: 'open', detail: `order ${status || 'unknown'}` };
}

export async function checkoutStatus(provider: Provider, sessionId: string): Promise<CheckoutStatus> {
  return provider === 'stripe' ? await stripeCheckoutStatus(sessionId) : await paypalCheckoutStatus(sessionId);
}
