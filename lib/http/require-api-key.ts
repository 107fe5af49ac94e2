import { authenticateApiKey } from '../auth/api-keys.js';
import { db } from '../db/client.js';
import type { ApiKeyRecord, ApiKeyScope } from '../db/models/api-keys.js';
import { touchApiKeyUsage } from '../db/models/api-keys.js';
import type { Actor } from '../db/models/audit-log.js';
import { AppError } from '../errors.js';
import { log } from '../log.js';
import { actorFrom, type RequestContext } from './handler.js';
import { recordFailedAuth, refuseThrottledAuth } from './auth-throttle.js';
import { enforceRateLimit } from './rate-limit.js';

/**
 * The guard of every admin route: `const actor = await requireApiKey(ctx, 'refunds:write')`.
 * - no key, a malformed, unknown, expired or revoked key → 401 with one identical answer
 *   (same code, message and headers; only the request id differs);
 * - a valid key without the scope → 403;
 * - otherwise records the use (last_used_at, usage_count) and counts it against the key's own
 *   per-minute limit (429 when over), and returns the key as the Actor for audit entries.
 * Failed attempts are throttled per client address (lib/http/auth-throttle.ts).
 * The key travels as `Authorization: Bearer bf_live_...` (a bare `bf_...` value is accepted too).
 */

export interface ApiKeyActor extends Actor {
  type: 'admin';
  /** The api_keys row id: what audit entries record. */
  id: string;
  keyName: string;
  keyPrefix: string;
  scopes: ApiKeyScope[];
}

const UNAUTHORIZED_MESSAGE = 'A valid API key is required';

function unauthorized(): AppError {
  return new AppError('UNAUTHORIZED', UNAUTHORIZED_MESSAGE, { headers: { 'www-authenticate': 'Bearer realm="api"' } });
}

/** The presented credential: the Authorization value without its `Bearer ` scheme. */
export function presentedCredential(ctx: RequestContext): string | undefined {
  const header = ctx.request.headers.get('authorization')?.trim();
  if (!header) return undefined;
  const value = /^bearer\s+/i.test(header) ? header.replace(/^bearer\s+/i, '') : header;
  return value.length > 0 ? value : undefined;
}

/** True when the request carries something meant as an API key (its value starts with `bf_`). */
export function hasApiKeyCredential(ctx: RequestContext): boolean {
  return presentedCredential(ctx)?.startsWith('bf_') ?? false;
}

export function actorForKey(ctx: RequestContext, key: ApiKeyRecord): ApiKeyActor {
  return { ...actorFrom(ctx, 'admin'), id: key.id, keyName: key.name, keyPrefix: key.prefix, scopes: key.scopes };
}

/** Authenticates the request's key (401 when absent or not valid), records its use and applies its rate limit. */
export async function authenticateRequest(ctx: RequestContext): Promise<ApiKeyActor> {
  await refuseThrottledAuth(ctx);
  const presented = presentedCredential(ctx);
  if (presented === undefined || presented.length > 200) {
    log.info('api key refused', { requestId: ctx.requestId, reason: 'missing' });
    await recordFailedAuth(ctx);
    throw unauthorized();
  }
  const result = await authenticateApiKey(presented);
  if (!result.ok) {
    log.info('api key refused', { requestId: ctx.requestId, reason: result.reason });
    await recordFailedAuth(ctx);
    throw unauthorized();
  }
  const { key } = result;
  // Both settle before any 429 is thrown, so every use is recorded.
  const [touched, limited] = await Promise.allSettled([
    touchApiKeyUsage(db, key.id),
    enforceRateLimit(ctx, { bucket: `key:${key.id}`, limit: key.rateLimitPerMinute, windowSeconds: 60 }),
  ]);
  if (touched.status === 'rejected') throw touched.reason;
  if (limited.status === 'rejected') throw limited.reason;
  return actorForKey(ctx, key);
}

/** 403 unless the authenticated key holds `scope`. */
export function requireScope(actor: ApiKeyActor, scope: ApiKeyScope): void {
  if (!actor.scopes.includes(scope)) {
    throw new AppError('FORBIDDEN', `This API key does not have the ${scope} scope`);
  }
}

export async function requireApiKey(ctx: RequestContext, scope: ApiKeyScope): Promise<ApiKeyActor> {
  const actor = await authenticateRequest(ctx);
  requireScope(actor, scope);
  return actor;
}
