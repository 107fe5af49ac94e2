import { transaction } from '../../db/client.js';
import { AppError } from '../../errors.js';
import { log } from '../../log.js';
import { getPayPalClients } from '../../providers/index.js';
import { captureSchema } from './objects.js';
import { resolveCaptureOrder } from './resolve.js';

/**
 * Payload verification for the transitions that move money onto our books (issue 18): a signature
 * proves who sent an event, this proves what it says. Before a PAYMENT.CAPTURE.COMPLETED for one of
 * our orders is stored, the capture is fetched from PayPal (through the SDK) and must agree: status
 * COMPLETED, the same amount and currency, the same custom_id (our order id). A disagreement is a 400
 * and nothing is stored; PayPal unreachable is a 502 (PayPal retries the delivery).
 */

export const CONFIRMED_EVENT_TYPES = new Set(['PAYMENT.CAPTURE.COMPLETED']);

interface ProviderCapture {
  status?: string;
  amount?: { currencyCode?: string; value?: string };
  customId?: string;
}

function statusCodeOf(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown })?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

export async function confirmPayPalEventWithProvider(eventType: string, payload: Record<string, unknown>): Promise<void> {
  if (!CONFIRMED_EVENT_TYPES.has(eventType)) return;
  const parsed = captureSchema.safeParse(payload.resource);
  if (!parsed.success) return; // the handler records it as unusable; nothing moves
  const capture = parsed.data;
  const { orderId } = await transaction(async (tx) => await resolveCaptureOrder(tx, capture));
  if (!orderId) return; // not ours: the handler ignores it

  let reported: ProviderCapture;
  try {
    const { paymentsController } = await getPayPalClients('checkout');
    reported = (await paymentsController.getCapturedPayment({ captureId: capture.id })).result as ProviderCapture;
  } catch (error) {
    const status = statusCodeOf(error);
    if (status === 404 || status === 400 || status === 422) {
      log.warn('paypal event refused: capture unknown to PayPal', { captureId: capture.id, status });
      throw mismatch();
    }
    throw new AppError('PROVIDER_UNAVAILABLE', 'PayPal could not confirm the capture; retry later', { cause: error });
  }
  const agrees =
    reported.status === capture.status &&
    reported.amount?.value === capture.amount.value &&
    reported.amount?.currencyCode === capture.amount.currency_code &&
    (capture.custom_id == null || reported.customId === capture.custom_id);
  if (!agrees) {
    log.warn('paypal event refused: capture differs from what PayPal reports', { captureId: capture.id });
    throw mismatch();
  }
}

function mismatch(): AppError {
  return new AppError('WEBHOOK_SIGNATURE_INVALID', 'The PayPal event does not match what PayPal reports');
}
