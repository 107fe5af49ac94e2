import { beforeAll, describe, expect, it } from 'vitest';
import * as revenueRoute from '../../api/analytics/revenue.js';
import * as summaryRoute from '../../api/analytics/summary.js';
import { db } from '../../lib/db/client.js';
import { makeKey, type TestKey } from '../support/staff.js';
import { createEvent } from '../support/factories.js';
import { call } from '../support/http.js';

/** Bad report input: 400 naming the field, nothing else; scopes enforced. */

let key: TestKey;
let slug: string;

beforeAll(async () => {
  key = await makeKey(['analytics:read']);
  slug = (await createEvent()).slug;
});

async function revenue(query: Record<string, string>) {
  return await call(revenueRoute.GET, { path: '/api/analytics/revenue', query: { event: slug, ...query }, headers: key.header });
}

function expectField(res: { status: number; body: any }, field: string, message: RegExp) {
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('VALIDATION_ERROR');
  expect(res.body.error.message).toContain(field);
  expect(res.body.error.requestId).toMatch(/^req_/);
  const fields = res.body.error.details.fields as { path: string; message: string }[];
  expect(fields.map((f) => f.path)).toEqual([field]);
  expect(fields[0]?.message).toMatch(message);
}

describe('analytics report parameters', () => {
  it('refuses an unknown groupBy, naming it', async () => {
    expectField(await revenue({ groupBy: 'fortnight' }), 'groupBy', /hour|day|week|month/);
  });

  it('refuses from after to, naming from', async () => {
    expectField(await revenue({ from: '2026-03-10', to: '2026-03-01' }), 'from', /after to/);
    const res = await call(summaryRoute.GET, {
      path: '/api/analytics/summary',
      query: { event: slug, from: '2026-03-10T00:00:00Z', to: '2026-03-01T00:00:00Z' },
      headers: key.header,
    });
    expectField(res, 'from', /after to/);
  });

  it('refuses more than 400 days at hour grain, but not at day grain', async () => {
    expectField(await revenue({ groupBy: 'hour', from: '2025-01-01', to: '2026-02-10' }), 'groupBy', /400 days/);
    expect((await revenue({ groupBy: 'hour', from: '2025-01-01', to: '2026-02-04' })).status).toBe(200);
    expect((await revenue({ groupBy: 'day', from: '2025-01-01', to: '2026-02-10' })).status).toBe(200);
  });

  it('refuses an unknown time zone, naming tz', async () => {
    expectField(await revenue({ tz: 'Mars/Olympus_Mons' }), 'tz', /time zone/);
    expectField(await revenue({ tz: "America/Denver'; DROP TABLE orders; --" }), 'tz', /time zone/);
    const ok = await revenue({ tz: 'Europe/Madrid', from: '2026-03-29', to: '2026-03-29' });
    expect(ok.status).toBe(200);
    expect(ok.body.points).toHaveLength(1);
    expect(ok.body.points[0].hours).toBe(23);
  });

  it('refuses malformed dates, unknown parameters and formats; 404 for an unknown event', async () => {
    expectField(await revenue({ from: '2026-02-30' }), 'from', /ISO date/);
    expectField(await revenue({ to: 'yesterday' }), 'to', /ISO date/);
    expectField(await revenue({ format: 'xlsx' }), 'format', /json|csv/);
    expectField(await revenue({ provider: 'square' }), 'provider', /stripe|paypal/);
    const unknown = await revenue({ colour: 'blue' });
    expect(unknown.status).toBe(400);
    const missing = await call(revenueRoute.GET, {
      path: '/api/analytics/revenue',
      query: { event: 'no-such-event-here' },
      headers: key.header,
    });
    expect(missing.status).toBe(404);
  });

  it('needs analytics:read', async () => {
    const other = await makeKey(['orders:read', 'payments:read']);
    const res = await call(summaryRoute.GET, { path: '/api/analytics/summary', query: { event: slug }, headers: other.header });
    expect(res.status).toBe(403);
    const none = await call(summaryRoute.GET, { path: '/api/analytics/summary', query: { event: slug } });
    expect(none.status).toBe(401);
  });

  it('refuses an event time zone PostgreSQL does not know', async () => {
    const event = await createEvent();
    await expect(db.query('UPDATE events SET timezone = $2 WHERE id = $1', [event.id, 'Nowhere/Atlantis'])).rejects.toThrow(
      /unknown time zone/,
    );
    await db.query('UPDATE events SET timezone = $2 WHERE id = $1', [event.id, 'America/New_York']);
  });
});
