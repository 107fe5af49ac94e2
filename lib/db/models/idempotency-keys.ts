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
  // The claim rule lives in the database (migration 0100), where checkout's one statement claims with it too.
  return await q.queryOne<IdempotencyKeyRow>(`SELECT ${COLUMNS} FROM claim_idempotency_key($1, $2, $3, $4)`, [
    input.scope,
    input.keyHash,
    input.requestHash,
    input.staleAfterSeconds,
  ]);
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
  // One definition (migration 0100), shared with checkout's after-provider statement.
  await q.query('SELECT complete_idempotency_key($1, $2, $3, $4, $5)', [
    row.scope,
    row.keyHash,
    row.requestHash,
    response.status,
    JSON.stringify(response.body),
  ]);
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
