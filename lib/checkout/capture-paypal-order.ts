import { db, transaction } from '../db/client.js';
import type { Actor } from '../db/models/audit-log.js';
import { listPaymentsForOrder, type Payment } from '../db/models/payments.js';
import { AppError } from '../errors.js';
import { log } from '../log.js';
import { type FinalizePaymentInput, finalizeOrderPayment } from '../payments/finalize-order.js';
import { markPaymentProcessingInTx } from '../payments/mark-payment-processing.js';
import { recordPaymentDeclineInTx } from '../payments/record-payment-decline.js';
import { isHolding, isPaid } from '../payments/state-machine.js';
import { type PayPalCaptureResult, ProviderError } from '../providers/checkout-provider.js';
import { getPayPalCheckoutProvider } from '../providers/index.js';
import { buildOrderView, findOrderForBuyer, orderNotFound, type OrderView } from './get-order-for-buyer.js';

/**
 * POST /api/payments/paypal-capture: the buyer is back from PayPal having approved the order. We
 * capture it (PayPal-Request-Id `capture-<paypalOrderId>`, the same id the CHECKOUT.ORDER.APPROVED
 * webhook uses, so the browser return and the webhook racing each other get ONE capture) and
 * complete the order through finalizeOrderPayment (which does nothing when the webhook won).
 *
 * Outcomes: `captured` with the order view once the money is captured (whatever finalize then
 * decided: the view's status tells), `pending` when PayPal holds the capture as PENDING (the webhook
 * completes it); errors PAYMENT_DECLINED (buyer may choose another funding source at checkoutUrl),
 * UNPROCESSABLE when the order was not approved yet, CONFLICT when the order has ended,
 * PROVIDER_UNAVAILABLE when PayPal is unavailable (nothing changed; retrying is safe).
 */

export function payPalCaptureRequestId(paypalOrderId: string): string {
  return `capture-${paypalOrderId}`;
}

/** What a completed PayPal capture gives finalize: the same from the browser return and from the webhook. */
export function payPalCaptureFinalizeInput(
  orderId: string,
  paypalOrderId: string,
  result: Extract<PayPalCaptureResult, { outcome: 'captured' }>,
  actor: Actor,
): FinalizePaymentInput {
  return {
    orderId,
    provider: 'paypal',
    providerSessionId: paypalOrderId,
    providerPaymentId: result.captureId,
    amountCents: result.amountCents,
    currency: result.currency,
    methodType: 'paypal',
    fee: result.fee && { ...result.fee, providerRef: result.captureId },
    actor,
  };
}

export interface CapturePayPalInput {
  orderId: string;
  accessToken: string | undefined;
  actor: Actor;
}

export interface CapturePayPalResult {
  /** `captured`: the money is taken (the view's status tells what finalize decided); `pending`: PayPal holds the capture as PENDING and its webhook completes it. */
  capture: 'captured' | 'pending';
  order: OrderView;
}

function checkoutPayment(payments: Payment[]): Payment | undefined {
  return payments.find((p) => p.provider === 'paypal' && p.providerSessionId !== null);
}

/** A PayPal refusal of the capture: recorded like the webhook's (payment_declined), the hold stays. */
async function recordDecline(orderId: string, code: string, message: string, paypalOrderId: string, actor: Actor): Promise<void> {
  await transaction((tx) =>
    recordPaymentDeclineInTx(
      tx,
      orderId,
      { provider: 'paypal', code, message, providerEventId: `capture:${paypalOrderId}` },
      actor,
    ),
  );
}

export async function capturePayPalOrder(input: CapturePayPalInput): Promise<CapturePayPalResult> {
  const order = await findOrderForBuyer(input.orderId, input.accessToken);
  if (!order) throw orderNotFound();
  if (order.provider !== 'paypal') throw new AppError('UNPROCESSABLE', 'This order is not paid with PayPal');
  if (isPaid(order.status)) return { capture: 'captured', order: await buildOrderView(db, order) };
  if (!isHolding(order.status)) {
    throw new AppError('CONFLICT', `This order has ended (${order.status}); please start a new checkout`, {
      details: { status: order.status },
    });
  }
  const payment = checkoutPayment(await listPaymentsForOrder(db, order.id));
  const paypalOrderId = payment?.providerSessionId;
  if (!payment || !paypalOrderId) throw new AppError('CONFLICT', 'This order has no PayPal checkout to capture');

  let result: PayPalCaptureResult;
  try {
    result = await (await getPayPalCheckoutProvider()).captureOrder(paypalOrderId, payPalCaptureRequestId(paypalOrderId));
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    log.warn('paypal capture failed', { orderId: order.id, code: error.code, kind: error.kind });
    if (error.refused) {
      await recordDecline(order.id, error.code, error.message, paypalOrderId, input.actor);
      throw new AppError('UNPROCESSABLE', 'PayPal refused to capture this order', { details: { providerCode: error.code } });
    }
    throw new AppError('PROVIDER_UNAVAILABLE', 'PayPal is not available right now; nothing was captured, please try again', {
      details: { provider: 'paypal' },
      cause: error,
    });
  }

  if (result.outcome === 'declined') {
    await recordDecline(order.id, result.code, result.message, paypalOrderId, input.actor);
    throw new AppError('PAYMENT_DECLINED', 'PayPal declined this payment method; choose another one at PayPal', {
      details: { providerCode: result.code, checkoutUrl: payment.checkoutUrl },
    });
  }
  if (result.outcome === 'not_approved') {
    throw new AppError('UNPROCESSABLE', 'The payment has not been approved at PayPal yet', {
      details: { providerCode: result.code, checkoutUrl: payment.checkoutUrl },
    });
  }
  if (result.customId !== undefined && result.customId !== order.id) {
    log.warn('paypal capture carries another order id', { orderId: order.id, customId: result.customId });
  }
  if (result.captureStatus === 'PENDING') {
    await transaction((tx) =>
      markPaymentProcessingInTx(
        tx,
        order.id,
        { providerSessionId: paypalOrderId, providerPaymentId: result.captureId },
        input.actor,
      ),
    );
    const fresh = await findOrderForBuyer(order.id, input.accessToken);
    return { capture: 'pending', order: await buildOrderView(db, fresh ?? order) };
  }
  const finalized = await finalizeOrderPayment(payPalCaptureFinalizeInput(order.id, paypalOrderId, result, input.actor));
  if (finalized.outcome !== 'completed' && finalized.outcome !== 'already_final') {
    // Money taken but the order needs staff (mismatch) or a refund (late/duplicate): the
    // PAYMENT.CAPTURE.COMPLETED webhook runs the same finalize and issues that refund.
    log.warn('paypal capture finalized with attention', { orderId: order.id, outcome: finalized.outcome });
  }
  const fresh = await findOrderForBuyer(order.id, input.accessToken);
  return { capture: 'captured', order: await buildOrderView(db, fresh ?? order) };
}
