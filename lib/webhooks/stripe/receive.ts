import type { Actor } from '../../db/models/audit-log.js';
import { type ReceiveResult, receiveWebhookEvent } from '../inbox.js';
import { verifyStripeWebhook } from './verify.js';

export interface StripeDelivery {
  /** The raw body, exactly as received (the signature covers these bytes). */
  raw: string;
  /** The `Stripe-Signature` header. */
  signature: string | null;
  /** Who delivered (the request's ip, user agent, request id); its id becomes `<provider>:<event id>`. */
  actor: Actor;
}

/** A Stripe delivery: verify → store → apply. The route reads the body (lib/http); nothing HTTP here. */
export async function receiveStripeWebhook(delivery: StripeDelivery): Promise<ReceiveResult> {
  const event = verifyStripeWebhook(delivery.raw, delivery.signature);
  return await receiveWebhookEvent(
    { provider: 'stripe', providerEventId: event.id, eventType: event.type, payload: event.payload },
    { ...delivery.actor, type: 'provider', id: `stripe:${event.id}` },
  );
}
