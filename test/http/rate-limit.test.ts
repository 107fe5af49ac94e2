import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '../../lib/config.js';
import { db } from '../../lib/db/client.js';
import { deleteExpiredWindows } from '../../lib/db/models/rate-limits.js';
import { defineRoute } from '../../lib/http/handler.js';
import {
  enforceRateLimit,
  hitRateLimit,
  setRateLimitCleanupChanceForTests,
  setRateLimitClockForTests,
} from '../../lib/http/rate-limit.js';
import { json } from '../../lib/http/response.js';
import { call } from '../support/http.js';

afterEach(() => {
  setRateLimitClockForTests();
  setRateLimitCleanupChanceForTests();
  delete process.env.RATE_LIMIT_ENABLED;
  resetConfigForTests();
});

const at = (iso: string) => () => new Date(iso);

/** A route limited twice (per IP 5/min, per "email" 3/min), like checkout. */
function limitedRoute(tag: string) {
  return defineRoute({
    POST: async (ctx) => {
      await enforceRateLimit(ctx, { bucket: `test:${tag}:ip:${ctx.ip ?? 'unknown'}`, limit: 5, windowSeconds: 60 });
      const email = ctx.url.searchParams.get('email');
      if (email) await enforceRateLimit(ctx, { bucket: `test:${tag}:email:${email}`, limit: 3, windowSeconds: 60 });
      return json({ ok: true });
    },
  });
}

describe('Postgres fixed-window rate limits', () => {
  it('counts concurrent hits atomically: exactly `limit` of 25 simultaneous requests pass', async () => {
    setRateLimitClockForTests(at('2031-01-01T00:00:30Z'));
    const bucket = `test:atomic:${randomUUID()}`;
    const results = await Promise.all(Array.from({ length: 25 }, () => hitRateLimit({ bucket, limit: 10, windowSeconds: 60 })));
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
    expect(results.map((r) => r.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  });

  it('puts RateLimit headers on allowed answers and 429 + Retry-After past the limit; windows reset', async () => {
    setRateLimitClockForTests(at('2031-01-01T00:01:15Z'));
    const route = limitedRoute(randomUUID());
    const headers = { 'x-forwarded-for': '198.51.100.7' };
    const first = await call(route.POST, { method: 'POST', headers });
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-limit')).toBe('5');
    expect(first.headers.get('ratelimit-remaining')).toBe('4');
    expect(first.headers.get('ratelimit-reset')).toBe('45');
    for (let i = 0; i < 4; i++) expect((await call(route.POST, { method: 'POST', headers })).status).toBe(200);
    const sixth = await call(route.POST, { method: 'POST', headers });
    expect(sixth.status).toBe(429);
    expect(sixth.body.error.code).toBe('RATE_LIMITED');
    // Sliding window: 45 s to the window's end, then 20 s more until the 6 hits weigh ≤ 4 (6 × 40/60).
    expect(sixth.headers.get('retry-after')).toBe('65');
    expect(sixth.headers.get('ratelimit-remaining')).toBe('0');
    // Another IP is not affected.
    expect((await call(route.POST, { method: 'POST', headers: { 'x-forwarded-for': '198.51.100.8' } })).status).toBe(200);
    // Right after the window edge the previous window still counts (issue 18: no 2 × limit burst at the edge).
    setRateLimitClockForTests(at('2031-01-01T00:02:00Z'));
    const atEdge = await call(route.POST, { method: 'POST', headers });
    expect(atEdge.status).toBe(429);
    expect(atEdge.headers.get('retry-after')).toBe('30'); // 6 × 30/60 + 1 (+1) ≤ 5
    setRateLimitClockForTests(at('2031-01-01T00:02:30Z'));
    expect((await call(route.POST, { method: 'POST', headers })).status).toBe(200);
  });

  it('reports the tightest of several limits in the headers', async () => {
    setRateLimitClockForTests(at('2031-01-01T00:03:05Z'));
    const route = limitedRoute(randomUUID());
    const res = await call(route.POST, {
      method: 'POST',
      headers: { 'x-forwarded-for': '198.51.100.9' },
      query: { email: 'a@example.org' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-limit')).toBe('3');
    expect(res.headers.get('ratelimit-remaining')).toBe('2');
    for (let i = 0; i < 2; i++) {
      await call(route.POST, {
        method: 'POST',
        headers: { 'x-forwarded-for': `198.51.100.${10 + i}` },
        query: { email: 'a@example.org' },
      });
    }
    const fourth = await call(route.POST, {
      method: 'POST',
      headers: { 'x-forwarded-for': '198.51.100.20' },
      query: { email: 'a@example.org' },
    });
    expect(fourth.status).toBe(429);
  });

  it('is switched off by RATE_LIMIT_ENABLED=false (no counting, no headers)', async () => {
    process.env.RATE_LIMIT_ENABLED = 'false';
    resetConfigForTests();
    setRateLimitClockForTests(at('2031-01-01T00:04:05Z'));
    const tag = randomUUID();
    const route = limitedRoute(tag);
    for (let i = 0; i < 8; i++) {
      const res = await call(route.POST, { method: 'POST', headers: { 'x-forwarded-for': '198.51.100.30' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBeNull();
    }
    const rows = await db.queryMany('SELECT 1 FROM rate_limit_counters WHERE bucket LIKE $1', [`test:${tag}:%`]);
    expect(rows).toHaveLength(0);
  });

  it('deletes ended windows opportunistically, without a scheduler, and keeps live ones', async () => {
    const bucket = `test:cleanup:${randomUUID()}`;
    setRateLimitClockForTests(at('2001-06-01T00:00:10Z'));
    await hitRateLimit({ bucket, limit: 5, windowSeconds: 60 });
    setRateLimitClockForTests(at('2001-06-01T00:10:10Z'));
    setRateLimitCleanupChanceForTests(1);
    // This hit (10 minutes later) also cleans up: the old window goes, its own stays. (Times are in
    // 2001 so this cleanup cannot touch the live windows of tests running in parallel.)
    await hitRateLimit({ bucket, limit: 5, windowSeconds: 60 });
    const rows = await db.queryMany<{ windowStart: Date }>(
      'SELECT window_start AS "windowStart" FROM rate_limit_counters WHERE bucket = $1',
      [bucket],
    );
    expect(rows.map((r) => r.windowStart.toISOString())).toEqual(['2001-06-01T00:10:00.000Z']);
    expect(await deleteExpiredWindows(db, new Date('2001-06-01T00:00:00Z'))).toBe(0);
  });

  it('keeps bucket names bounded and printable whatever the input', async () => {
    setRateLimitClockForTests(at('2031-01-01T00:05:05Z'));
    const state = await hitRateLimit({
      bucket: `test:weird:${'\u0000\n'.repeat(10)}${'x'.repeat(1000)}`,
      limit: 1,
      windowSeconds: 60,
    });
    expect(state.allowed).toBe(true);
  });
});
