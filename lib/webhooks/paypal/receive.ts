import { readText } from '../../http/body.js';
import { actorFrom, type RequestContext } from '../../http/handler.js';
import { type ReceiveResult, receiveWebhookEvent } from '../inbox.js';
import { WEBHOOK_MAX_BODY_BYTES } from '../types.js';
import { confirmPayPalEventWithProvider } from './confirm-event.js';
import { verifyPayPalWebhook } from './verify.js';

/** POST /api/webhooks/paypal: raw body → verify → store → apply. */
export async function receivePayPalWebhook(ctx: RequestContext): Promise<ReceiveResult> {
  const raw = await readText(ctx, WEBHOOK_MAX_BODY_BYTES);
  const event = await verifyPayPalWebhook(raw, ctx.request.headers);
  await confirmPayPalEventWithProvider(event.type, event.payload);
  return await receiveWebhookEvent(
    { provider: 'paypal', providerEventId: event.id, eventType: event.type, payload: event.payload },
    actorFrom(ctx, 'provider', `paypal:${event.id}`),
  );
}
