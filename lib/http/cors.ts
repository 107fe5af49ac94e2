import { getConfig } from '../config.js';

/**
 * CORS for the buyer endpoints, called by the festival's own website from another origin. Allowed
 * origins come from ALLOWED_ORIGINS; nothing is ever open to every origin.
 */

export const CORS_ALLOWED_HEADERS = 'content-type, authorization, idempotency-key, x-request-id, cf-turnstile-response';
export const CORS_EXPOSED_HEADERS =
  'x-request-id, ratelimit-limit, ratelimit-remaining, ratelimit-reset, retry-after, idempotent-replayed';

export function isAllowedOrigin(origin: string): boolean {
  let normalised: string;
  try {
    normalised = new URL(origin).origin;
  } catch {
    return false;
  }
  return getConfig().http.allowedOrigins.includes(normalised);
}

/** Headers for an actual (non-preflight) response to an allowed origin. */
export function corsHeaders(origin: string): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': CORS_EXPOSED_HEADERS,
    vary: 'Origin',
  };
}

export function preflightHeaders(origin: string, methods: string[]): Record<string, string> {
  return {
    ...corsHeaders(origin),
    'access-control-allow-methods': [...methods, 'OPTIONS'].join(', '),
    'access-control-allow-headers': CORS_ALLOWED_HEADERS,
    'access-control-max-age': '600',
  };
}
