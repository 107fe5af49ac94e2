import { afterAll, beforeAll } from 'vitest';
import { resetConfigForTests } from '../../lib/config.js';
import { createStripeClient, type StripeClient } from '../../lib/providers/stripe-client.js';
import { type PayPalSandbox, type PayPalSandboxOptions, startPayPalSandbox } from '../../sandbox/paypal-sandbox.js';
import { type StripeSandbox, type StripeSandboxOptions, startStripeSandbox } from '../../sandbox/stripe-sandbox.js';

/**
 * THE way a test starts a provider sandbox and points the app at it (one set of fake credentials for the whole
 * suite). Three shapes, one code path:
 *   - `useProviderSandboxes()`: both sandboxes for a whole file (beforeAll/afterAll), rate limits off;
 *   - `useStripeSandbox()`: the Stripe sandbox for a whole file, with an SDK client to act on it as the buyer;
 *   - `startStripeSandboxForApp()` / `startPayPalSandboxForApp()`: one sandbox, when the test holds it itself;
 *   - `configureStripe()`: Stripe settings (webhook secrets) with or without a sandbox behind them.
 * Webhooks are recorded by the sandboxes, or sent to `webhookUrl` when one is given.
 */

export const TEST_STRIPE_SECRET_KEY = 'sk_test_51BoulderFestSuite';
/** The current and the rolled (previous) Stripe webhook signing secret; the app accepts both. */
export const TEST_STRIPE_WEBHOOK_SECRET = 'whsec_boulderfest_test_current';
export const TEST_STRIPE_OLD_WEBHOOK_SECRET = 'whsec_boulderfest_test_rolled';
export const TEST_PAYPAL_CLIENT_ID = 'paypal-test-client';
export const TEST_PAYPAL_CLIENT_SECRET = 'paypal-test-secret';

/**
 * Points the app at Stripe with the test key: the sandbox at `apiBase` (none: STRIPE_API_BASE unset) and the
 * given webhook secrets (default both, current first).
 */
export function configureStripe(options: { apiBase?: string; secrets?: string[] } = {}): void {
  process.env.STRIPE_WEBHOOK_SECRET = (options.secrets ?? [TEST_STRIPE_WEBHOOK_SECRET, TEST_STRIPE_OLD_WEBHOOK_SECRET]).join(',');
  process.env.STRIPE_SECRET_KEY = TEST_STRIPE_SECRET_KEY;
  // Without a sandbox, a closed local port: a provider call the test did not plan for (the fee read
  // after a completion, say) fails at once here instead of going to api.stripe.com.
  process.env.STRIPE_API_BASE = options.apiBase ?? 'http://127.0.0.1:9';
  resetConfigForTests();
}

/**
 * A Stripe sandbox on a free port, accepting the test key, with the app's config pointed at it. With a
 * `webhookSecret` the app verifies with that secret (else its STRIPE_WEBHOOK_SECRET is left as it is).
 */
export async function startStripeSandboxForApp(options: Omit<StripeSandboxOptions, 'secretKey'> = {}): Promise<StripeSandbox> {
  const sandbox = await startStripeSandbox({ port: 0, ...options, secretKey: TEST_STRIPE_SECRET_KEY });
  if (options.webhookSecret) process.env.STRIPE_WEBHOOK_SECRET = options.webhookSecret;
  process.env.STRIPE_SECRET_KEY = TEST_STRIPE_SECRET_KEY;
  process.env.STRIPE_API_BASE = sandbox.url;
  resetConfigForTests();
  return sandbox;
}

/** A PayPal sandbox on a free port, accepting the test client, with the app's config pointed at it. */
export async function startPayPalSandboxForApp(
  options: Omit<PayPalSandboxOptions, 'clientId' | 'clientSecret'> = {},
): Promise<PayPalSandbox> {
  const sandbox = await startPayPalSandbox({
    port: 0,
    ...options,
    clientId: TEST_PAYPAL_CLIENT_ID,
    clientSecret: TEST_PAYPAL_CLIENT_SECRET,
  });
  Object.assign(process.env, {
    PAYPAL_CLIENT_ID: TEST_PAYPAL_CLIENT_ID,
    PAYPAL_CLIENT_SECRET: TEST_PAYPAL_CLIENT_SECRET,
    PAYPAL_ENVIRONMENT: 'sandbox',
    PAYPAL_API_BASE: sandbox.url,
  });
  // The app verifies PayPal webhook signatures against this id (when the sandbox signs with one).
  if (options.webhookId) process.env.PAYPAL_WEBHOOK_ID = options.webhookId;
  resetConfigForTests();
  return sandbox;
}

export interface StripeSandboxWithClient {
  readonly sandbox: StripeSandbox;
  /** A Stripe SDK client on the sandbox: sessions made and read directly, as the buyer's side would. */
  readonly client: StripeClient;
}

/**
 * The Stripe sandbox for one test file (webhooks verified with TEST_STRIPE_WEBHOOK_SECRET) and an SDK client on it,
 * started before its tests; closed after them, and the app's Stripe settings put back (`configureStripe()`).
 * Use at top level: `const stripe = useStripeSandbox(); ... stripe.sandbox.pay(...)`.
 */
export function useStripeSandbox(): StripeSandboxWithClient {
  let started: StripeSandboxWithClient | undefined;
  beforeAll(async () => {
    const sandbox = await startStripeSandboxForApp({ webhookSecret: TEST_STRIPE_WEBHOOK_SECRET });
    const client = createStripeClient({ secretKey: TEST_STRIPE_SECRET_KEY, apiBaseUrl: sandbox.url, maxNetworkRetries: 0 });
    started = { sandbox, client };
  });
  afterAll(async () => {
    await started?.sandbox.close();
    configureStripe();
  });
  const whenStarted = (): StripeSandboxWithClient => {
    if (!started) throw new Error('Stripe sandbox not started (use inside tests)');
    return started;
  };
  return {
    get sandbox() {
      return whenStarted().sandbox;
    },
    get client() {
      return whenStarted().client;
    },
  };
}

export interface ProviderSandboxes {
  readonly stripe: StripeSandbox;
  readonly paypal: PayPalSandbox;
}

/**
 * Both sandboxes for one test file, started before its tests and closed after, rate limits off (these files test
 * checkout semantics with many requests from one "client"; rate limits have their own tests); `extraEnv` last.
 * Use at top level: `const providers = useProviderSandboxes(); ... providers.stripe.requests ...`
 */
export function useProviderSandboxes(extraEnv: Record<string, string> = {}): ProviderSandboxes {
  let stripe: StripeSandbox | undefined;
  let paypal: PayPalSandbox | undefined;
  beforeAll(async () => {
    stripe = await startStripeSandboxForApp();
    paypal = await startPayPalSandboxForApp();
    Object.assign(process.env, { RATE_LIMIT_ENABLED: 'false', ...extraEnv });
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
