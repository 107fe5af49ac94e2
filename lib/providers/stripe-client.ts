/**
 * Factory for the Stripe SDK client. This is the only module that imports `stripe` (it is heavy;
 * import it lazily from cold paths). No module-level side effects: every call makes a new client.
 */
import Stripe from 'stripe';

export interface StripeClientOptions {
  /** `sk_test_...` / `sk_live_...` / restricted key. */
  secretKey: string;
  /**
   * Where the API lives, e.g. `http://127.0.0.1:4010` for the local sandbox. Omit for api.stripe.com.
   * Only scheme, host and port are used (the SDK always calls `/v1/...`).
   */
  apiBaseUrl?: string;
  /** Per-request timeout in ms (SDK default 80 s). */
  timeoutMs?: number;
  /** Retries on network errors, 409 and 5xx, with the SDK's own idempotency keys (SDK default applies when omitted). */
  maxNetworkRetries?: number;
  /**
   * Send request-latency telemetry headers to Stripe (SDK default: on). Benchmarks that fire hundreds of
   * concurrent calls through one client turn it off to avoid the SDK's "metrics buffer is full" warnings.
   */
  telemetry?: boolean;
}

export type StripeClient = Stripe;

/** Connection settings the SDK accepts for a custom API host. */
export interface StripeHostSettings {
  host: string;
  port: number;
  protocol: 'http' | 'https';
}

/** Parses `apiBaseUrl` into the SDK's host/port/protocol settings (throws on anything but http(s) with no path). */
export function stripeHostSettings(apiBaseUrl: string): StripeHostSettings {
  let url: URL;
  try {
    url = new URL(apiBaseUrl);
  } catch {
    throw new TypeError(`Stripe apiBaseUrl is not a URL: ${apiBaseUrl}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`Stripe apiBaseUrl must be http(s): ${apiBaseUrl}`);
  }
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new TypeError(`Stripe apiBaseUrl must not have a path (the SDK always calls /v1/...): ${apiBaseUrl}`);
  }
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  const port = url.port ? Number(url.port) : protocol === 'http' ? 80 : 443;
  // URL keeps IPv6 literals bracketed; the SDK passes host to node:http, which wants them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port, protocol };
}

export function createStripeClient(options: StripeClientOptions): Stripe {
  if (!options.secretKey) throw new TypeError('createStripeClient: secretKey is required');
  const config: ConstructorParameters<typeof Stripe>[1] = {};
  if (options.apiBaseUrl) Object.assign(config, stripeHostSettings(options.apiBaseUrl));
  if (options.timeoutMs !== undefined) config.timeout = options.timeoutMs;
  if (options.maxNetworkRetries !== undefined) config.maxNetworkRetries = options.maxNetworkRetries;
  if (options.telemetry !== undefined) config.telemetry = options.telemetry;
  return new Stripe(options.secretKey, config);
}
