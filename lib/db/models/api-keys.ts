import type { Queryable } from '../client.js';

/**
 * api_keys: staff credentials. Only the public prefix (bf_live_/bf_test_ + id) and the SHA-256 of
 * the whole key are stored; the key itself is shown once at creation.
 */

export const API_KEY_SCOPES = [
  'orders:read',
  'payments:read',
  'refunds:write',
  'analytics:read',
  'webhooks:admin',
  'keys:admin',
  'ops:read',
  'messages:admin',
  'checkin:write',
] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];
export type ApiKeyEnvironment = 'live' | 'test';

export interface ApiKeyRecord {
  id: string;
  name: string;
  environment: ApiKeyEnvironment;
  prefix: string;
  scopes: ApiKeyScope[];
  rateLimitPerMinute: number;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  usageCount: number;
  createdBy: string | null;
  createdAt: Date;
}

/** The stored row including the hash: only the authentication path reads this. */
export interface ApiKeyWithHash extends ApiKeyRecord {
  secretHash: string;
}

const COLUMNS = `id, name, environment, prefix, scopes, rate_limit_per_minute AS "rateLimitPerMinute",
  expires_at AS "expiresAt", revoked_at AS "revokedAt", last_used_at AS "lastUsedAt",
  usage_count::float8 AS "usageCount", created_by AS "createdBy", created_at AS "createdAt"`;

export interface NewApiKey {
  name: string;
  environment: ApiKeyEnvironment;
  prefix: string;
  secretHash: string;
  scopes: readonly ApiKeyScope[];
  rateLimitPerMinute?: number | undefined;
  expiresAt?: Date | null | undefined;
  createdBy?: string | null | undefined;
}

export async function insertApiKey(q: Queryable, key: NewApiKey): Promise<ApiKeyRecord> {
  const row = await q.queryOne<ApiKeyRecord>(
    `INSERT INTO api_keys (name, environment, prefix, secret_hash, scopes, rate_limit_per_minute, expires_at, created_by)
     VALUES ($1, $2, $3, $4, $5::text[], COALESCE($6, 120), $7, $8)
     RETURNING ${COLUMNS}`,
    [
      key.name,
      key.environment,
      key.prefix,
      key.secretHash,
      [...key.scopes],
      key.rateLimitPerMinute ?? null,
      key.expiresAt ?? null,
      key.createdBy ?? null,
    ],
  );
  if (!row) throw new Error('insertApiKey returned no row');
  return row;
}

export async function findApiKeyByPrefix(q: Queryable, prefix: string): Promise<ApiKeyWithHash | undefined> {
  return await q.queryOne<ApiKeyWithHash>(`SELECT ${COLUMNS}, secret_hash AS "secretHash" FROM api_keys WHERE prefix = $1`, [
    prefix,
  ]);
}

export async function findApiKeyById(q: Queryable, id: string): Promise<ApiKeyRecord | undefined> {
  return await q.queryOne<ApiKeyRecord>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
}

/** Newest first; revoked keys included (they are part of the record). */
export async function listApiKeys(q: Queryable, options: { includeRevoked?: boolean } = {}): Promise<ApiKeyRecord[]> {
  return await q.queryMany<ApiKeyRecord>(
    `SELECT ${COLUMNS} FROM api_keys WHERE $1 OR revoked_at IS NULL ORDER BY created_at DESC, id DESC`,
    [options.includeRevoked ?? true],
  );
}

/** Sets revoked_at once; a second revoke changes nothing and returns undefined. */
export async function revokeApiKeyRow(q: Queryable, id: string): Promise<ApiKeyRecord | undefined> {
  return await q.queryOne<ApiKeyRecord>(
    `UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING ${COLUMNS}`,
    [id],
  );
}

/** One single-row update per authenticated request. */
export async function touchApiKeyUsage(q: Queryable, id: string): Promise<void> {
  await q.query('UPDATE api_keys SET last_used_at = now(), usage_count = usage_count + 1 WHERE id = $1', [id]);
}
