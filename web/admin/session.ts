import type { WhoamiResponse } from '../../lib/contract/types.js';

/**
 * The signed-in key lives in this tab's sessionStorage only: never in a URL, never in localStorage,
 * never in a cookie. Signing out (or a 401 from the API) removes it.
 */

const KEY = 'bf-admin-api-key';

export const session = {
  read(): string | null {
    try {
      return sessionStorage.getItem(KEY);
    } catch {
      return null;
    }
  },
  save(apiKey: string): void {
    sessionStorage.setItem(KEY, apiKey);
  },
  clear(): void {
    try {
      sessionStorage.removeItem(KEY);
    } catch {
      // storage unavailable: nothing kept
    }
  },
};

/** What GET /api/admin/whoami says about the signed-in key (its schema: lib/contract/responses.ts). */
export type Identity = WhoamiResponse['apiKey'];

export function holds(identity: Identity | null, ...anyOf: string[]): boolean {
  return identity !== null && anyOf.some((scope) => (identity.scopes as readonly string[]).includes(scope));
}
