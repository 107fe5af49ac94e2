/**
 * Starts both local provider sandboxes for the dev server, tests and benchmarks (never deployed).
 */
import { type PayPalSandbox, startPayPalSandbox } from './paypal-sandbox.js';
import { type StripeSandbox, startStripeSandbox } from './stripe-sandbox.js';

export interface SandboxesOptions {
  /** Base URL of the app that receives webhooks, e.g. http://127.0.0.1:3000. */
  appUrl: string;
  /** Stripe endpoint secret (`whsec_...`) the app verifies with. */
  stripeWebhookSecret: string;
  /** PayPal webhook id the app verifies with. */
  paypalWebhookId: string;
  /** 0 or omitted: a free port. */
  stripePort?: number;
  paypalPort?: number;
  /** Webhook paths on the app (defaults /api/webhooks/stripe and /api/webhooks/paypal). */
  stripeWebhookPath?: string;
  paypalWebhookPath?: string;
  /** Interface to bind both servers to (default 127.0.0.1). */
  host?: string;
}

export interface Sandboxes {
  stripe: StripeSandbox;
  paypal: PayPalSandbox;
  /** Closes both. */
  close(): Promise<void>;
}

export const DEFAULT_STRIPE_WEBHOOK_PATH = '/api/webhooks/stripe';
export const DEFAULT_PAYPAL_WEBHOOK_PATH = '/api/webhooks/paypal';

function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

export async function startSandboxes(options: SandboxesOptions): Promise<Sandboxes> {
  const host = options.host ?? '127.0.0.1';
  const stripe = await startStripeSandbox({
    port: options.stripePort ?? 0,
    host,
    webhookUrl: joinUrl(options.appUrl, options.stripeWebhookPath ?? DEFAULT_STRIPE_WEBHOOK_PATH),
    webhookSecret: options.stripeWebhookSecret,
  });
  let paypal: PayPalSandbox;
  try {
    paypal = await startPayPalSandbox({
      port: options.paypalPort ?? 0,
      host,
      webhookUrl: joinUrl(options.appUrl, options.paypalWebhookPath ?? DEFAULT_PAYPAL_WEBHOOK_PATH),
      webhookId: options.paypalWebhookId,
    });
  } catch (error) {
    await stripe.close();
    throw error;
  }
  return {
    stripe,
    paypal,
    async close() {
      await Promise.all([stripe.close(), paypal.close()]);
    },
  };
}

export type { PayPalSandbox, StripeSandbox };
export { startPayPalSandbox, startStripeSandbox };
