import { createHmac } from 'node:crypto';
import { cloneJson, EventLog, randomString, type StoredEvent, type WebhookDelivery } from '../http-kit.js';
import { idFirst } from './helpers.js';
import type { StripeObject, StripeSignOptions } from './types.js';
import type { StripeState } from './state.js';

/** Events and webhooks: the event log, event envelopes (fixture `event`), Stripe-Signature, delivery to the app. */
export function createEvents(state: StripeState) {
  const { templates, nowSeconds, apiVersion, webhookTimeoutMs } = state;

  // Stripe sends events pretty-printed; receivers must verify the raw bytes, not a re-serialization.
  const events = new EventLog({ name: 'stripe', serialize: (event) => JSON.stringify(event, null, 2), send: sendStored });

  function buildEvent(
    type: string,
    object: StripeObject,
    request: { id: string | null; idempotencyKey: string | null } = { id: null, idempotencyKey: null },
  ): StripeObject {
    const event: StripeObject = idFirst(cloneJson(templates.event));
    Object.assign(event, {
      id: `evt_${randomString(24)}`,
      object: 'event',
      api_version: apiVersion,
      created: nowSeconds(),
      data: { object: cloneJson(object) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: request.id, idempotency_key: request.idempotencyKey },
      type,
    });
    events.record(event);
    return event;
  }

  function signPayload(payload: string, signOptions: StripeSignOptions = {}): string {
    const secret = signOptions.secret ?? state.webhookSecret;
    if (!secret) throw new Error('stripe sandbox: no webhook secret (pass webhookSecret or options.secret)');
    const timestamp = signOptions.timestamp ?? nowSeconds();
    const signature = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
    return `t=${timestamp},v1=${signature}`;
  }

  async function sendStored(stored: StoredEvent): Promise<WebhookDelivery> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json; charset=utf-8',
      'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
      'Cache-Control': 'no-cache',
      Accept: '*/*; q=0.5, application/xml',
    };
    if (state.webhookSecret) headers['Stripe-Signature'] = signPayload(stored.payload);
    return state.server.deliver({
      url: state.webhookUrl,
      eventId: String(stored.event.id),
      eventType: String(stored.event.type),
      payload: stored.payload,
      headers,
      timeoutMs: webhookTimeoutMs,
    });
  }

  /** Builds and sends an event in the background (used where Stripe sends events asynchronously). */
  function emitInBackground(
    type: string,
    object: StripeObject,
    request: { id: string | null; idempotencyKey: string | null },
  ): void {
    state.server.track(events.deliver(buildEvent(type, object, request)));
  }

  return { buildEvent, emitInBackground, events, sendStored, signPayload };
}

export type StripeEvents = ReturnType<typeof createEvents>;
