import Stripe from 'stripe';
import { ConfigError, getConfig } from '../../config.js';
import { AppError } from '../../errors.js';
import { stripeEventSchema } from './objects.js';

export interface VerifiedStripeEvent {
  id: string;
  type: string;
  /** The whole event as Stripe sent it (what the inbox stores). */
  payload: Record<string, unknown>;
}

/** Stripe's own default, and never 0: a replayed old delivery must fail. */
export const STRIPE_SIGNATURE_TOLERANCE_SECONDS = 300;

/**
 * Verifies a Stripe delivery on its raw body with the stripe SDK, trying every configured secret in
 * turn (STRIPE_WEBHOOK_SECRET is comma-separated so a rolled secret and its successor both work).
 * Any failure (missing header, bad signature, old timestamp, unknown secret) is the same 400.
 */
export function verifyStripeWebhook(
  rawBody: string,
  signatureHeader: string | null,
  secrets: readonly string[] = getConfig().stripe.webhookSecrets,
): VerifiedStripeEvent {
  if (secrets.length === 0) throw new ConfigError('STRIPE_WEBHOOK_SECRET is not set');
  if (!signatureHeader) throw new AppError('WEBHOOK_SIGNATURE_INVALID', 'Missing Stripe-Signature header');
  for (const secret of secrets) {
    let event: unknown;
    try {
      event = Stripe.webhooks.constructEvent(rawBody, signatureHeader, secret, STRIPE_SIGNATURE_TOLERANCE_SECONDS);
    } catch {
      continue;
    }
    const parsed = stripeEventSchema.safeParse(event);
    if (!parsed.success) throw new AppError('VALIDATION_ERROR', 'The event has no id, type or data.object');
    return { id: parsed.data.id, type: parsed.data.type, payload: event as Record<string, unknown> };
  }
  throw new AppError('WEBHOOK_SIGNATURE_INVALID', 'The Stripe signature does not match');
}
