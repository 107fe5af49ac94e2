import type { ApiKeyScope } from '../db/models/api-keys.js';
import { AppError } from '../errors.js';

/**
 * A key can only hand on what it holds (issue 18): a `keys:admin` key may mint keys with a subset of
 * its own scopes, never more. (The `keys:create` CLI runs with database access and is not limited.)
 */
export function assertCanGrantScopes(granter: { scopes: readonly ApiKeyScope[] }, requested: readonly ApiKeyScope[]): void {
  const missing = [...new Set(requested)].filter((scope) => !granter.scopes.includes(scope)).sort();
  if (missing.length > 0) {
    throw new AppError('FORBIDDEN', `This API key cannot grant scopes it does not hold: ${missing.join(', ')}`, {
      details: { scopes: missing },
    });
  }
}
