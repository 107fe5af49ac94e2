import { randomString, SandboxServer, jsonReply, type RecordedRequest, type Reply } from './http-kit.js';
import { PayPalReportingError, PayPalReportingStore } from './paypal/reporting.js';
import { StripeApiErrorLike, StripeReportingStore } from './stripe/reporting.js';

/**
 * Reporting-only sandboxes (never deployed): standalone servers over the sandboxes' reporting stores
 * (Stripe balance transactions and payouts; PayPal Transaction Search and OAuth tokens), for the
 * reconciliation tests and benchmark that need no checkout: the real SDKs talk to them exactly as to
 * the full sandboxes, which serve the same routes from the same stores.
 */

export interface ReportingSandbox<S> {
  url: string;
  store: S;
  requests: readonly RecordedRequest[];
  close(): Promise<void>;
}

function stripeReply(store: StripeReportingStore, request: RecordedRequest): Reply {
  try {
    const answer = store.handle(request);
    if (!answer)
      return jsonReply(404, {
        error: { type: 'invalid_request_error', message: `Unrecognized request URL (${request.method}: ${request.path}).` },
      });
    return jsonReply(answer.status, answer.body);
  } catch (error) {
    if (error instanceof StripeApiErrorLike) {
      return jsonReply(error.status, {
        error: { type: 'invalid_request_error', message: error.message, param: error.param ?? null, code: error.code ?? null },
      });
    }
    throw error;
  }
}

export async function startStripeReportingSandbox(): Promise<ReportingSandbox<StripeReportingStore>> {
  const store = new StripeReportingStore({ now: () => Math.floor(Date.now() / 1000) });
  const server = await SandboxServer.start({
    name: 'stripe-reporting',
    handle: async (request) => stripeReply(store, request),
    renderFailure: (failure) =>
      jsonReply(failure.status ?? 500, {
        error: { type: 'api_error', message: failure.message ?? 'injected', code: failure.code ?? null },
      }),
    onReset: () => store.reset(),
  });
  return { url: server.url, store, requests: server.requests, close: () => server.close() };
}

export async function startPayPalReportingSandbox(
  options: { maxResultItems?: number } = {},
): Promise<ReportingSandbox<PayPalReportingStore>> {
  const store = new PayPalReportingStore({ now: () => Date.now(), ...options });
  const tokens = new Set<string>();
  let server: SandboxServer;
  server = await SandboxServer.start({
    name: 'paypal-reporting',
    handle: async (request) => {
      if (request.method === 'POST' && request.path === '/v1/oauth2/token') {
        const token = `A21AA${randomString(40)}`;
        tokens.add(token);
        return jsonReply(200, {
          scope: 'https://uri.paypal.com/services/reporting/search/read',
          access_token: token,
          token_type: 'Bearer',
          expires_in: 32400,
          nonce: randomString(20),
        });
      }
      const auth = request.headers.authorization ?? '';
      if (!tokens.has(auth.replace(/^Bearer /, '')))
        return jsonReply(401, { error: 'invalid_token', error_description: 'Token signature verification failed' });
      try {
        const body = store.handle(request, server.url);
        return body ? jsonReply(200, body) : jsonReply(404, { name: 'RESOURCE_NOT_FOUND', message: 'Not found', details: [] });
      } catch (error) {
        if (error instanceof PayPalReportingError) {
          return jsonReply(error.status, {
            name: error.status === 400 ? 'INVALID_REQUEST' : 'UNPROCESSABLE_ENTITY',
            message: 'Request is not well-formed, syntactically incorrect, or violates schema.',
            debug_id: randomString(13).toLowerCase(),
            details: [
              {
                issue: error.issue,
                description: error.description,
                ...(error.field ? { field: error.field, location: 'query' } : {}),
              },
            ],
          });
        }
        throw error;
      }
    },
    renderFailure: (failure) =>
      jsonReply(failure.status ?? 500, { name: 'INTERNAL_SERVER_ERROR', message: failure.message ?? 'injected', details: [] }),
    onReset: () => store.reset(),
  });
  return { url: server.url, store, requests: server.requests, close: () => server.close() };
}
