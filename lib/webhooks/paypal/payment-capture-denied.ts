import { failOrderFromEvent } from '../order-effects.js';
import type { EventHandler } from '../types.js';
import { ignored, processed } from '../types.js';
import { captureSchema, eventIdOf, linkedId, resourceOf } from './objects.js';
import { resolvePayPalOrderId } from './resolve.js';

/** PAYMENT.CAPTURE.DENIED and PAYMENT.CAPTURE.DECLINED: order and payment failed, hold released. */
export const paymentCaptureDenied: EventHandler = async (tx, payload, { actor, event }) => {
  const capture = resourceOf(payload, captureSchema);
  const paypalOrderId = capture.supplementary_data?.related_ids?.order_id ?? linkedId(capture.links, 'up', 'orders');
  const orderId = await resolvePayPalOrderId(tx, {
    customId: capture.custom_id,
    invoiceId: capture.invoice_id,
    paypalOrderId,
    captureId: capture.id,
  });
  if (!orderId) return ignored('No matching order');
  await failOrderFromEvent(
    tx,
    orderId,
    {
      provider: 'paypal',
      code: event.eventType === 'PAYMENT.CAPTURE.DECLINED' ? 'capture_declined' : 'capture_denied',
      declineCode: capture.status_details?.reason ?? null,
      message: `PayPal capture ${capture.status}`,
      providerEventId: eventIdOf(payload),
      providerPaymentId: capture.id,
    },
    actor,
  );
  return processed();
};
