import { type Config, ConfigError, getConfig } from '../config.js';
import type { Provider } from '../db/models/orders.js';
import type { CheckoutProvider } from './checkout-provider.js';
import type { PayPalCheckoutProvider } from './paypal-checkout-provider.js';
import type { PayPalClients } from './paypal-client.js';
import type { RefundProvider } from './refund-provider.js';
import type { StripeClient } from './stripe-client.js';

/**
 * The provider clients, built from getConfig() on first use and kept for as long as that config
 * object lives (tests that change env and call resetConfigForTests() get fresh clients). API bases:
 * STRIPE_API_BASE / PAYPAL_API_BASE (local sandboxes; refused in production by config).
 *
 * The SDKs are loaded here, on first use, never at import: `stripe` costs ~160 ms and the PayPal SDK
 * ~380 ms of cold start, and most functions (and most requests of the others) need at most one.
 *
 * Two flavours per provider: `checkout` clients make one attempt (a failure releases the hold at once;
 * the buyer's retry is the retry); `refund` clients retry network errors, which is safe because every
 * refund call carries its idempotency key.
 */

export type ClientPurpose = 'checkout' | 'refund';

interface Built {
  stripe: Partial<Record<ClientPurpose, Promise<StripeClient>>>;
  paypal: Partial<Record<ClientPurpose, Promise<PayPalClients>>>;
  checkout: Partial<Record<Provider, Promise<CheckoutProvider>>>;
  refund: Partial<Record<Provider, Promise<RefundProvider>>>;
}

const built = new WeakMap<Config, Built>();

function forConfig(config: Config): Built {
  let entry = built.get(config);
  if (!entry) {
    entry = { stripe: {}, paypal: {}, checkout: {}, refund: {} };
    built.set(config, entry);
  }
  return entry;
}

/** Keeps a failed load from being cached. */
function remember<T>(store: Partial<Record<string, Promise<T>>>, key: string, make: () => Promise<T>): Promise<T> {
  const existing = store[key];
  if (existing) return existing;
  const created = make();
  store[key] = created;
  created.catch(() => {
    if (store[key] === created) delete store[key];
  });
  return created;
}

function timeoutFor(config: Config, purpose: ClientPurpose): number {
  // Refund calls may take a little longer but stay under the functions' 10 s limit.
  return purpose === 'refund' ? Math.max(config.checkout.providerTimeoutMs, 8_000) : config.checkout.providerTimeoutMs;
}

export async function getStripeClient(purpose: ClientPurpose = 'checkout', config: Config = getConfig()): Promise<StripeClient> {
  const { secretKey, apiBase } = config.stripe;
  if (!secretKey) throw new ConfigError('Stripe is not configured: set STRIPE_SECRET_KEY');
  return await remember(forConfig(config).stripe, purpose, async () => {
    const { createStripeClient } = await import('./stripe-client.js');
    return createStripeClient({
      secretKey,
      ...(apiBase ? { apiBaseUrl: apiBase } : {}),
      timeoutMs: timeoutFor(config, purpose),
      maxNetworkRetries: purpose === 'refund' ? 2 : 0,
    });
  });
}

export async function getPayPalClients(
  purpose: ClientPurpose = 'checkout',
  config: Config = getConfig(),
): Promise<PayPalClients> {
  const { clientId, clientSecret, environment, apiBase } = config.paypal;
  if (!clientId || !clientSecret) {
    throw new ConfigError('PayPal is not configured: set PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET');
  }
  return await remember(forConfig(config).paypal, purpose, async () => {
    const { createPayPalClient } = await import('./paypal-client.js');
    return createPayPalClient({
      clientId,
      clientSecret,
      environment,
      ...(apiBase ? { apiBaseUrl: apiBase } : {}),
      timeoutMs: timeoutFor(config, purpose),
    });
  });
}

export async function getPayPalCheckoutProvider(config: Config = getConfig()): Promise<PayPalCheckoutProvider> {
  const clients = await getPayPalClients('checkout', config);
  const provider = await remember(forConfig(config).checkout, 'paypal', async () => {
    const { PayPalCheckoutProvider } = await import('./paypal-checkout-provider.js');
    return new PayPalCheckoutProvider(clients);
  });
  return provider as PayPalCheckoutProvider;
}

/** The checkout provider for `name`; throws ConfigError when it is not configured. */
export async function getCheckoutProvider(name: Provider, config: Config = getConfig()): Promise<CheckoutProvider> {
  if (name === 'paypal') return await getPayPalCheckoutProvider(config);
  const stripe = await getStripeClient('checkout', config);
  return await remember(forConfig(config).checkout, 'stripe', async () => {
    const { StripeCheckoutProvider } = await import('./stripe-checkout-provider.js');
    return new StripeCheckoutProvider(stripe);
  });
}

/** The refund provider for `name` (its clients retry network errors); throws ConfigError when it is not configured. */
export async function getRefundProvider(name: Provider, config: Config = getConfig()): Promise<RefundProvider> {
  if (name === 'paypal') {
    const clients = await getPayPalClients('refund', config);
    return await remember(forConfig(config).refund, 'paypal', async () => {
      const { PayPalRefundProvider } = await import('./paypal-refund-provider.js');
      return new PayPalRefundProvider(clients);
    });
  }
  const stripe = await getStripeClient('refund', config);
  return await remember(forConfig(config).refund, 'stripe', async () => {
    const { createStripeRefundProvider } = await import('./stripe-refund-provider.js');
    return createStripeRefundProvider(stripe);
  });
}
