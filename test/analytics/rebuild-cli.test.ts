import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { foldRollups } from '../../lib/analytics/fold-rollups.js';
import { db } from '../../lib/db/client.js';
import { makeOrder } from '../support/books.js';
import { createEventWithTicketTypes } from '../support/factories.js';

const run = promisify(execFile);
const env = { ...process.env, DATABASE_URL: inject('databaseUrl'), LOG_LEVEL: 'silent' };

describe('npm run analytics:rebuild (scripts/analytics-rebuild.ts)', () => {
  it('recomputes the rollups from the ledger and says how long it took', async () => {
    const { event, types } = await createEventWithTicketTypes({ pass: { priceCents: 4_321, slidingScale: true } });
    const order = await makeOrder({
      eventId: event.id,
      provider: 'stripe',
      percent: 30,
      items: [{ ticketTypeId: types.pass.id, unitPriceCents: 4_321, quantity: 3, slidingScale: true }],
      at: new Date('2026-05-01T18:30:00Z'),
      feeCents: 406,
    });
    const { stdout } = await run('npx', ['tsx', 'scripts/analytics-rebuild.ts'], { env });
    expect(stdout).toMatch(/^rebuilt analytics rollups in \d+\.\d\d s: \d+ ledger rows, \d+ count deltas \(watermark \d+\)$/m);
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
    expect(result).toMatchObject({ moneyRows: expect.any(Number), countRows: expect.any(Number), ms: expect.any(Number) });
    // The order's rows are in the rollups (hourly and daily) once no older transaction of another test
    // file still runs (the watermark never passes one): usually at once, else after a fold or two.
    let hourly: { captured: number; fees: number } | undefined;
    for (let attempt = 0; attempt < 100; attempt++) {
      hourly = await db.queryOne<{ captured: number; fees: number }>(
        `SELECT sum(captured_cents)::int AS captured, sum(fee_cents)::int AS fees FROM analytics_money_hourly WHERE event_id = $1`,
        [event.id],
      );
      if (hourly?.captured === order.totalCents) break;
      await foldRollups();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const daily = await db.queryOne<{ captured: number; day: string }>(
      `SELECT sum(captured_cents)::int AS captured, min(day)::text AS day FROM analytics_money_daily WHERE event_id = $1`,
      [event.id],
    );
    expect(hourly).toEqual({ captured: order.totalCents, fees: 406 });
    expect(daily).toEqual({ captured: order.totalCents, day: '2026-05-01' });
  });
});
