import { db, type Queryable } from '../db/client.js';
import { type ApiKeyScope, findApiKeyById } from '../db/models/api-keys.js';
import { AppError } from '../errors.js';

/**
 * What a signed-in key may know about itself (GET /api/admin/whoami, any valid key): its name, public
 * prefix, scopes and expiry. The staff dashboard asks this once to offer only what the scopes allow.
 * Never the hash, never the secret.
 */
export interface ApiKeyIdentity {
  id: string;
  name: string;
  prefix: string;
  environment: 'live' | 'test';
  scopes: ApiKeyScope[];
  expiresAt: string | null;
}

export async function describeApiKey(keyId: string, q: Queryable = db): Promise<ApiKeyIdentity> {
  const row = await findApiKeyById(q, keyId);
  // The key authenticated a moment ago; gone now means revoked in between: the same 401 as any bad key.
  if (!row || row.revokedAt !== null) throw new AppError('UNAUTHORIZED', 'A valid API key is required');
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    environment: row.environment,
    scopes: [...row.scopes].sort(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
  };
}
