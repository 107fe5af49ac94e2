import { type Config, ConfigError, getConfig } from '../config.js';
import type { Provider } from '../db/models/orders.js';
import { type CheckoutProvider, PayPalCheckoutProvider, StripeCheckoutProvider } from './checkout-provider.js';
import { createPayPalClient, type PayPalClients } from './paypal-client.js';
import { createStripeClient, type StripeClient } from './stripe-client.js';

/**
 * The provider clients, built from getConfig() on first use and kept for as long as that config
 * object lives (tests that change env and call resetConfigForTests() get fresh clients). API bases:
 * STRIPE_API_BASE / PAYPAL_API_BASE (local sandboxes; refused in production by config).
 */

interface Built {
  stripe?: StripeClient;
  paypal?: PayPalClients;
  checkout: Partial<Record<Provider, CheckoutProvider>>;
}

const built = new WeakMap<Config, Built>();

function forConfig(config: Config): Built {
  let entry = built.get(config);
  if (!entry) {
    entry = { checkout: {} };
    built.set(config, entry);
  }
  return entry;
}

export function getStripeClient(config: Config = getConfig()): StripeClient {
  const entry = forConfig(config);
  if (!entry.stripe) {
    if (!config.stripe.secretKey) throw new ConfigError('Stripe is not configured: set STRIPE_SECRET_KEY');
    entry.stripe = createStripeClient({
      secretKey: config.stripe.secretKey,
      ...(config.stripe.apiBase ? { apiBaseUrl: config.stripe.apiBase } : {}),
      timeoutMs: config.checkout.providerTimeoutMs,
      // One attempt per call: a failure releases the hold at once; the buyer's retry is the retry.
      maxNetworkRetries: 0,
    });
  }
  return entry.stripe;
}

export function getPayPalClients(config: Config = getConfig()): PayPalClients {
  const entry = forConfig(config);
  if (!entry.paypal) {
    if (!config.paypal.clientId || !config.paypal.clientSecret) {
      throw new ConfigError('PayPal is not configured: set PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET');
    }
    entry.paypal = createPayPalClient({
      clientId: config.paypal.clientId,
      clientSecret: config.paypal.clientSecret,
      environment: config.paypal.environment,
      ...(config.paypal.apiBase ? { apiBaseUrl: config.paypal.apiBase } : {}),
      timeoutMs: config.checkout.providerTimeoutMs,
    });
  }
  return entry.paypal;
}

export function getPayPalCheckoutProvider(config: Config = getConfig()): PayPalCheckoutProvider {
  const entry = forConfig(config);
  const existing = entry.checkout.paypal;
  if (existing instanceof PayPalCheckoutProvider) return existing;
  const provider = new PayPalCheckoutProvider(getPayPalClients(config));
  entry.checkout.paypal = provider;
  return provider;
}

/** The checkout provider for `name`; throws ConfigError when it is not configured. */
export function getCheckoutProvider(name: Provider, config: Config = getConfig()): CheckoutProvider {
  if (name === 'paypal') return getPayPalCheckoutProvider(config);
  const entry = forConfig(config);
  entry.checkout.stripe ??= new StripeCheckoutProvider(getStripeClient(config));
  return entry.checkout.stripe;
}
