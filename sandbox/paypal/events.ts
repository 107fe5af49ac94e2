import { sign as cryptoSign } from 'node:crypto';
import { EventLog, randomString, type StoredEvent, UPPER_ALPHANUMERIC, type WebhookDelivery } from '../http-kit.js';
import { isoSeconds } from './helpers.js';
import type { PayPalObject, PayPalSignatureHeaders, PayPalSignOptions } from './types.js';
import { randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { PayPalState } from './state.js';

/** Events and webhooks: the event log, event envelopes, the RSA signature and the cert URL, delivery to the app. */
export function createEvents(state: PayPalState) {
  const { now, webhookTimeoutMs, privateKey } = state;

  const events = new EventLog({ name: 'paypal', serialize: (event) => JSON.stringify(event), send: sendStored });

  function buildEvent(eventType: string, resourceType: string, resource: PayPalObject, summary?: string): PayPalObject {
    const id = `WH-${randomString(17, UPPER_ALPHANUMERIC)}-${randomString(17, UPPER_ALPHANUMERIC)}`;
    const event: PayPalObject = {
      id,
      event_version: '1.0',
      create_time: now().toISOString(),
      resource_type: resourceType,
      resource_version: '2.0',
      event_type: eventType,
      summary: summary ?? `${eventType} event`,
      resource,
      links: [
        { href: `${state.publicUrl}/v1/notifications/webhooks-events/${id}`, rel: 'self', method: 'GET' },
        { href: `${state.publicUrl}/v1/notifications/webhooks-events/${id}/resend`, rel: 'resend', method: 'POST' },
      ],
    };
    events.record(event);
    return event;
  }

  function signPayload(rawBody: string, signOptions: PayPalSignOptions = {}): PayPalSignatureHeaders {
    const id = signOptions.webhookId ?? state.webhookId;
    if (!id) throw new Error('paypal sandbox: no webhook id (pass webhookId or options.webhookId)');
    const transmissionId = signOptions.transmissionId ?? randomUUID();
    const transmissionTime = isoSeconds(signOptions.transmissionTime ?? now());
    const checksum = crc32(Buffer.from(rawBody, 'utf8'));
    const message = `${transmissionId}|${transmissionTime}|${id}|${checksum}`;
    const signature = cryptoSign('sha256', Buffer.from(message, 'utf8'), privateKey).toString('base64');
    return {
      'PAYPAL-TRANSMISSION-ID': transmissionId,
      'PAYPAL-TRANSMISSION-TIME': transmissionTime,
      'PAYPAL-TRANSMISSION-SIG': signature,
      'PAYPAL-CERT-URL': state.certUrl,
      'PAYPAL-AUTH-ALGO': 'SHA256withRSA',
    };
  }

  async function sendStored(stored: StoredEvent): Promise<WebhookDelivery> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': 'PayPal/AUHD-214.0-58483442',
      Accept: '*/*',
    };
    if (state.webhookId) Object.assign(headers, signPayload(stored.payload));
    return state.server.deliver({
      url: state.webhookUrl,
      eventId: String(stored.event.id),
      eventType: String(stored.event.event_type),
      payload: stored.payload,
      headers,
      timeoutMs: webhookTimeoutMs,
    });
  }

  function emitInBackground(eventType: string, resourceType: string, resource: PayPalObject, summary: string): void {
    state.server.track(events.deliver(buildEvent(eventType, resourceType, resource, summary)));
  }

  return { buildEvent, emitInBackground, events, sendStored, signPayload };
}

export type PayPalEvents = ReturnType<typeof createEvents>;
