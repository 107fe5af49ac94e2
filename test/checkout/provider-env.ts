import { afterAll, beforeAll } from 'vitest';
import { resetConfigForTests } from '../../lib/config.js';
import { type PayPalSandbox, startPayPalSandbox } from '../../sandbox/paypal-sandbox.js';
import { type StripeSandbox, startStripeSandbox } from '../../sandbox/stripe-sandbox.js';

/**
 * Starts the local Stripe and PayPal sandboxes for one test file and points the app's config at
 * them (STRIPE_API_BASE / PAYPAL_API_BASE, test credentials) with rate limits off (override with
 * extraEnv). Webhooks are recorded by the
 * sandboxes, not sent. Use inside a test file at top level:
 *
 *   const providers = useProviderSandboxes();
 *   ... providers.stripe.requests ...
 */

export const TEST_STRIPE_SECRET_KEY = 'sk_test_checkout_51BoulderFest';
export const TEST_PAYPAL_CLIENT_ID = 'paypal-test-client';
export const TEST_PAYPAL_CLIENT_SECRET = 'paypal-test-secret';

export interface ProviderSandboxes {
  readonly stripe: StripeSandbox;
  readonly paypal: PayPalSandbox;
}

export function useProviderSandboxes(extraEnv: Record<string, string> = {}): ProviderSandboxes {
  let stripe: StripeSandbox | undefined;
  let paypal: PayPalSandbox | undefined;
  beforeAll(async () => {
    stripe = await startStripeSandbox({ port: 0, secretKey: TEST_STRIPE_SECRET_KEY });
    paypal = await startPayPalSandbox({ port: 0, clientId: TEST_PAYPAL_CLIENT_ID, clientSecret: TEST_PAYPAL_CLIENT_SECRET });
    Object.assign(process.env, {
      STRIPE_SECRET_KEY: TEST_STRIPE_SECRET_KEY,
      STRIPE_API_BASE: stripe.url,
      PAYPAL_CLIENT_ID: TEST_PAYPAL_CLIENT_ID,
      PAYPAL_CLIENT_SECRET: TEST_PAYPAL_CLIENT_SECRET,
      PAYPAL_ENVIRONMENT: 'sandbox',
      PAYPAL_API_BASE: paypal.url,
      // These files test checkout semantics with many requests from one "client"; rate limits have their own tests.
      RATE_LIMIT_ENABLED: 'false',
      ...extraEnv,
    });
    resetConfigForTests();
  });
  afterAll(async () => {
    await Promise.all([stripe?.close(), paypal?.close()]);
  });
  return {
    get stripe() {
      if (!stripe) throw new Error('Stripe sandbox not started (use inside tests)');
      return stripe;
    },
    get paypal() {
      if (!paypal) throw new Error('PayPal sandbox not started (use inside tests)');
      return paypal;
    },
  };
}

/** Parsed body of the last recorded request matching method and path (substring). */
export function lastRequest<T extends { method: string; path: string }>(
  requests: readonly T[],
  method: string,
  path: string | RegExp,
): T {
  const found = [...requests]
    .reverse()
    .find((r) => r.method === method && (typeof path === 'string' ? r.path.includes(path) : path.test(r.path)));
  if (!found) throw new Error(`no ${method} ${String(path)} request recorded`);
  return found;
}
