import { type Config, ConfigError, getConfig } from '../config.js';
import type { Provider } from '../db/models/orders.js';
import type { CheckoutProvider } from './checkout-provider.js';
import type { PayPalCheckoutProvider } from './paypal-checkout-provider.js';
import type { PayPalClients } from './paypal-client.js';
import { withRefundDeadline } from './deadline.js';
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
 * refund call carries its idempotency key. Time-outs and retries come from the one time budget
 * (lib/time-budget.ts, derived from the function's limit); a refund call is also cut at the whole
 * provider budget (deadline.ts), so it is answered well inside the function's limit.
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

/** Per-request time-out and retries of one client: the time budget's plan (lib/time-budget.ts), never more. */
function planFor(config: Config, provider: Provider, purpose: ClientPurpose) {
  return config.timeBudget[provider][purpose];
}

export async function getStripeClient(purpose: ClientPurpose = 'checkout', config: Config = getConfig()): Promise<StripeClient> {
  const { secretKey, apiBase } = config.stripe;
  if (!secretKey) throw new ConfigError('Stripe is not configured: set STRIPE_SECRET_KEY');
  return await remember(forConfig(config).stripe, purpose, async () => {
    const { createStripeClient } = await import('./stripe-client.js');
    return createStripeClient({
      secretKey,
      ...(apiBase ? { apiBaseUrl: apiBase } : {}),
      timeoutMs: planFor(config, 'stripe', purpose).timeoutMs,
      maxNetworkRetries: planFor(config, 'stripe', purpose).maxNetworkRetries,
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
      timeoutMs: planFor(config, 'paypal', purpose).timeoutMs,
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
      return withRefundDeadline(new PayPalRefundProvider(clients), config.timeBudget.providerBudgetMs);
    });
  }
  const stripe = await getStripeClient('refund', config);
  return await remember(forConfig(config).refund, 'stripe', async () => {
    const { createStripeRefundProvider } = await import('./stripe-refund-provider.js');
    return withRefundDeadline(createStripeRefundProvider(stripe), config.timeBudget.providerBudgetMs);
  });
}
