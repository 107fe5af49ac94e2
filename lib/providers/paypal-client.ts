/**
 * Factory for the PayPal server SDK (@paypal/paypal-server-sdk) client and its controllers.
 *
 * The SDK has no base-URL option: it always builds `https://api-m[.sandbox].paypal.com/...`.
 * To point it at the local sandbox we use the hook the SDK itself offers on every request it
 * makes: `Client.getRequestBuilderFactory()` produces the request builders that all controllers
 * (and the OAuth token manager) use, and each builder accepts `interceptRequest()`. A subclass
 * wraps that factory and rewrites the URL of every outgoing request to `apiBaseUrl`, keeping
 * path and query. (`unstable_httpClientOptions` only reaches axios.create(), where an `adapter`
 * would have to re-implement the HTTP call; the interceptor keeps the SDK's own HTTP client,
 * timeouts and retries.)
 *
 * No module-level side effects: every call makes new objects.
 */
import { Client, type Configuration, Environment, OrdersController, PaymentsController } from '@paypal/paypal-server-sdk';

export interface PayPalClientOptions {
  clientId: string;
  clientSecret: string;
  environment: 'sandbox' | 'production';
  /** e.g. `http://127.0.0.1:4011` for the local sandbox; every request goes there instead of PayPal. */
  apiBaseUrl?: string;
  /** Per-request timeout in ms (0 or omitted: the SDK's default, no timeout). */
  timeoutMs?: number;
}

export interface PayPalClients {
  /** The SDK client (OAuth token handling included). */
  client: Client;
  ordersController: OrdersController;
  paymentsController: PaymentsController;
}

type RequestBuilderFactory = ReturnType<Client['getRequestBuilderFactory']>;

/** The SDK's own base URLs (client.ts getBaseUri), used to check what we rewrite. */
const PAYPAL_BASE_URLS: Record<PayPalClientOptions['environment'], string> = {
  sandbox: 'https://api-m.sandbox.paypal.com',
  production: 'https://api-m.paypal.com',
};

/** Rewrites an SDK request URL to `apiBaseUrl` (scheme, host, port and an optional path prefix), keeping path and query. */
export function rewritePayPalUrl(requestUrl: string, apiBaseUrl: string): string {
  const target = new URL(apiBaseUrl);
  const original = new URL(requestUrl);
  const prefix = target.pathname.replace(/\/+$/, '');
  return `${target.origin}${prefix}${original.pathname}${original.search}`;
}

function checkedBaseUrl(apiBaseUrl: string): string {
  let url: URL;
  try {
    url = new URL(apiBaseUrl);
  } catch {
    throw new TypeError(`PayPal apiBaseUrl is not a URL: ${apiBaseUrl}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`PayPal apiBaseUrl must be http(s): ${apiBaseUrl}`);
  }
  return url.toString();
}

function redirectedClient(config: Partial<Configuration>, apiBaseUrl: string, sdkBaseUrl: string): Client {
  class RedirectedClient extends Client {
    override getRequestBuilderFactory(): RequestBuilderFactory {
      // Called from the base constructor too (token manager); only closure variables are used here.
      const factory = super.getRequestBuilderFactory();
      return (...args: Parameters<RequestBuilderFactory>) => {
        const builder = factory(...args);
        builder.interceptRequest((request) => {
          if (!request.url.startsWith(sdkBaseUrl)) {
            throw new Error(`paypal-client: unexpected request URL ${request.url} (expected ${sdkBaseUrl}/...)`);
          }
          return { ...request, url: rewritePayPalUrl(request.url, apiBaseUrl) };
        });
        return builder;
      };
    }

    override withConfiguration(overrides: Partial<Configuration>): Client {
      return redirectedClient({ ...config, ...overrides }, apiBaseUrl, sdkBaseUrl);
    }
  }
  return new RedirectedClient(config);
}

export function createPayPalClient(options: PayPalClientOptions): PayPalClients {
  if (!options.clientId || !options.clientSecret) {
    throw new TypeError('createPayPalClient: clientId and clientSecret are required');
  }
  if (options.environment !== 'sandbox' && options.environment !== 'production') {
    throw new TypeError(`createPayPalClient: environment must be 'sandbox' or 'production'`);
  }
  const config: Partial<Configuration> = {
    environment: options.environment === 'production' ? Environment.Production : Environment.Sandbox,
    timeout: options.timeoutMs ?? 0,
    // No SDK retries (its default, made explicit): a call's worst case is the time budget's (lib/time-budget.ts):
    // one OAuth token request plus the call, each cut at `timeout`.
    httpClientOptions: { retryConfig: { maxNumberOfRetries: 0 } },
    clientCredentialsAuthCredentials: {
      oAuthClientId: options.clientId,
      oAuthClientSecret: options.clientSecret,
    },
  };
  const client = options.apiBaseUrl
    ? redirectedClient(config, checkedBaseUrl(options.apiBaseUrl), PAYPAL_BASE_URLS[options.environment])
    : new Client(config);
  return {
    client,
    ordersController: new OrdersController(client),
    paymentsController: new PaymentsController(client),
  };
}
