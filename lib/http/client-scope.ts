import { clientKey } from './client-address.js';
import type { RequestContext } from './handler.js';

/**
 * Idempotency scope per client (issue 18): buyer endpoints have no login, so an Idempotency-Key alone
 * would let another client that sends the same key and body receive the first buyer's answer (and its
 * one-time access token). Keys are scoped to the client address (IPv6 per /64), so a replay only ever
 * reaches the client that made the first request. A request with no known address keeps the bare scope.
 */
export function clientIdempotencyScope(ctx: RequestContext, scope: string): string {
  const key = clientKey(ctx.ip);
  return key ? `${scope}|client:${key}` : scope;
}
