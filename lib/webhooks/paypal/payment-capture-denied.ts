import { failPaymentInTx } from '../../payments/fail-payment.js';
import type { EventHandler } from '../types.js';
import { ignored, processed } from '../types.js';
import { captureSchema, eventIdOf, resourceOf } from './objects.js';
import { resolveCaptureOrder } from './resolve.js';

/** PAYMENT.CAPTURE.DENIED and PAYMENT.CAPTURE.DECLINED: order and payment failed, hold released. */
export const paymentCaptureDenied: EventHandler = async (tx, payload, { actor, event }) => {
  const capture = resourceOf(payload, captureSchema);
  const { orderId } = await resolveCaptureOrder(tx, capture);
  if (!orderId) return ignored('No matching order');
  await failPaymentInTx(
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
