import { finalizeFromEvent } from '../order-effects.js';
import type { EventHandler } from '../types.js';
import { ignored } from '../types.js';
import { captureSchema, linkedId, minorUnits, resourceOf } from './objects.js';
import { resolvePayPalOrderId } from './resolve.js';

/** PAYMENT.CAPTURE.COMPLETED: money captured → finalize (the same function the browser return uses). */
export const paymentCaptureCompleted: EventHandler = async (tx, payload, { actor }) => {
  const capture = resourceOf(payload, captureSchema);
  const paypalOrderId = capture.supplementary_data?.related_ids?.order_id ?? linkedId(capture.links, 'up', 'orders');
  const orderId = await resolvePayPalOrderId(tx, {
    customId: capture.custom_id,
    invoiceId: capture.invoice_id,
    paypalOrderId,
    captureId: capture.id,
  });
  if (!orderId) return ignored('No matching order');
  return await finalizeFromEvent(tx, {
    orderId,
    provider: 'paypal',
    providerSessionId: paypalOrderId ?? undefined,
    providerPaymentId: capture.id,
    amountCents: minorUnits(capture.amount),
    currency: capture.amount.currency_code,
    actor,
  });
};
