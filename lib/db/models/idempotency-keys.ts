import type { Queryable } from '../client.js';

/**
 * idempotency_keys: one row per (scope, key). `key` holds the SHA-256 (hex) of the client's
 * Idempotency-Key, never the key itself (the stored response is sealed with a key derived from it;
 * see lib/http/idempotency.ts). Rows are kept at least 24 hours (a CHECK in the schema).
 */

export interface IdempotencyKeyRow {
  scope: string;
  key: string;
  requestHash: string;
  status: 'in_progress' | 'completed';
  responseStatus: number | null;
  responseBody: unknown;
  lockedAt: Date | null;
  createdAt: Date;
  expiresAt: Date;
}

const COLUMNS = `scope, key, request_hash AS "requestHash", status, response_status AS "responseStatus",
  response_body AS "responseBody", locked_at AS "lockedAt", created_at AS "createdAt", expires_at AS "expiresAt"`;

export interface ClaimIdempotencyKeyInput {
  scope: string;
  keyHash: string;
  requestHash: string;
  /** An in-progress claim older than this (same request) is considered abandoned and taken over. */
  staleAfterSeconds: number;
}

/**
 * Claims the key for this request in one statement: inserts it, or takes over a row that has
 * expired or whose in-progress owner is long gone (same request only). Returns the claimed row, or
 * undefined when somebody else holds it (read it with findIdempotencyKey).
 */
export async function claimIdempotencyKey(q: Queryable, input: ClaimIdempotencyKeyInput): Promise<IdempotencyKeyRow | undefined> {
  return await q.queryOne<IdempotencyKeyRow>(
    `INSERT INTO idempotency_keys (scope, key, request_hash, status, locked_at)
     VALUES ($1, $2, $3, 'in_progress', now())
     ON CONFLICT (scope, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = 'in_progress',
       response_status = NULL, response_body = NULL, locked_at = now(), created_at = now(),
       expires_at = now() + interval '24 hours'
     WHERE idempotency_keys.expires_at <= now()
        OR (idempotency_keys.status = 'in_progress'
            AND idempotency_keys.request_hash = EXCLUDED.request_hash
            AND idempotency_keys.locked_at < now() - make_interval(secs => $4))
     RETURNING ${COLUMNS}`,
    [input.scope, input.keyHash, input.requestHash, input.staleAfterSeconds],
  );
}

export async function findIdempotencyKey(q: Queryable, scope: string, keyHash: string): Promise<IdempotencyKeyRow | undefined> {
  return await q.queryOne<IdempotencyKeyRow>(`SELECT ${COLUMNS} FROM idempotency_keys WHERE scope = $1 AND key = $2`, [
    scope,
    keyHash,
  ]);
}

/** Stores the response of the claimed request; the row then lives for 24 hours from now. */
export async function completeIdempotencyKey(
  q: Queryable,
  row: { scope: string; keyHash: string; requestHash: string },
  response: { status: number; body: unknown },
): Promise<void> {
  await q.query(
    `UPDATE idempotency_keys SET status = 'completed', response_status = $4, response_body = $5, locked_at = NULL,
       expires_at = GREATEST(expires_at, now() + interval '24 hours')
     WHERE scope = $1 AND key = $2 AND request_hash = $3 AND status = 'in_progress'`,
    [row.scope, row.keyHash, row.requestHash, response.status, JSON.stringify(response.body)],
  );
}

/** Gives the key back (the request ended without a lasting result): a retry with it runs again. */
export async function releaseIdempotencyKey(
  q: Queryable,
  row: { scope: string; keyHash: string; requestHash: string },
): Promise<void> {
  await q.query(`DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND request_hash = $3 AND status = 'in_progress'`, [
    row.scope,
    row.keyHash,
    row.requestHash,
  ]);
}

/** Housekeeping (the hold cron calls it): deletes up to `limit` expired rows; returns how many. */
export async function deleteExpiredIdempotencyKeys(q: Queryable, limit = 1000): Promise<number> {
  const result = await q.query(
    `DELETE FROM idempotency_keys WHERE (scope, key) IN (
       SELECT scope, key FROM idempotency_keys WHERE expires_at <= now() ORDER BY expires_at LIMIT $1)`,
    [limit],
  );
  return result.rowCount ?? 0;
}
