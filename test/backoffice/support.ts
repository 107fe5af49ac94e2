import { randomUUID } from 'node:crypto';
import { type ApiKeyScope, createApiKey, revokeApiKey } from '../../lib/auth/api-keys.js';
import type { Actor } from '../../lib/db/models/audit-log.js';

/** Test helpers for the back office: real keys made by the real domain functions. */

export const TEST_ACTOR: Actor = { type: 'system', id: 'test-suite' };

export interface TestKey {
  key: string;
  id: string;
  header: Record<string, string>;
}

export async function makeKey(
  scopes: readonly ApiKeyScope[],
  options: { expiresAt?: Date; rateLimitPerMinute?: number; name?: string } = {},
): Promise<TestKey> {
  const created = await createApiKey(
    {
      name: options.name ?? `test ${scopes.join(' ')} ${randomUUID().slice(0, 6)}`,
      scopes,
      environment: 'test',
      expiresAt: options.expiresAt,
      rateLimitPerMinute: options.rateLimitPerMinute ?? 100_000,
    },
    TEST_ACTOR,
  );
  return { key: created.key, id: created.record.id, header: { authorization: `Bearer ${created.key}` } };
}

export async function makeExpiredKey(scopes: readonly ApiKeyScope[]): Promise<TestKey> {
  return await makeKey(scopes, { expiresAt: new Date(Date.now() - 60_000) });
}

export async function makeRevokedKey(scopes: readonly ApiKeyScope[]): Promise<TestKey> {
  const made = await makeKey(scopes);
  await revokeApiKey(made.id, TEST_ACTOR);
  return made;
}

export const ALL_SCOPES: readonly ApiKeyScope[] = [
  'orders:read',
  'payments:read',
  'refunds:write',
  'analytics:read',
  'webhooks:admin',
  'keys:admin',
];

/** The error body without its per-request id. */
export function withoutRequestId(body: { error?: { requestId?: string } } | undefined): unknown {
  if (!body?.error) return body;
  const { requestId: _id, ...rest } = body.error;
  return { error: rest };
}
