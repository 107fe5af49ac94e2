import { capturePayPalOrder } from '../../lib/checkout/capture-paypal-order.js';
import { createCheckoutSession } from '../../lib/checkout/create-checkout-session.js';
import { checkoutSessionRequestSchema } from '../../lib/checkout/schemas.js';
import { db } from '../../lib/db/client.js';
import type { PlaceCheckoutOrderInput } from '../../lib/db/queries/checkout.js';

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

/** The catalogue versions checkout_place_order checks (migration 0100), as checkout's first read hands them over. */
export interface PlaceOrderCatalog {
  eventId: string;
  eventVersion: string;
  typeId: string;
  typeVersion: string;
}

/**
 * A checkout_place_order input (lib/db/queries/checkout.ts): one ticket at 45.00 USD, held an hour, for a new
 * buyer `n` (their own email and client address), no Idempotency-Key.
 */
export function placeOrderInput(catalog: PlaceOrderCatalog, n: number | string): PlaceCheckoutOrderInput {
  const email = `place${n}@plans.example`;
  return {
    eventId: catalog.eventId,
    eventVersion: catalog.eventVersion,
    lines: [{ ticketTypeId: catalog.typeId, quantity: 1, catalogVersion: catalog.typeVersion }],
    order: {
      currency: 'USD',
      subtotalCents: 4500,
      discountCents: 0,
      totalCents: 4500,
      slidingScalePercent: 0,
      provider: 'stripe',
      accessTokenHash: 'b'.repeat(64),
      holdExpiresAt: new Date(Date.now() + 3_600_000),
      metadata: {},
      idempotencyKeyHash: null,
    },
    buyer: {
      email,
      firstName: 'New',
      lastName: 'Buyer',
      phone: null,
      clientKey: `10.1.${n}`,
      emailKey: email,
      capPerClient: 10,
      capPerEmail: 10,
    },
    items: [
      {
        ticketTypeId: catalog.typeId,
        unitPriceCents: 4500,
        discountCents: 0,
        priceCents: 4500,
        currency: 'USD',
        attendeeFirstName: null,
        attendeeLastName: null,
        attendeeEmail: null,
      },
    ],
    audit: { actorType: 'buyer', actorId: null, ip: null, userAgent: null, requestId: null, newValues: {} },
    claim: null,
  };
}
