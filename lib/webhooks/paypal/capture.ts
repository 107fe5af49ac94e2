import { db, transaction } from '../../db/client.js';
import type { Actor } from '../../db/models/audit-log.js';
import { findOrderById } from '../../db/models/orders.js';
import { AppError } from '../../errors.js';
import { paypal } from '../../payments/provider-refunds.js';
import { isPaid } from '../../payments/state-machine.js';
import { failOrderFromEvent, finalizeFromEvent, markOrderProcessing } from '../order-effects.js';
import type { FollowUp } from '../types.js';
import { decimalToMinorUnits } from '../../payments/provider-refunds.js';

/**
 * Capturing an approved PayPal order, shared by the CHECKOUT.ORDER.APPROVED webhook (the buyer may
 * have closed the tab before the return page captured) and usable by the browser return. The
 * PayPal-Request-Id is derived from the PayPal order id, so two captures racing each other (or a
 * retried one) get the same capture back; an order captured under another request id answers
 * ORDER_ALREADY_CAPTURED and we read the capture from the order instead.
 */

export function paypalCaptureRequestId(paypalOrderId: string): string {
  return `capture-${paypalOrderId}`;
}

export interface PayPalCaptureResult {
  captureId: string;
  status: string;
  amountCents: number;
  currency: string;
}

function issueOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const result = (error as { result?: { details?: { issue?: string }[]; name?: string } }).result;
  return result?.details?.[0]?.issue ?? result?.name;
}

/** Captures (or finds the capture of) a PayPal order at PayPal. No database work: call it outside transactions. */
export async function capturePayPalOrder(paypalOrderId: string): Promise<PayPalCaptureResult> {
  const { ordersController } = await paypal();
  let order: Awaited<ReturnType<typeof ordersController.getOrder>>['result'];
  try {
    ({ result: order } = await ordersController.captureOrder({
      id: paypalOrderId,
      paypalRequestId: paypalCaptureRequestId(paypalOrderId),
      prefer: 'return=representation',
    }));
  } catch (error) {
    if (issueOf(error) !== 'ORDER_ALREADY_CAPTURED') {
      throw new AppError('PROVIDER_UNAVAILABLE', `PayPal capture failed: ${issueOf(error) ?? (error instanceof Error ? error.message : 'unknown')}`, {
        cause: error,
      });
    }
    ({ result: order } = await ordersController.getOrder({ id: paypalOrderId }));
  }
  const capture = order.purchaseUnits?.[0]?.payments?.captures?.[0];
  if (!capture?.id || !capture.amount) throw new AppError('PROVIDER_UNAVAILABLE', `PayPal order ${paypalOrderId} has no capture`);
  return {
    captureId: capture.id,
    status: capture.status ?? 'PENDING',
    amountCents: decimalToMinorUnits(capture.amount.value),
    currency: capture.amount.currencyCode,
  };
}

/** Follow-up of CHECKOUT.ORDER.APPROVED: capture unless already paid, then apply the capture. */
export async function captureApprovedPayPalOrder(input: { orderId: string; paypalOrderId: string; actor: Actor }): Promise<FollowUp[]> {
  const order = await findOrderById(db, input.orderId);
  if (!order || isPaid(order.status)) return [];
  const capture = await capturePayPalOrder(input.paypalOrderId);
  return await transaction(async (tx) => {
    if (capture.status === 'COMPLETED') {
      const outcome = await finalizeFromEvent(tx, {
        orderId: input.orderId,
        provider: 'paypal',
        providerSessionId: input.paypalOrderId,
        providerPaymentId: capture.captureId,
        amountCents: capture.amountCents,
        currency: capture.currency,
        actor: input.actor,
      });
      return outcome.followUps ?? [];
    }
    if (capture.status === 'PENDING') {
      await markOrderProcessing(tx, input.orderId, { providerSessionId: input.paypalOrderId, providerPaymentId: capture.captureId }, input.actor);
      return [];
    }
    await failOrderFromEvent(
      tx,
      input.orderId,
      {
        provider: 'paypal',
        code: `capture_${capture.status.toLowerCase()}`,
        message: `PayPal capture ${capture.status}`,
        providerEventId: `capture:${capture.captureId}`,
        providerPaymentId: capture.captureId,
      },
      input.actor,
    );
    return [];
  });
}
