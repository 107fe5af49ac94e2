import { actorFrom, type RequestContext } from '../../http/handler.js';
import { readText } from '../../http/body.js';
import { type ReceiveResult, receiveWebhookEvent } from '../inbox.js';
import { WEBHOOK_MAX_BODY_BYTES } from '../types.js';
import { verifyStripeWebhook } from './verify.js';

/** POST /api/webhooks/stripe: raw body → verify → store → apply. */
export async function receiveStripeWebhook(ctx: RequestContext): Promise<ReceiveResult> {
  const raw = await readText(ctx, WEBHOOK_MAX_BODY_BYTES);
  const event = verifyStripeWebhook(raw, ctx.request.headers.get('stripe-signature'));
  return await receiveWebhookEvent(
    { provider: 'stripe', providerEventId: event.id, eventType: event.type, payload: event.payload },
    actorFrom(ctx, 'provider', `stripe:${event.id}`),
  );
}
