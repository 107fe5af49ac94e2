import { markPaymentProcessingInTx } from '../../payments/mark-payment-processing.js';
import type { EventHandler } from '../types.js';
import { ignored, processed } from '../types.js';
import { captureSchema, resourceOf } from './objects.js';
import { resolveCaptureOrder } from './resolve.js';

/** PAYMENT.CAPTURE.PENDING: captured but not settled (e.g. eCheck, review) → order and payment processing. */
export const paymentCapturePending: EventHandler = async (tx, payload, { actor }) => {
  const capture = resourceOf(payload, captureSchema);
  const { orderId, paypalOrderId } = await resolveCaptureOrder(tx, capture);
  if (!orderId) return ignored('No matching order');
  await markPaymentProcessingInTx(tx, orderId, { providerSessionId: paypalOrderId, providerPaymentId: capture.id }, actor);
  return processed();
};
