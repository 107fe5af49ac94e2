import { payPalCaptureFinalizeInput, payPalCaptureRequestId } from '../../checkout/capture-paypal-order.js';
import { db, transaction } from '../../db/client.js';
import type { Actor } from '../../db/models/audit-log.js';
import { findOrderById } from '../../db/models/orders.js';
import { AppError } from '../../errors.js';
import { isPaid } from '../../payments/state-machine.js';
import { getPayPalCheckoutProvider } from '../../providers/index.js';
import { finalizeFromEvent } from '../order-effects.js';
import { markPaymentProcessingInTx } from '../../payments/mark-payment-processing.js';
import { recordPaymentDeclineInTx } from '../../payments/record-payment-decline.js';
import type { FollowUp } from '../types.js';

/**
 * Follow-up of CHECKOUT.ORDER.APPROVED: the buyer approved at PayPal but may have closed the tab
 * before our return page captured. Capture through the checkout's own PayPal provider with the same
 * PayPal-Request-Id the browser return uses (`capture-<paypalOrderId>`), so the two racing each other
 * get one capture (an order already captured is read back), then apply it with finalize.
 */
export async function captureApprovedPayPalOrder(input: {
  orderId: string;
  paypalOrderId: string;
  actor: Actor;
}): Promise<FollowUp[]> {
  const order = await findOrderById(db, input.orderId);
  if (!order || isPaid(order.status)) return [];
  const result = await (await getPayPalCheckoutProvider()).captureOrder(
    input.paypalOrderId,
    payPalCaptureRequestId(input.paypalOrderId),
  );
  if (result.outcome === 'not_approved') {
    throw new AppError('CONFLICT', `PayPal order ${input.paypalOrderId} is not capturable yet (${result.code})`);
  }
  return await transaction(async (tx) => {
    if (result.outcome === 'declined') {
      // Same as the browser return: the buyer may choose another funding source; the hold stays.
      await recordPaymentDeclineInTx(
        tx,
        input.orderId,
        { provider: 'paypal', code: result.code, message: result.message, providerEventId: `capture:${input.paypalOrderId}` },
        input.actor,
      );
      return [];
    }
    if (result.captureStatus === 'PENDING') {
      await markPaymentProcessingInTx(
        tx,
        input.orderId,
        { providerSessionId: input.paypalOrderId, providerPaymentId: result.captureId },
        input.actor,
      );
      return [];
    }
    const outcome = await finalizeFromEvent(
      tx,
      payPalCaptureFinalizeInput(input.orderId, input.paypalOrderId, result, input.actor),
    );
    return outcome.followUps ?? [];
  });
}
