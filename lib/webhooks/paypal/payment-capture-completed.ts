import { finalizeFromEvent } from '../order-effects.js';
import type { EventHandler } from '../types.js';
import { ignored } from '../types.js';
import { captureSchema, feeOf, minorUnits, resourceOf } from './objects.js';
import { resolveCaptureOrder } from './resolve.js';

/** PAYMENT.CAPTURE.COMPLETED: money captured → finalize (the same function the browser return uses). */
export const paymentCaptureCompleted: EventHandler = async (tx, payload, { actor }) => {
  const capture = resourceOf(payload, captureSchema);
  const { orderId, paypalOrderId } = await resolveCaptureOrder(tx, capture);
  if (!orderId) return ignored('No matching order');
  return await finalizeFromEvent(tx, {
    orderId,
    provider: 'paypal',
    providerSessionId: paypalOrderId,
    providerPaymentId: capture.id,
    amountCents: minorUnits(capture.amount),
    currency: capture.amount.currency_code,
    fee: feeOf(capture),
    actor,
  });
};
