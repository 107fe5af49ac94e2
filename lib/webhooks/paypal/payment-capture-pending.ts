import { markOrderProcessing } from '../order-effects.js';
import type { EventHandler } from '../types.js';
import { ignored, processed } from '../types.js';
import { captureSchema, linkedId, resourceOf } from './objects.js';
import { resolvePayPalOrderId } from './resolve.js';

/** PAYMENT.CAPTURE.PENDING: captured but not settled (e.g. eCheck, review) → order and payment processing. */
export const paymentCapturePending: EventHandler = async (tx, payload, { actor }) => {
  const capture = resourceOf(payload, captureSchema);
  const paypalOrderId = capture.supplementary_data?.related_ids?.order_id ?? linkedId(capture.links, 'up', 'orders');
  const orderId = await resolvePayPalOrderId(tx, {
    customId: capture.custom_id,
    invoiceId: capture.invoice_id,
    paypalOrderId,
    captureId: capture.id,
  });
  if (!orderId) return ignored('No matching order');
  await markOrderProcessing(tx, orderId, { providerSessionId: paypalOrderId ?? undefined, providerPaymentId: capture.id }, actor);
  return processed();
};
