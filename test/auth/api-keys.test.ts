import { afterEach, describe, expect, it } from 'vitest';
import * as keysRoute from '../../api/admin/api-keys.js';
import * as keyRoute from '../../api/admin/api-keys/[id].js';
import * as audit from '../../api/audit.js';
import { authenticateApiKey, generateApiKey, hashApiKey, parseApiKey, parseExpiry } from '../../lib/auth/api-keys.js';
import { db } from '../../lib/db/client.js';
import { findApiKeyById } from '../../lib/db/models/api-keys.js';
import { setRateLimitClockForTests } from '../../lib/http/rate-limit.js';
import { neverCleanUpRateLimits } from '../support/rate-limit-clock.js';
import { call } from '../support/http.js';
import { makeExpiredKey, makeKey, makeRevokedKey } from '../support/staff.js';

neverCleanUpRateLimits();

afterEach(() => setRateLimitClockForTests());

describe('API key format and hashing', () => {
  it('generates bf_live_/bf_test_ keys whose prefix the schema accepts and whose hash is SHA-256 hex', () => {
    const live = generateApiKey('live');
    const test = generateApiKey('test');
    expect(live.key).toMatch(/^bf_live_[A-Za-z0-9]{16}_[A-Za-z0-9]{43}$/);
    expect(test.key).toMatch(/^bf_test_[A-Za-z0-9]{16}_[A-Za-z0-9]{43}$/);
    expect(live.key.startsWith(`${live.prefix}_`)).toBe(true);
    expect(live.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(live.secretHash).toBe(hashApiKey(live.key));
    expect(parseApiKey(live.key)).toEqual({ prefix: live.prefix, environment: 'live' });
    expect(generateApiKey('live').key).not.toBe(live.key);
  });

  it('refuses malformed keys before touching the database', () => {
    for (const bad of [
      '',
      'bf_live_',
      'bf_prod_abcdefghijklmnop_x',
      `bf_live_${'a'.repeat(16)}_${'b'.repeat(42)}`,
      'sk_test_123',
    ]) {
      expect(parseApiKey(bad)).toBeUndefined();
    }
  });

  it('parses expiries as durations or ISO dates and refuses the past', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(parseExpiry('30d', now)?.toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(parseExpiry('12h', now)?.toISOString()).toBe('2026-01-01T12:00:00.000Z');
    expect(parseExpiry('2026-02-01', now)?.toISOString()).toBe('2026-02-01T00:00:00.000Z');
    expect(parseExpiry(undefined, now)).toBeUndefined();
    expect(() => parseExpiry('2025-01-01', now)).toThrow();
    expect(() => parseExpiry('soon', now)).toThrow();
  });
});

describe('authenticateApiKey', () => {
  it('accepts a valid key and tells apart (for logs only) unknown, wrong-secret, expired and revoked ones', async () => {
    const valid = await makeKey(['orders:read']);
    const ok = await authenticateApiKey(valid.key);
    expect(ok.ok && ok.key.id).toBe(valid.id);

    const unknown = generateApiKey('test').key;
    expect(await authenticateApiKey(unknown)).toEqual({ ok: false, reason: 'unknown' });
    // Right prefix, wrong secret.
    const wrongSecret = `${valid.key.slice(0, -1)}${valid.key.endsWith('A') ? 'B' : 'A'}`;
    expect(await authenticateApiKey(wrongSecret)).toEqual({ ok: false, reason: 'unknown' });
    expect(await authenticateApiKey('bf_live_short')).toEqual({ ok: false, reason: 'malformed' });
    expect(await authenticateApiKey((await makeExpiredKey(['orders:read'])).key)).toEqual({ ok: false, reason: 'expired' });
    expect(await authenticateApiKey((await makeRevokedKey(['orders:read'])).key)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('stores only the prefix and the hash, never the key', async () => {
    const made = await makeKey(['orders:read']);
    const row = await db.queryOne<Record<string, unknown>>('SELECT * FROM api_keys WHERE id = $1', [made.id]);
    expect(JSON.stringify(row)).not.toContain(made.key);
    expect(row?.secret_hash).toBe(hashApiKey(made.key));
  });
});

describe('admin key endpoints (scope keys:admin)', () => {
  it('creates a key (shown once), lists it without the secret, and revokes it for good', async () => {
    // It grants orders:read + refunds:write, so it must hold them (a key never grants more than it has).
    const admin = await makeKey(['keys:admin', 'orders:read', 'refunds:write']);
    const created = await call(keysRoute.POST, {
      method: 'POST',
      path: '/api/admin/api-keys',
      headers: { ...admin.header, 'user-agent': 'vitest-admin' },
      body: { name: 'Box office', scopes: ['orders:read', 'refunds:write'], expires: '30d' },
    });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^bf_live_/);
    expect(created.body.apiKey).toMatchObject({ name: 'Box office', scopes: ['orders:read', 'refunds:write'], status: 'active' });
    const expiresIn = Date.parse(created.body.apiKey.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(29 * 86_400_000);
    expect(expiresIn).toBeLessThanOrEqual(30 * 86_400_000);
    const newKey: string = created.body.key;
    const id: string = created.body.apiKey.id;

    const listed = await call(keysRoute.GET, { path: '/api/admin/api-keys', headers: admin.header });
    expect(listed.status).toBe(200);
    expect(listed.text).not.toContain(newKey);
    expect(listed.text).not.toContain(hashApiKey(newKey));
    expect(listed.body.data.find((k: { id: string }) => k.id === id)).toMatchObject({ prefix: newKey.slice(0, 24) });

    // The new key works for what it was given.
    expect((await authenticateApiKey(newKey)).ok).toBe(true);

    const revoked = await call(keyRoute.DELETE, {
      method: 'DELETE',
      path: `/api/admin/api-keys/${id}`,
      query: { id },
      headers: admin.header,
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body.apiKey.status).toBe('revoked');
    expect(await authenticateApiKey(newKey)).toEqual({ ok: false, reason: 'revoked' });
    const again = await call(keyRoute.DELETE, {
      method: 'DELETE',
      path: `/api/admin/api-keys/${id}`,
      query: { id },
      headers: admin.header,
    });
    expect(again.status).toBe(404);

    // Creation and revocation are in the audit trail with the acting key, IP and user agent.
    const trail = await call(audit.GET, { path: '/api/audit', query: { entity: 'api_key', id }, headers: admin.header });
    expect(trail.status).toBe(200);
    expect(trail.body.data.map((e: { action: string }) => e.action)).toEqual(['api_key.created', 'api_key.revoked']);
    expect(trail.body.data[0].actor).toMatchObject({ type: 'admin', id: admin.id, userAgent: 'vitest-admin' });
  });

  it('rejects extra fields (mass assignment), unknown scopes and bad expiries', async () => {
    const admin = await makeKey(['keys:admin']);
    const bodies = [
      { name: 'x', scopes: ['orders:read'], usageCount: 0 },
      { name: 'x', scopes: ['orders:read'], revokedAt: null },
      { name: 'x', scopes: ['orders:read'], prefix: 'bf_live_AAAAAAAAAAAAAAAA' },
      { name: 'x', scopes: ['orders:read'], secretHash: 'a'.repeat(64) },
      { name: 'x', scopes: ['superuser'] },
      { name: 'x', scopes: [] },
      { name: '', scopes: ['orders:read'] },
      { name: 'x', scopes: ['orders:read'], expires: 'tomorrow-ish' },
      { name: 'x', scopes: ['orders:read'], expires: '2001-01-01' },
    ];
    for (const body of bodies) {
      const res = await call(keysRoute.POST, { method: 'POST', path: '/api/admin/api-keys', headers: admin.header, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
  });

  it('refuses a malformed key id with 400 and an unknown one with 404', async () => {
    const admin = await makeKey(['keys:admin']);
    const bad = await call(keyRoute.GET, { path: '/api/admin/api-keys/x', query: { id: "1' OR '1'='1" }, headers: admin.header });
    expect(bad.status).toBe(400);
    const missing = '00000000-0000-4000-8000-000000000000';
    const none = await call(keyRoute.GET, {
      path: `/api/admin/api-keys/${missing}`,
      query: { id: missing },
      headers: admin.header,
    });
    expect(none.status).toBe(404);
  });
});

describe('usage and the per-key rate limit', () => {
  it('counts uses, sets last_used_at, and answers 429 with Retry-After past the key limit', async () => {
    setRateLimitClockForTests(() => new Date('2031-03-03T10:00:10Z'));
    const key = await makeKey(['keys:admin'], { rateLimitPerMinute: 3 });
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 4; i++) {
      last = await call(keysRoute.GET, { path: '/api/admin/api-keys', headers: key.header });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last?.body.error.code).toBe('RATE_LIMITED');
    expect(last?.headers.get('retry-after')).toBe('80'); // sliding window: 50 s to the window's end + 30 s until 4 × 30/60 + 1 ≤ 3
    expect(last?.headers.get('ratelimit-limit')).toBe('3');
    expect(last?.headers.get('ratelimit-remaining')).toBe('0');
    const row = await findApiKeyById(db, key.id);
    expect(row?.usageCount).toBe(4);
    expect(row?.lastUsedAt).toBeInstanceOf(Date);

    // Once the sliding window has moved past those hits, the key starts afresh.
    setRateLimitClockForTests(() => new Date('2031-03-03T10:02:05Z'));
    const next = await call(keysRoute.GET, { path: '/api/admin/api-keys', headers: key.header });
    expect(next.status).toBe(200);
    expect(next.headers.get('ratelimit-remaining')).toBe('2');
  });
});
