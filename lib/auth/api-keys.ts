import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { db, type Queryable, transaction } from '../db/client.js';
import { type Actor, appendAudit } from '../db/models/audit-log.js';
import {
  API_KEY_SCOPES,
  type ApiKeyEnvironment,
  type ApiKeyRecord,
  type ApiKeyScope,
  findApiKeyByPrefix,
  insertApiKey,
  listApiKeys,
  revokeApiKeyRow,
} from '../db/models/api-keys.js';
import { AppError } from '../errors.js';

/**
 * Staff API keys: `bf_live_<id>_<secret>` / `bf_test_<id>_<secret>`.
 * - `bf_<env>_<id>` is the public prefix, stored and used to find the row;
 * - the whole key is hashed (SHA-256, hex) and only the hash is stored;
 * - the presented key's hash is compared with the stored one in constant time, and a lookup that
 *   finds no row still does one comparison, so unknown and wrong keys cost the same.
 */

export { API_KEY_SCOPES, type ApiKeyScope, type ApiKeyRecord, type ApiKeyEnvironment };

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const ID_LENGTH = 16;
/** 43 base62 characters ≈ 256 bits. */
const SECRET_LENGTH = 43;
const KEY_PATTERN = new RegExp(`^(bf_(live|test)_[A-Za-z0-9]{${ID_LENGTH}})_([A-Za-z0-9]{${SECRET_LENGTH}})$`);
/** Compared against when no row matches, so that path does the same work. */
const DUMMY_HASH = createHash('sha256').update('bf_no_such_key').digest('hex');

/** Uniform base62 characters (rejection sampling: no modulo bias). */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += ALPHABET[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length === 32 && timingSafeEqual(left, right);
}

export interface GeneratedKey {
  key: string;
  prefix: string;
  secretHash: string;
}

export function generateApiKey(environment: ApiKeyEnvironment): GeneratedKey {
  const prefix = `bf_${environment}_${randomBase62(ID_LENGTH)}`;
  const key = `${prefix}_${randomBase62(SECRET_LENGTH)}`;
  return { key, prefix, secretHash: hashApiKey(key) };
}

/** The prefix of a well-formed key, or undefined. */
export function parseApiKey(key: string): { prefix: string; environment: ApiKeyEnvironment } | undefined {
  const match = KEY_PATTERN.exec(key);
  if (!match?.[1] || !match[2]) return undefined;
  return { prefix: match[1], environment: match[2] as ApiKeyEnvironment };
}

export function isApiKeyScope(value: string): value is ApiKeyScope {
  return (API_KEY_SCOPES as readonly string[]).includes(value);
}

/** "30d", "12h", "90m" or an ISO date → an absolute expiry; undefined input → no expiry. */
export function parseExpiry(value: string | undefined, now = new Date()): Date | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const relative = /^(\d{1,5})([dhm])$/.exec(value.trim());
  if (relative) {
    const amount = Number(relative[1]);
    const unit = relative[2] === 'd' ? 86_400_000 : relative[2] === 'h' ? 3_600_000 : 60_000;
    if (amount <= 0) throw new AppError('VALIDATION_ERROR', 'The expiry must be in the future');
    return new Date(now.getTime() + amount * unit);
  }
  const absolute = new Date(value);
  if (Number.isNaN(absolute.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new AppError('VALIDATION_ERROR', 'The expiry is a duration like 30d, 12h or 90m, or an ISO date');
  }
  if (absolute.getTime() <= now.getTime()) throw new AppError('VALIDATION_ERROR', 'The expiry must be in the future');
  return absolute;
}

export interface CreateApiKeyInput {
  name: string;
  scopes: readonly ApiKeyScope[];
  environment?: ApiKeyEnvironment | undefined;
  expiresAt?: Date | undefined;
  rateLimitPerMinute?: number | undefined;
}

export interface CreatedApiKey {
  /** Shown once; never stored. */
  key: string;
  record: ApiKeyRecord;
}

/** Creates a key and its audit entry in one transaction. */
export async function createApiKey(input: CreateApiKeyInput, actor: Actor): Promise<CreatedApiKey> {
  const environment = input.environment ?? 'live';
  const scopes = [...new Set(input.scopes)].sort();
  if (scopes.length === 0) throw new AppError('VALIDATION_ERROR', 'A key needs at least one scope');
  const generated = generateApiKey(environment);
  const record = await transaction(async (tx) => {
    const row = await insertApiKey(tx, {
      name: input.name,
      environment,
      prefix: generated.prefix,
      secretHash: generated.secretHash,
      scopes,
      rateLimitPerMinute: input.rateLimitPerMinute,
      expiresAt: input.expiresAt ?? null,
      createdBy: actor.id ?? actor.type,
    });
    await appendAudit(tx, {
      entityType: 'api_key',
      entityId: row.id,
      action: 'api_key.created',
      actor,
      newValues: { name: row.name, prefix: row.prefix, scopes: row.scopes, expiresAt: row.expiresAt, environment },
    });
    return row;
  });
  return { key: generated.key, record };
}

/** Revokes once; revoking a revoked or unknown key is a 404 (nothing to do). */
export async function revokeApiKey(id: string, actor: Actor): Promise<ApiKeyRecord> {
  return await transaction(async (tx) => {
    const row = await revokeApiKeyRow(tx, id);
    if (!row) throw new AppError('NOT_FOUND', 'No active API key with that id');
    await appendAudit(tx, {
      entityType: 'api_key',
      entityId: row.id,
      action: 'api_key.revoked',
      actor,
      newValues: { revokedAt: row.revokedAt },
    });
    return row;
  });
}

export async function listKeys(q: Queryable = db): Promise<ApiKeyRecord[]> {
  return await listApiKeys(q);
}

export type AuthenticationResult =
  | { ok: true; key: ApiKeyRecord }
  | { ok: false; reason: 'malformed' | 'unknown' | 'expired' | 'revoked' };

/**
 * Checks a presented key. The reason is for logs and tests only: callers answer every failure the
 * same way. Usage is not recorded here (see touchApiKeyUsage).
 */
export async function authenticateApiKey(
  presented: string,
  q: Queryable = db,
  now: Date = new Date(),
): Promise<AuthenticationResult> {
  const parsed = parseApiKey(presented);
  if (!parsed) return { ok: false, reason: 'malformed' };
  const row = await findApiKeyByPrefix(q, parsed.prefix);
  const matches = hashesEqual(hashApiKey(presented), row?.secretHash ?? DUMMY_HASH);
  if (!row || !matches) return { ok: false, reason: 'unknown' };
  if (row.revokedAt !== null) return { ok: false, reason: 'revoked' };
  if (row.expiresAt !== null && row.expiresAt.getTime() <= now.getTime()) return { ok: false, reason: 'expired' };
  const { secretHash: _hash, ...key } = row;
  return { ok: true, key };
}

export interface ApiKeyView {
  id: string;
  name: string;
  environment: ApiKeyEnvironment;
  prefix: string;
  scopes: ApiKeyScope[];
  status: 'active' | 'expired' | 'revoked';
  rateLimitPerMinute: number;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  usageCount: number;
  createdBy: string | null;
  createdAt: string;
}

/** What the API and the CLI show about a key (never its hash). */
export function presentApiKey(record: ApiKeyRecord, now: Date = new Date()): ApiKeyView {
  const status =
    record.revokedAt !== null
      ? 'revoked'
      : record.expiresAt !== null && record.expiresAt.getTime() <= now.getTime()
        ? 'expired'
        : 'active';
  return {
    id: record.id,
    name: record.name,
    environment: record.environment,
    prefix: record.prefix,
    scopes: record.scopes,
    status,
    rateLimitPerMinute: record.rateLimitPerMinute,
    expiresAt: record.expiresAt?.toISOString() ?? null,
    revokedAt: record.revokedAt?.toISOString() ?? null,
    lastUsedAt: record.lastUsedAt?.toISOString() ?? null,
    usageCount: record.usageCount,
    createdBy: record.createdBy,
    createdAt: record.createdAt.toISOString(),
  };
}
