import { capturePayPalOrder } from '../../lib/checkout/capture-paypal-order.js';
import { createCheckoutSession } from '../../lib/checkout/create-checkout-session.js';
import { checkoutSessionRequestSchema } from '../../lib/checkout/schemas.js';
import { db } from '../../lib/db/client.js';

/**
 * A checkout made by the real domain function (as POST /api/payments/checkout-session makes it), with
 * the provider session its payment row records: the Stripe checkout session id or the PayPal order id.
 */
export async function startCheckout(body: Record<string, unknown>, requestId = 'test-checkout') {
  const request = checkoutSessionRequestSchema.parse(body);
  const created = await createCheckoutSession(request, { actor: { type: 'buyer', requestId } });
  const payment = await db.queryOne<{ sessionId: string }>(
    `SELECT provider_session_id AS "sessionId" FROM payments WHERE order_id = $1 ORDER BY created_at DESC LIMIT 1`,
    [created.orderId],
  );
  if (!payment?.sessionId) throw new Error(`checkout did not record a ${request.provider} session id`);
  return { request, created, sessionId: payment.sessionId };
}

/**
 * A PayPal checkout (startCheckout's) paid the buyer's way: approved at the sandbox, then captured on the
 * buyer's return. Throws unless PayPal captured it.
 */
export async function payPalApprovedAndCaptured(
  sandbox: { approve(orderId: string): Promise<{ outcome: string }> },
  checkout: { created: { orderId: string; accessToken: string }; sessionId: string },
) {
  const approved = await sandbox.approve(checkout.sessionId);
  if (approved.outcome !== 'approved') throw new Error(`approve: ${approved.outcome}`);
  const captured = await capturePayPalOrder({
    orderId: checkout.created.orderId,
    accessToken: checkout.created.accessToken,
    actor: { type: 'buyer', id: checkout.created.orderId },
  });
  if (captured.capture !== 'captured') throw new Error(`capture: ${captured.capture}`);
  return captured;
}
