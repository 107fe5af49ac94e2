import { describe, expect, it } from 'vitest';
import * as whoami from '../../api/admin/whoami.js';
import { revokeApiKey } from '../../lib/auth/api-keys.js';
import { call } from '../support/http.js';
import { makeExpiredKey, makeKey, makeRevokedKey, TEST_ACTOR, withoutRequestId } from '../support/staff.js';

const ask = (headers: Record<string, string> = {}) => call(whoami.GET, { path: '/api/admin/whoami', headers });

describe('GET /api/admin/whoami', () => {
  it('any valid key learns its name, prefix, scopes and expiry (never its secret or hash)', async () => {
    const expiresAt = new Date(Date.now() + 86_400_000);
    const made = await makeKey(['refunds:write', 'orders:read'], { name: 'front desk', expiresAt });
    const response = await ask(made.header);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('private, no-store');
    expect(response.body).toEqual({
      apiKey: {
        id: made.id,
        name: 'front desk',
        prefix: made.key.split('_').slice(0, 3).join('_'),
        environment: 'test',
        scopes: ['orders:read', 'refunds:write'],
        expiresAt: expiresAt.toISOString(),
      },
    });
    const text = JSON.stringify(response.body);
    expect(text).not.toContain(made.key);
    expect(text).not.toMatch(/hash/i);
  });

  it('a key without any admin scope in particular still gets an answer (no scope needed)', async () => {
    const made = await makeKey(['payments:read']);
    const response = await ask(made.header);
    expect(response.status).toBe(200);
    expect(response.body.apiKey).toMatchObject({ scopes: ['payments:read'], expiresAt: null });
  });

  it('no key, a malformed, revoked or expired key: the same 401', async () => {
    const revoked = await makeRevokedKey(['orders:read']);
    const expired = await makeExpiredKey(['orders:read']);
    const answers = [
      await ask(),
      await ask({ authorization: 'Bearer bf_live_nope' }),
      await ask(revoked.header),
      await ask(expired.header),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    }
    const bodies = answers.map((a) => withoutRequestId(a.body));
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect(bodies[0]).toEqual({ error: { code: 'UNAUTHORIZED', message: 'A valid API key is required' } });
  });

  it('a key revoked after it signed in is refused on its next question', async () => {
    const made = await makeKey(['orders:read']);
    expect((await ask(made.header)).status).toBe(200);
    await revokeApiKey(made.id, TEST_ACTOR);
    expect((await ask(made.header)).status).toBe(401);
  });

  it('answers only GET', async () => {
    const made = await makeKey(['orders:read']);
    const response = await call(whoami.POST, { method: 'POST', path: '/api/admin/whoami', headers: made.header, body: {} });
    expect(response.status).toBe(405);
  });
});
