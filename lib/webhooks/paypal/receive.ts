import type { Actor } from '../../db/models/audit-log.js';
import { type ReceiveResult, receiveWebhookEvent } from '../inbox.js';
import { confirmPayPalEventWithProvider } from './confirm-event.js';
import { verifyPayPalWebhook } from './verify.js';

export interface PayPalDelivery {
  /** The raw body, exactly as received (the signature covers these bytes). */
  raw: string;
  /** The delivery's headers: PayPal signs with paypal-transmission-id/-time/-sig, paypal-cert-url and paypal-auth-algo. */
  signatureHeaders: Headers;
  /** Who delivered (the request's ip, user agent, request id); its id becomes `<provider>:<event id>`. */
  actor: Actor;
}

/** A PayPal delivery: verify → store → apply. The route reads the body (lib/http); nothing HTTP here. */
export async function receivePayPalWebhook(delivery: PayPalDelivery): Promise<ReceiveResult> {
  const event = await verifyPayPalWebhook(delivery.raw, delivery.signatureHeaders);
  await confirmPayPalEventWithProvider(event.type, event.payload);
  return await receiveWebhookEvent(
    { provider: 'paypal', providerEventId: event.id, eventType: event.type, payload: event.payload },
    { ...delivery.actor, type: 'provider', id: `paypal:${event.id}` },
  );
}
