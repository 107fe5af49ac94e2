import { ConfigError, getConfig } from '../../config.js';
import { AppError } from '../../errors.js';
import { log } from '../../log.js';
import { allowedPayPalCertOrigins as certOrigins, trustedPayPalRoots } from '../../providers/paypal-cert-trust.js';
import { verifyWithPayPalPostback } from '../../providers/paypal-verify-postback.js';
import { createCertificateFetcher, verifyPayPalWebhookSignature } from '../../providers/paypal-webhook-signature.js';
import { paypalEventSchema } from './objects.js';

/** Exact origins PayPal certificates may come from in this deployment (lib/providers/paypal-cert-trust.ts). */
export function allowedPayPalCertOrigins(config = getConfig()): string[] {
  return certOrigins({ isProduction: config.isProduction, apiBase: config.paypal.apiBase });
}

/** One certificate cache per warm function instance (24 h, 20 entries; failures not cached). */
let fetchCertificate: ((url: string) => Promise<string>) | undefined;

export interface VerifiedPayPalEvent {
  id: string;
  type: string;
  payload: Record<string, unknown>;
}

/**
 * Verifies a PayPal delivery offline: RSA-SHA256 over `transmissionId|transmissionTime|webhookId|crc32(rawBody)`
 * with the certificate at PAYPAL-CERT-URL (allowed hosts only, cached). A bad or missing signature is
 * a 400 and nothing is stored; a certificate we could not download is a 502 (PayPal retries).
 */
export async function verifyPayPalWebhook(rawBody: string, headers: Headers): Promise<VerifiedPayPalEvent> {
  const config = getConfig();
  const webhookId = config.paypal.webhookId;
  if (!webhookId) throw new ConfigError('PAYPAL_WEBHOOK_ID is not set');
  if (config.paypalWebhookVerification === 'postback') {
    let verified: boolean;
    try {
      verified = await verifyWithPayPalPostback({ rawBody, headers, webhookId, config });
    } catch (error) {
      log.warn('paypal verify-webhook-signature postback failed', { error: String(error) });
      throw new AppError('PROVIDER_UNAVAILABLE', 'PayPal could not verify the signature; retry later');
    }
    if (!verified) throw new AppError('WEBHOOK_SIGNATURE_INVALID', 'The PayPal signature could not be verified');
    return parseVerifiedEvent(rawBody);
  }
  fetchCertificate ??= createCertificateFetcher();
  const result = await verifyPayPalWebhookSignature({
    headers,
    rawBody,
    webhookId,
    fetchCertificate,
    allowedCertOrigins: allowedPayPalCertOrigins(config),
    trustedRoots: trustedPayPalRoots({ isProduction: config.isProduction, apiBase: config.paypal.apiBase }),
  });
  if (!result.ok) {
    log.warn('paypal webhook refused', { code: result.code });
    if (result.code === 'certificate_fetch_failed') {
      throw new AppError('PROVIDER_UNAVAILABLE', 'The PayPal signing certificate could not be fetched; retry later');
    }
    throw new AppError('WEBHOOK_SIGNATURE_INVALID', 'The PayPal signature could not be verified');
  }
  return parseVerifiedEvent(rawBody);
}

function parseVerifiedEvent(rawBody: string): VerifiedPayPalEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody);
  } catch {
    throw new AppError('INVALID_JSON', 'The event is not valid JSON');
  }
  const event = paypalEventSchema.safeParse(parsed);
  if (!event.success) throw new AppError('VALIDATION_ERROR', 'The event has no id, event_type or resource');
  return { id: event.data.id, type: event.data.event_type, payload: parsed as Record<string, unknown> };
}
