import { describe, expect, it } from 'vitest';
import { db, transaction } from '../../lib/db/client.js';
import { startCountingRoundTrips } from '../support/round-trips.js';

// The counter the round-trip budget tests rely on (test/support/round-trips.ts): it must see every statement.
describe('round-trip counter', () => {
  it('counts each statement of the pool and of a transaction, and splits at a mark', async () => {
    await db.query('SELECT 1'); // the pool exists before counting
    const trips = startCountingRoundTrips();
    try {
      await db.query('SELECT 1');
      trips.mark('middle');
      await transaction(async (tx) => {
        await tx.query('SELECT 2');
        await tx.query('SELECT $1::int', [3]);
      });
    } finally {
      trips.stop();
    }
    expect(trips.statements()).toEqual([
      'SELECT 1',
      '-- mark: middle',
      'BEGIN ISOLATION LEVEL READ COMMITTED',
      'SELECT 2',
      'SELECT $1::int',
      'COMMIT',
    ]);
    expect(trips.count()).toBe(5);
    expect(trips.countBefore('middle')).toBe(1);
    expect(trips.countAfter('middle')).toBe(4);
    await db.query('SELECT 1');
    expect(trips.count()).toBe(5); // stopped
  });
});
